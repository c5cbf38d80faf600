# Each target sets up its own virtual environment; `make demo` and `make test` are the README's quick start.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

$(STAMP): pyproject.toml constraints.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e ".[test]"
	touch $(STAMP)

.PHONY: setup demo test test-long bench
setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/campaign-lab run double11_beauty --out results/double11_beauty

# PYTEST_ARGS='-m "not long"' also runs the slow statistical tests (CI does). The suite runs
# on PYTEST_WORKERS processes (pytest-xdist, tests handed out one by one; every test writes
# under its own tmp_path and binds port 0); PYTEST_WORKERS=0 runs it in this process.
PYTEST_WORKERS ?= 2
test: $(STAMP)
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

# The interval-coverage studies (20 synthetic data sets per model, ~10 min).
test-long: $(STAMP)
	$(BIN)/python -m pytest -q -m long

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_engine.py
