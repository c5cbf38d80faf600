import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

import scenarios

DATA = Path(__file__).parent / "data"


def pytest_configure(config):
    """Each pytest-xdist worker runs on a core of its own: the lab's code sizes its process
    pools and NUTS chains by the cores it may use (``analysis.parallel.available_cores``),
    so two workers do not each start two chains on a 2-core machine."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if worker.startswith("gw") and hasattr(os, "sched_setaffinity"):
        cores = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cores[int(worker[2:]) % len(cores)]})


def _shared_data() -> Path:
    """The real data sets (shared/data): $CAMPAIGN_LAB_SHARED_DATA, else beside the clone."""
    candidates = [Path(os.environ["CAMPAIGN_LAB_SHARED_DATA"])] if os.environ.get(
        "CAMPAIGN_LAB_SHARED_DATA") else []
    candidates += [Path(__file__).resolve().parents[2] / "shared" / "data",
                   Path("/work/shared/data")]
    return next((c for c in candidates if c.is_dir()), candidates[-1])


SHARED_DATA = _shared_data()
MINI = DATA / "mini.toml"


def with_second_product(scenario: scenarios.Scenario, name: str = "premium",
                        price_factor: float = 3.0) -> scenarios.Scenario:
    """``scenario`` (every preset sells one product) with a second product like its first
    at ``price_factor`` times its list and reference price."""
    raw = scenario.model_dump(mode="json", exclude_none=True)
    first = raw["products"][0]
    second = {**first, "name": name, "list_price": price_factor * first["list_price"]}
    if "reference_price" in first:
        second["reference_price"] = price_factor * first["reference_price"]
    raw["products"].append(second)
    return scenarios.validate(raw)


@pytest.fixture
def mini():
    """The five-day test market (tests/data/mini.toml), optionally with overrides."""

    def make(**overrides):
        return scenarios.load(MINI, {k.replace("__", "."): v for k, v in overrides.items()})

    return make


# -- headless Chromium for the browser tests ---------------------------------------------------
# Chromium is Debian's (``apt-get install -y chromium``; ``.ci/run`` installs it): Playwright's
# own browser download is not reachable from our machines, so Playwright drives the system
# browser's executable. Without it the browser tests skip and say why.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
# Headless Chromium makes no real drag and drop: a DataTransfer built by a script has no
# file-system entries, which Solara's drop zone reads. This gives each dropped item the
# entry a real drop would have, so the rest of the path (the zone's upload, the server's
# on_file) is the one a user's drop takes.
DROP_SHIM = """DataTransferItem.prototype.webkitGetAsEntry = function () {
    const file = this.getAsFile(); return file && {isFile: true, file: (ok) => ok(file)}; };"""


def chromium() -> str | None:
    return os.environ.get("CAMPAIGN_LAB_CHROMIUM") or shutil.which("chromium")


@pytest.fixture(scope="session")
def browser():
    path = chromium()
    if path is None:
        pytest.skip("browser tests need Chromium: apt-get install -y chromium (CI's .ci/run "
                    "installs it), or set CAMPAIGN_LAB_CHROMIUM to its executable")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield b
        b.close()




def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(argv: list[str], url: str, log: Path, *, timeout: float = 90):
    """Run a server (``argv``) until ``url`` answers; stop it and its children after."""
    with log.open("w") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(url, timeout=2).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{argv[0]} did not start:\n" + log.read_text()) \
                        from None
                time.sleep(0.3)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        try:  # what the server started in its session (worker processes, kernels)
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
