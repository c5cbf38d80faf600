"""`make lab` gives JupyterLab a kernel that runs this project's environment and its app.

Runs the install-and-register half of `make lab` (`make lab-kernel`: JupyterLab into .venv,
the kernel "campaign-lab" registered in it), starts that kernel as JupyterLab would, and
displays the app in it.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

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
