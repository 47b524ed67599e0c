"""The fixed-rate load generator, in a process of its own: `python -m bench.writer ...`.

It registers people at a steady rate whatever the answers' delays (open loop: each request
is due at its own time, so a slow answer does not slow the rate down), with at most
`in_flight` requests at once: a service that falls behind sees its requests queue here, as
they would at a gateway, rather than all at once. Prints one JSON object: each request's
start and end (wall clock, seconds), status and the person's id, how late the latest request
left, and what the generator itself used in CPU time.
"""

import argparse
import asyncio
import json
import resource
import sys
import time
import uuid

import aiohttp


async def write(
    base: str, token: str, rate: float, seconds: float, department: str, in_flight: int
) -> dict:
    headers = {"Authorization": f"Bearer {token}"}
    run = uuid.uuid4().hex[:10]
    results: list[tuple[float, float, int, str | None]] = []
    # aiohttp: about a fifth of httpx's CPU a request, which the services share the cores with.
    connector = aiohttp.TCPConnector(limit=in_flight)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(
        base, headers=headers, connector=connector, timeout=timeout
    ) as client:

        async def one(n: int) -> None:
            body = {
                "name": f"Lag Person {n}",
                "email": f"lag-{run}-{n}@example.com",
                "department_id": department,
            }
            async with slots:
                late.append(time.monotonic() - (begin + n / rate))
                started = time.time()
                try:
                    async with client.post("/v1/people", json=body) as answer:
                        status = answer.status
                        person = (await answer.json()).get("id") if status == 201 else None
                except (aiohttp.ClientError, TimeoutError):
                    status, person = 0, None
                results.append((started, time.time(), status, person))

        slots = asyncio.Semaphore(in_flight)
        tasks = []
        late: list[float] = []
        count = int(rate * seconds)
        begin = time.monotonic()
        for n in range(count):
            delay = begin + n / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(n)))
        await asyncio.gather(*tasks)
        elapsed = time.monotonic() - begin
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "requests": results,
        "seconds": elapsed,
        # How long after its due time the latest request could leave (its wait for a slot).
        "latest_start_seconds": max(late, default=0.0),
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base")
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--department", default="rd")
    parser.add_argument("--in-flight", type=int, default=16)
    args = parser.parse_args()
    token = sys.stdin.readline().strip()  # not on the command line, where `ps` shows it
    report = asyncio.run(
        write(args.base, token, args.rate, args.seconds, args.department, args.in_flight)
    )
    json.dump(report, sys.stdout)


if __name__ == "__main__":
    main()
