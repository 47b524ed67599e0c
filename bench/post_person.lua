-- wrk: each request registers a new person (a duplicate email would be a 409).
-- Arguments after `--`: a word unique to the run, then the department's id.

local counter = 0
local run = "run"
local department = "rd"
local thread_count = 0

function setup(thread)
  -- Each wrk thread has its own Lua state: its number keeps its emails apart.
  thread:set("thread_number", thread_count)
  thread_count = thread_count + 1
end

function init(args)
  run = (args[1] or run) .. "-" .. tostring(thread_number or 0)
  department = args[2] or department
end

function request()
  counter = counter + 1
  local body = string.format(
    '{"name":"Bench Person %d","email":"bench-%s-%d@example.com","department_id":"%s"}',
    counter, run, counter, department
  )
  return wrk.format("POST", nil, nil, body)
end
