# Agora: `make run` serves the platform with demo data; `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .tools/bin/uv
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := .venv

GATEWAY_PORT ?= 8000
# With KAFKA_BOOTSTRAP_SERVERS set, the local broker is not started.
PROCESSES := $(if $(KAFKA_BOOTSTRAP_SERVERS),people communities listening collaboration strategy gateway,)

.PHONY: install run test test-unit test-integration lint clean web

# The dashboard, built by npm when its sources or its lock changed (the gateway serves dist/).
WEB := gateway/web
WEB_SOURCES := $(shell find $(WEB)/src $(WEB)/public -type f 2>/dev/null) \
	$(addprefix $(WEB)/,index.html docs.html vite.config.ts tsconfig.json package.json)

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

install: $(UV)
	$(UV) sync --frozen --quiet

$(WEB)/node_modules/.package-lock.json: $(WEB)/package-lock.json
	cd $(WEB) && npm ci --no-audit --no-fund --loglevel=error

$(WEB)/dist/index.html: $(WEB)/node_modules/.package-lock.json $(WEB_SOURCES)
	cd $(WEB) && npm run build

web: $(WEB)/dist/index.html

run: install web
	@mkdir -p data
	@echo "Agora is starting: http://127.0.0.1:$(GATEWAY_PORT)  (sign in as cco@example.com, password: demo)"
	SEED_DEMO=$${SEED_DEMO:-1} CONSUMER_SESSION_TIMEOUT_MS=$${CONSUMER_SESSION_TIMEOUT_MS:-6000} \
		GATEWAY_PORT=$(GATEWAY_PORT) $(UV) run --frozen honcho start -f Procfile $(PROCESSES)

# Four pytest workers: most tests wait on a broker or a process, so two cores go further.
test: install web
	$(UV) run --frozen pytest -n 4 --dist load

test-unit: install
	$(UV) run --frozen pytest tests/unit

test-integration: install web
	$(UV) run --frozen pytest tests/integration tests/e2e

lint: install
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .

.PHONY: test-faults
# The fault tests in full: more iterations, longer faults; `make test` runs them briefly. Each
# prints the oracle's table (also kept in test-results/faults/).
test-faults: install web
	FAULTS=full $(UV) run --frozen pytest tests/faults

.PHONY: asyncapi
# docs/asyncapi.yaml, from the services' event registries (a test checks it is current).
asyncapi: install
	$(UV) run --frozen python scripts/asyncapi.py

.PHONY: bench
# The performance report (bench/results/latest.md and .json), each figure against a ceiling
# measured in the same run; about 5 minutes. The load generator, wrk, is Debian's package.
bench: install
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
		apt-get install -y -qq wrk >/dev/null; } || { echo "bench needs wrk: apt-get install -y wrk"; exit 1; }
	$(UV) run --frozen python -m bench

clean:
	rm -rf data
