"""The app end to end in headless Chromium: load, change, run, upload, save, cancel.

Each test opens its own page (its own session) on ``campaign-lab app food_group_buying
--population 1500`` (see conftest.py); runs are a few hundred milliseconds each.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect

import scenarios

from ...conftest import MINI

pytestmark = pytest.mark.browser
EXE = Path(sys.executable).parent / "campaign-lab"


def _set(page, label: str, value) -> None:
    field = page.get_by_label(label, exact=True)
    field.fill(str(value))
    field.press("Enter")


def _choose(page, label: str, option: str) -> None:
    # the select's input sits under its shown value, which takes the click
    page.get_by_label(label, exact=True).click(force=True)
    page.get_by_role("option", name=option, exact=True).click()


def _drop(page, name: str, data: bytes) -> None:
    transfer = page.evaluate_handle(
        "([name, bytes]) => { const t = new DataTransfer(); "
        "t.items.add(new File([new Uint8Array(bytes)], name)); return t; }",
        [name, list(data)])
    page.locator(".solara-file-drop").dispatch_event("drop", {"dataTransfer": transfer})


def _run(page, expect: str) -> str:
    page.locator(".cl-run").click()
    table = page.locator(".cl-kpi-table")
    table.filter(has_text=expect).wait_for()
    page.locator(".cl-plots img").nth(3).wait_for()
    return table.inner_text()


def test_the_app_opens_on_the_preset(page):
    assert "food_group_buying" in page.locator(".cl-scenario").inner_text()
    for channel in ("wechat_groups", "kuaishou_short_video", "group_leader_affiliate"):
        assert page.get_by_label(f"{channel} budget", exact=True).input_value()
    assert page.locator(".cl-total").inner_text() == "Total: 95,000"
    assert "1,500 consumers" in page.get_by_text("paired replications of").inner_text()
    assert page.locator(".cl-kpi-table").count() == 0  # nothing run yet
    _choose(page, "Preset", "double11_beauty")  # another preset, from the list
    page.locator(".cl-scenario").filter(has_text="double11_beauty").wait_for()
    expect(page.locator(".cl-total")).to_have_text("Total: 224,000")
    expect(page.get_by_label("livestream eve_live")).to_be_checked()
    expect(page.get_by_label("KOL kol_presale_posts budget")).to_have_value("20000.0")


def test_a_budget_change_and_run_update_the_kpis_and_the_plots(page, tmp_path):
    _set(page, "wechat_groups budget", 40000)
    page.locator(".cl-total").filter(has_text="110,000").wait_for()
    first = _run(page, "variant 1")
    for kpi in ("GMV", "orders", "ROAS (GMV / spend)", "CAC", "new customers", "complaint rate"):
        assert kpi in first
    assert "baseline" in first and "P(better)" in first
    images = page.locator(".cl-plots img")
    assert images.count() == 4  # timeline, funnel, spend vs GMV, by source
    before = [images.nth(i).get_attribute("src") for i in range(4)]

    page.get_by_text("Keep the total fixed").click()
    _set(page, "kuaishou_short_video budget", 10000)
    page.locator(".cl-total").filter(has_text="110,000").wait_for()
    second = _run(page, "variant 2")
    assert second != first
    after = [images.nth(i).get_attribute("src") for i in range(4)]
    assert all(a != b for a, b in zip(before, after, strict=True))
    history = page.locator(".cl-history").inner_text()
    assert "variant 1" in history and "channels.wechat_groups.budget = 40,000" in history
    shot = tmp_path / "result.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:4] == b"\x89PNG"

    _choose(page, "Reference", "variant 1")
    page.get_by_role("button", name="Compare these two").click()  # from the history
    page.locator(".cl-title").filter(has_text="variant 2 vs variant 1").wait_for()
    assert "baseline" not in page.locator(".cl-kpi-table").inner_text()


def test_an_invalid_upload_shows_the_error_and_changes_nothing(page, tmp_path):
    _set(page, "wechat_groups budget", 30000)
    page.locator(".cl-total").filter(has_text="100,000").wait_for()
    bad = MINI.read_text().replace("budget = 150.0", "budget = -150.0")
    _drop(page, "bad.toml", bad.encode())
    error = page.locator(".cl-error")
    error.wait_for()
    path = tmp_path / "bad.toml"
    path.write_text(bad)
    cli = subprocess.run([str(EXE), "validate", str(path)], capture_output=True, text=True)
    expected = cli.stderr.strip().removeprefix("campaign-lab: error: ").replace(
        str(path), "bad.toml")
    assert error.inner_text().strip() == expected  # the command line's own message
    assert "channels[search].budget" in expected
    assert "food_group_buying" in page.locator(".cl-scenario").inner_text()
    assert float(page.get_by_label("wechat_groups budget", exact=True).input_value()) == 30000

    _drop(page, "broken.toml", b"name = [")
    error.filter(has_text="broken.toml: not valid TOML").wait_for()
    assert "food_group_buying" in page.locator(".cl-scenario").inner_text()

    _drop(page, "mini.toml", MINI.read_bytes())
    page.locator(".cl-scenario").filter(has_text="mini").wait_for()
    expect(page.get_by_label("video budget", exact=True)).to_have_value("400.0")
    expect(page.locator(".cl-error")).to_have_count(0)


def test_the_saved_variant_validates_and_the_downloads_hold_the_comparison(page, tmp_path):
    _set(page, "group_leader_affiliate budget", 45000)
    _choose(page, "Budget control", "observed")
    name = page.get_by_label("Scenario name", exact=True)
    name.fill("more_leaders")
    name.press("Enter")
    with page.expect_download() as download:
        page.get_by_role("button", name=re.compile("Scenario \\(TOML\\)")).click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name == "more_leaders.toml"
    out = subprocess.run([str(EXE), "validate", str(saved)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    s = scenarios.load(saved)
    assert s.name == "more_leaders" and s.budget_control.policy == "observed"
    assert {c.name: c.budget for c in s.channels}["group_leader_affiliate"] == 45000

    _run(page, "variant 1")
    with page.expect_download() as download:
        page.get_by_role("button", name=re.compile("KPI table")).click()
    csv = download.value.path().read_text()
    assert csv.splitlines()[0].startswith("kpi,baseline mean")
    assert len(csv.splitlines()) == 9
    with page.expect_download() as download:
        page.get_by_role("button", name=re.compile("Report")).click()
    report = download.value.path().read_text()
    assert report.startswith("<!doctype html>") and "Plan comparison" in report


def test_a_long_run_shows_progress_stays_live_and_cancels(page):
    _set(page, "Population", 40000)
    page.get_by_text("paired replications of 40,000 consumers").wait_for()
    page.locator(".cl-run").click()
    page.locator(".cl-cancel:not([disabled])").wait_for()
    _set(page, "wechat_groups budget", 26000)  # the page answers while the runs go on
    page.locator(".cl-total").filter(has_text="96,000").wait_for(timeout=5_000)
    page.locator(".cl-cancel").click()
    page.locator(".cl-notice").filter(has_text="cancelled").wait_for()
    expect(page.locator(".cl-run:not([disabled])")).to_have_count(1)
    assert page.locator(".cl-kpi-table").count() == 0
