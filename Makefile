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

.PHONY: setup demo test test-long bench lab lab-kernel app
setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/campaign-lab run double11_beauty --out results/double11_beauty

# PYTEST_ARGS='-m "not long"' also runs the slow statistical tests (CI does). The suite runs
# on PYTEST_WORKERS processes (pytest-xdist; idle workers steal queued tests; every test writes
# under its own tmp_path and binds port 0); PYTEST_WORKERS=0 runs it in this process.
PYTEST_WORKERS ?= 2
test: $(STAMP)
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

# The interval-coverage studies (20 synthetic data sets per model, ~10 min).
test-long: $(STAMP)
	$(BIN)/python -m pytest -q -m long

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_engine.py

# JupyterLab on notebooks/ with this project's .venv as the kernel "Campaign Lab".
# lab-kernel installs JupyterLab into .venv and registers the kernel (what the tests check);
# lab also opens the server.
KERNEL := campaign-lab
LAB_STAMP := $(VENV)/.lab-installed

$(LAB_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -c constraints.txt -e ".[test,notebook]"
	touch $(LAB_STAMP)

lab-kernel: $(LAB_STAMP)
	$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Campaign Lab (.venv)"

lab: lab-kernel
	$(BIN)/jupyter lab --notebook-dir=notebooks

# The what-if app in the browser (http://127.0.0.1:8765/).
app: $(STAMP)
	$(BIN)/campaign-lab app
