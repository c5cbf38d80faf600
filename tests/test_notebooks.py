"""Every notebook in notebooks/ runs top to bottom without an error."""

import os
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))
QUICK = {"01_what_if.ipynb", "02_kol_vs_koc.ipynb"}  # the others take 30-60 s each (smoke size)
LONG = {"04_budget_plans.ipynb", "05_attribution.ipynb", "07_lift_tests.ipynb"}
"""Run by ``make test-long`` only: 60-75 s each on 2 cores, what kept CI over 15 minutes; their
commands (optimize, attribute, experiment) are run end to end by the CLI tests."""


def test_there_are_notebooks():
    assert NOTEBOOKS


@pytest.fixture(scope="module")
def kernel_env(tmp_path_factory):
    """A python3 kernelspec that runs this interpreter (the project's venv), with the
    notebooks' smoke-test switch on: every cell runs at a small size."""
    from ipykernel.kernelspec import install

    prefix = tmp_path_factory.mktemp("kernels")
    install(prefix=str(prefix), kernel_name="python3")
    old = {k: os.environ.get(k) for k in ("JUPYTER_PATH", "MPLBACKEND", "CAMPAIGN_LAB_SMOKE_TEST")}
    os.environ["JUPYTER_PATH"] = str(prefix / "share" / "jupyter")
    os.environ["MPLBACKEND"] = "Agg"
    os.environ["CAMPAIGN_LAB_SMOKE_TEST"] = "1"
    yield sys.executable
    for key, value in old.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.mark.parametrize("path", [
    p if p.name in QUICK else pytest.param(
        p, marks=pytest.mark.long if p.name in LONG else pytest.mark.slow) for p in NOTEBOOKS
], ids=lambda p: p.name)
def test_notebook_executes(path, kernel_env):
    nb = nbformat.read(path, as_version=4)
    errors = execute(nb, path.parent)
    assert not errors, errors
    assert any(o.get("output_type") in ("display_data", "execute_result")
               for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))


def execute(nb, folder: Path) -> list[str]:
    """Run every cell of ``nb`` (on past an error) and return its errors, each as
    "cell N: ErrorName: message"."""
    client = NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(folder)}})
    client.execute()
    return [f"cell {i}: {o['ename']}: {o['evalue']}" for i, c in enumerate(nb.cells)
            if c.cell_type == "code" for o in c.get("outputs", [])
            if o.get("output_type") == "error"]


def test_a_failing_cell_is_reported(kernel_env, tmp_path):
    """The check above sees an error in any cell, also when later cells run."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1"),
                                         nbformat.v4.new_code_cell("1 / 0"),
                                         nbformat.v4.new_code_cell("x + 1")])
    assert execute(nb, tmp_path) == ["cell 1: ZeroDivisionError: division by zero"]
