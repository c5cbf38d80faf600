"""Levers: read from a scenario, written back through --set's path; upload and save."""

from dataclasses import replace

import pytest

import scenarios
from analysis.app import levers as lv
from analysis.app.scenario_io import file_name, load_upload, to_toml
from analysis.cli import main
from scenarios import ScenarioError
from scenarios.schema import Livestream

from ...conftest import MINI


def test_levers_read_the_baseline_and_change_nothing():
    s = scenarios.load("double11_beauty")
    levers = lv.levers_of(s)
    assert levers.budgets["douyin_live"] == 90_000
    assert levers.total_budget == sum(c.budget for c in s.channels)
    assert levers.discounts == {"d11_serum": round(1 - 299 / 399, 2)}
    assert levers.frames == {"d11_serum": "limited_time"}
    assert set(levers.livestreams) == {"presale_kickoff_live", "eve_live", "peak_night_live"}
    assert levers.kol_spend == {"kol_presale_posts": 20_000}
    assert levers.koc_spend == {"koc_samples": 400 * 30.0}
    assert levers.population == 20_000 and levers.policy == "static"
    assert lv.overrides(s, levers) == {}
    assert lv.apply(s, levers) == s


def test_keep_total_fixed_spreads_the_change_over_the_other_channels():
    levers = lv.levers_of(scenarios.load(MINI))
    moved = levers.with_budget("video", 700, keep_total=True)
    assert moved.budgets["video"] == 700
    assert moved.total_budget == pytest.approx(levers.total_budget)
    others = [c for c in levers.budgets if c != "video"]
    shares = [moved.budgets[c] / levers.budgets[c] for c in others]
    assert shares == pytest.approx([shares[0]] * len(others))  # in proportion
    free = levers.with_budget("video", 700, keep_total=False)
    assert free.total_budget == pytest.approx(levers.total_budget + 300)
    capped = levers.with_budget("video", 1e9, keep_total=True)
    assert capped.budgets["video"] == pytest.approx(levers.total_budget)
    assert min(capped.budgets.values()) >= 0


def test_every_lever_reaches_the_variant():
    s = scenarios.load("double11_beauty")
    levers = replace(
        lv.levers_of(s), budgets={**lv.levers_of(s).budgets, "search": 45_000.0},
        discounts={"d11_serum": 0.3}, frames={"d11_serum": "everyday_low_price"},
        livestreams={"presale_kickoff_live": True, "eve_live": False,
                     "peak_night_live": True},
        kol_spend={"kol_presale_posts": 35_000.0}, koc_spend={"koc_samples": 6_000.0},
        policy="observed", advanced=("behaviour.social_weight=1.5",))
    v = lv.apply(s, levers)
    assert {c.name: c.budget for c in v.channels}["search"] == 45_000
    offer = v.offers[0]
    assert offer.promo_price == pytest.approx(399 * 0.7) and offer.frame.value == \
        "everyday_low_price"
    streams = [e.name for e in v.calendar.events if isinstance(e, Livestream)]
    assert streams == ["presale_kickoff_live", "peak_night_live"]
    events = {e.name: e for e in v.calendar.events}
    assert events["kol_presale_posts"].budget == 35_000
    assert events["koc_samples"].accounts == 200
    assert v.budget_control.policy == "observed"
    assert v.behaviour.social_weight == 1.5
    lines = lv.describe(s, levers)
    assert "channels.search.budget = 45,000" in lines and "livestream eve_live off" in lines


@pytest.mark.parametrize("advanced, field", [
    (("channels.nope.budget=1",), "channels.nope"),
    (("market.population=0",), "market.population"),
])
def test_a_refused_lever_names_the_field(advanced, field):
    s = scenarios.load(MINI)
    with pytest.raises(ScenarioError) as err:
        lv.apply(s, replace(lv.levers_of(s), advanced=advanced))
    assert field in str(err.value)


def test_saved_variant_round_trips_through_validate(tmp_path):
    s = scenarios.load("fashion_seeding")
    levers = lv.levers_of(s).with_budget("search", 80_000, keep_total=True)
    variant = lv.apply(s, replace(levers, policy="thompson"))
    path = tmp_path / file_name("fashion seeding / more search")
    path.write_text(to_toml(variant, "fashion_more_search"))
    assert path.name == "fashion_seeding_more_search.toml"
    assert main(["validate", str(path)]) == 0
    back = scenarios.load(path)
    assert back.name == "fashion_more_search"
    assert back.model_copy(update={"name": variant.name}) == variant


def test_an_upload_is_refused_with_the_cli_message(tmp_path, capsys):
    bad = MINI.read_text().replace("budget = 150.0", "budget = -150.0")
    path = tmp_path / "bad.toml"
    path.write_text(bad)
    assert main(["validate", str(path)]) == 2
    with pytest.raises(ScenarioError) as err:
        load_upload("bad.toml", bad.encode())
    assert capsys.readouterr().err.strip() == f"campaign-lab: error: {err.value}".replace(
        "bad.toml", str(path), 1)
    for data, text in ((b"", "empty"), (b"name = [", "not valid TOML"),
                       (b"\xff\xfe", "not UTF-8")):
        with pytest.raises(ScenarioError, match=text):
            load_upload("x.toml", data)
    with pytest.raises(ScenarioError, match=r"\.toml"):
        load_upload("x.csv", b"a,b")
    assert load_upload("mini.toml", MINI.read_bytes()) == scenarios.load(MINI)


def test_levers_of_another_scenario_are_ignored():
    a, b = scenarios.load(MINI), scenarios.load("food_group_buying")
    levers = replace(lv.levers_of(a), discounts={"promo": 0.5}, livestreams={"live": False})
    assert lv.apply(b, levers.with_budget("video", 1, keep_total=False)) == b
