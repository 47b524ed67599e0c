# Agora: `make run` serves the platform with demo data; `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .tools/bin/uv
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := .venv

GATEWAY_PORT ?= 8000
# With KAFKA_BOOTSTRAP_SERVERS set, the local broker is not started.
PROCESSES := $(if $(KAFKA_BOOTSTRAP_SERVERS),people strategy gateway,)

.PHONY: install run test test-unit test-integration lint clean

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

install: $(UV)
	$(UV) sync --frozen --quiet

run: install
	@mkdir -p data
	@echo "Agora is starting: http://127.0.0.1:$(GATEWAY_PORT)  (sign in as cco@example.com, password: demo)"
	SEED_DEMO=$${SEED_DEMO:-1} CONSUMER_SESSION_TIMEOUT_MS=$${CONSUMER_SESSION_TIMEOUT_MS:-6000} \
		GATEWAY_PORT=$(GATEWAY_PORT) $(UV) run --frozen honcho start -f Procfile $(PROCESSES)

test: install
	$(UV) run --frozen pytest

test-unit: install
	$(UV) run --frozen pytest tests/unit

test-integration: install
	$(UV) run --frozen pytest tests/integration tests/e2e

lint: install
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .

clean:
	rm -rf data
