"""The app served by ``campaign-lab app`` for the browser tests (``browser`` and
``serving`` are in tests/conftest.py)."""

import sys
from pathlib import Path

import pytest

from ...conftest import DROP_SHIM, free_port, serving


@pytest.fixture(scope="module")
def app_url(browser, tmp_path_factory):
    """``campaign-lab app`` on a preset at a small population, on a free port."""
    port = free_port()
    exe = Path(sys.executable).parent / "campaign-lab"
    url = f"http://127.0.0.1:{port}/"
    with serving([str(exe), "app", "food_group_buying", "--population", "1500", "--port",
                  str(port), "--workers", "2"], url,
                 tmp_path_factory.mktemp("app") / "server.log"):
        yield url


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
