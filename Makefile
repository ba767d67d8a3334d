# `make test`, `make test-fast` and `make demo` each do their own set-up (.ci/setup.sh).
VENV := .venv
BIN := $(VENV)/bin
PYTEST := $(BIN)/python -m pytest -q -p no:cacheprovider

.PHONY: setup test-setup test test-fast test-system demo bench clean

setup:  ## the venv and what the harness and its demo need (redis, PostgreSQL, nats-server)
	@SETUP=demo bash .ci/setup.sh

test-setup:  ## setup, plus what the tests need (RabbitMQ, Docker Engine, Chromium, nginx)
	@SETUP=test bash .ci/setup.sh

test-fast: test-setup  ## the unit tier (under 2 minutes): the edit loop
	$(PYTEST) tests/unit

test: test-setup  ## the unit tier first, then the system tier (real servers, processes, Docker, Chromium)
	$(PYTEST) tests/unit
	$(PYTEST) tests/system

test-system: test-setup
	$(PYTEST) tests/system

demo: setup
	$(BIN)/locust-chaos run worker-crash --workers 2

bench: test-setup  ## every benchmark, one after the other, each ending with its `NAME: value` line
	$(BIN)/python bench/harness_overhead.py
	$(BIN)/python bench/master_ingest.py
	$(BIN)/python bench/fault_clock.py
	$(BIN)/python bench/verify_history.py
	$(BIN)/python bench/proxy_overhead.py
	$(BIN)/python bench/heal_time.py

clean:
	rm -rf $(VENV) reports .locust-chaos
