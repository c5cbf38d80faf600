"""`make lab` gives JupyterLab a kernel that runs this project's environment and its app.

Runs the install-and-register half of `make lab` (`make lab-kernel`: JupyterLab into .venv,
the kernel "campaign-lab" registered in it), starts that kernel as JupyterLab would, and
displays the app in it; then opens JupyterLab in Chromium and runs the app in a cell.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import free_port, serving

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv"


def test_make_lab_registers_a_kernel_that_imports_the_app():
    if Path(sys.prefix).resolve() != VENV.resolve():
        pytest.skip(f"runs in the project's .venv (make test), not {sys.prefix}")
    out = subprocess.run(["make", "lab-kernel"], cwd=ROOT, capture_output=True, text=True,
                         timeout=900)
    assert out.returncode == 0, out.stdout + out.stderr
    spec = VENV / "share" / "jupyter" / "kernels" / "campaign-lab" / "kernel.json"
    kernel = json.loads(spec.read_text())
    assert Path(kernel["argv"][0]).resolve() == Path(sys.executable).resolve()
    assert (VENV / "bin" / "jupyter-lab").is_file()

    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(kernel_name="campaign-lab")
    try:
        code = ("import sys, jupyterlab, analysis.app\n"
                "element = analysis.app.show('double11_beauty', population=500)\n"
                "print(sys.prefix, type(element).__name__)")
        printed = []
        reply = client.execute_interactive(code, timeout=180, output_hook=lambda m: printed.append(
            m["content"].get("text", "")) if m["msg_type"] == "stream" else None)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    assert reply["content"]["status"] == "ok", reply["content"]
    prefix, kind = "".join(printed).split()
    assert Path(prefix).resolve() == VENV.resolve() and kind == "Element"


@pytest.mark.browser
def test_the_app_runs_in_a_jupyterlab_cell(browser, tmp_path):
    """JupyterLab (as `make lab` opens it) runs the app in a cell on the registered kernel."""
    jupyter = VENV / "bin" / "jupyter"
    if not (VENV / "bin" / "jupyter-lab").is_file():
        pytest.skip("JupyterLab is not installed in .venv (make lab-kernel installs it)")
    notebook = {"cells": [{"cell_type": "code", "execution_count": None, "id": "app",
                           "metadata": {}, "outputs": [], "source": [
                               "import analysis.app\n",
                               "analysis.app.show('food_group_buying', population=500)"]}],
                "metadata": {"kernelspec": {"name": "campaign-lab", "language": "python",
                                            "display_name": "Campaign Lab (.venv)"}},
                "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "app.ipynb").write_text(json.dumps(notebook))
    port = free_port()
    url = f"http://127.0.0.1:{port}/lab/tree/app.ipynb?token=t"
    with serving([str(jupyter), "lab", "--no-browser", "--allow-root", f"--port={port}",
                  "--IdentityProvider.token=t", f"--ServerApp.root_dir={tmp_path}"],
                 url, tmp_path / "lab.log"):
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        page.set_default_timeout(90_000)
        page.goto(url)
        page.locator(".jp-Notebook .jp-Cell").first.click()
        page.keyboard.press("Shift+Enter")
        page.locator(".cl-run").click()
        page.locator(".cl-kpi-table").filter(has_text="variant 1").wait_for()
        page.screenshot(path=str(tmp_path / "jupyterlab.png"))
        page.close()
