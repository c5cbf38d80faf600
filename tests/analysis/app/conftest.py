"""Browser fixtures: the app served by ``campaign-lab app`` and headless Chromium.

Chromium is Debian's (``apt-get install -y chromium``; ``.ci/run`` installs it): Playwright's
own browser download is not reachable from our machines, so Playwright drives the system
browser's executable. Without it the browser tests skip and say why.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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


@pytest.fixture(scope="module")
def app_url(browser, tmp_path_factory):
    """``campaign-lab app`` on a preset at a small population, on a free port."""
    port = _free_port()
    log = tmp_path_factory.mktemp("app") / "server.log"
    exe = Path(sys.executable).parent / "campaign-lab"
    with log.open("w") as out:
        proc = subprocess.Popen([str(exe), "app", "food_group_buying", "--population", "1500",
                                 "--port", str(port), "--workers", "2"], stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(url, timeout=2).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the app did not start:\n" + log.read_text()) from None
                time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        try:  # the server's worker processes, started in its session
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@pytest.fixture
def page(browser, app_url):
    """A fresh page (a new session of the app) with the preset loaded."""
    context = browser.new_context(viewport={"width": 1500, "height": 1100},
                                  accept_downloads=True)
    context.add_init_script(DROP_SHIM)
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(app_url)
    page.locator(".cl-run").wait_for()
    yield page
    context.close()
