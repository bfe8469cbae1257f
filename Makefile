# Jejak: `make run` serves a demo on SQLite, `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
JEJAK := $(BIN)/jejak

.PHONY: run test install bench-ledger clean test-faults-long test-fuzz simulate-ntt simulate-regency bench-growth

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is needed, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the declared dependencies change.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $@

install: $(VENV)/.installed

run: install
	$(JEJAK) migrate
	$(JEJAK) seed-demo --if-empty
	$(JEJAK) serve --host 127.0.0.1 --port 8000

# PYTEST_ARGS='-m "not slow"' is the quick loop: without the live-server, browser and
# benchmark tests (tests/conftest.py).
test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The crash and fault tests with a 100,000-scan batch (the suite uses 10,000); add
# DATABASE_URL=postgresql://... for the PostgreSQL run, as for `make test`.
test-faults-long: install
	JEJAK_FAULT_SCANS=100000 $(BIN)/python -m pytest tests/test_faults.py $(PYTEST_ARGS)

# schemathesis over the whole API as every role, at length, with a new seed each run
# (CI runs a short pass with a fixed one); JEJAK_FUZZ_SEED=N replays a run.
test-fuzz: install
	JEJAK_FUZZ_EXAMPLES=$${JEJAK_FUZZ_EXAMPLES:-50} JEJAK_FUZZ_COVERAGE=1 JEJAK_FUZZ_SEED=$${JEJAK_FUZZ_SEED:-random} \
		$(BIN)/python -m pytest tests/test_openapi_fuzz.py $(PYTEST_ARGS)

bench-ledger: install
	$(JEJAK) bench ledger

# The long runs behind docs/BENCHMARKS.md and docs/SCALING.md (CI runs only the tiny
# slice in tests/test_simulate.py). SIMULATE_DB is dropped and recreated: give it a
# database of its own. bench-growth builds a 10^6-entry log (on jejak_bench).
SIMULATE_DB ?= postgresql://postgres@127.0.0.1:5432/jejak_simulate
SIMULATE_KEYS ?= data/simulate-keys
simulate-ntt: install
	JEJAK_KEYS_DIR=$(SIMULATE_KEYS) $(JEJAK) simulate --province 53 --election pemilu --database $(SIMULATE_DB) --fresh

simulate-regency: install
	JEJAK_KEYS_DIR=$(SIMULATE_KEYS) $(JEJAK) simulate --regency 53.03 --election pemilu --database $(SIMULATE_DB) --fresh

bench-growth: install
	$(JEJAK) bench growth

clean:
	rm -rf $(VENV) data .pytest_cache .hypothesis
