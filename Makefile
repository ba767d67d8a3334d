# `make test`, `make test-fast` and `make demo` each do their own set-up (.ci/setup.sh).
VENV := .venv
BIN := $(VENV)/bin
PYTEST := $(BIN)/python -m pytest -q -p no:cacheprovider

.PHONY: setup test test-fast test-system demo bench clean

setup:
	@bash .ci/setup.sh

test-fast: setup  ## the unit tier (under 2 minutes): the edit loop
	$(PYTEST) tests/unit

test: setup  ## the unit tier first, then the system tier (real servers, processes, Docker, Chromium)
	$(PYTEST) tests/unit
	$(PYTEST) tests/system

test-system: setup
	$(PYTEST) tests/system

demo: setup
	$(BIN)/locust-chaos run worker-crash --workers 2

bench: setup  ## every benchmark to its last `NAME: value` line, one at a time under the shared lock
	flock /tmp/lc-test.lock $(BIN)/python bench/harness_overhead.py
	flock /tmp/lc-test.lock $(BIN)/python bench/master_ingest.py
	flock /tmp/lc-test.lock $(BIN)/python bench/fault_clock.py
	flock /tmp/lc-test.lock $(BIN)/python bench/verify_history.py
	flock /tmp/lc-test.lock $(BIN)/python bench/proxy_overhead.py

clean:
	rm -rf $(VENV) reports .locust-chaos
