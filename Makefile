# `make test` and `make demo` each do their own set-up (.ci/setup.sh).
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup test demo bench clean

setup:
	@bash .ci/setup.sh

test: setup
	$(BIN)/python -m pytest -q -p no:cacheprovider

demo: setup
	$(BIN)/locust-chaos run worker-crash --workers 2

bench: setup
	$(BIN)/python bench/verify_history.py
	$(BIN)/python bench/proxy_overhead.py

clean:
	rm -rf $(VENV) reports .locust-chaos
