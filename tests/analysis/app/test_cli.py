"""`campaign-lab app` refuses what it cannot serve before starting anything."""

import pytest

from analysis.cli import main

from ...conftest import MINI


@pytest.mark.parametrize("argv, message", [
    (["app", "double11_beuty"], "did you mean 'double11_beauty'"),
    (["app", str(MINI), "--port", "0"], "--port"),
    (["app", str(MINI), "--workers", "0"], "--workers"),
    (["app", str(MINI), "--posterior", "."], "no posterior.nc here"),
])
def test_the_app_refuses_bad_arguments_with_one_line(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_the_app_serves_the_page_it_was_given(monkeypatch):
    import uvicorn

    from analysis.app import page

    for name in ("SOLARA_APP", "SOLARA_TELEMETRY_MIXPANEL_ENABLE", "SOLARA_THEME_SHOW_BANNER"):
        monkeypatch.setenv(name, "")  # restored after the test
    monkeypatch.setattr(page, "SETUP", page.SETUP)
    served = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: served.update(app=app, **kw))
    assert main(["app", str(MINI), "--port", "8999", "--workers", "1"]) == 0
    assert served["app"] == "solara.server.starlette:app" and served["port"] == 8999
    assert served["host"] == "127.0.0.1"  # this machine only, unless --host says otherwise
    assert page.SETUP.scenario == str(MINI) and page.SETUP.workers.workers == 1
