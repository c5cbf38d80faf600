"""Hard guarantees of every run: caps, budgets, consent, determinism, and the outputs."""

import numpy as np
import pandas as pd
import pytest

import scenarios
import simulation
from simulation import pacing


@pytest.fixture(scope="module")
def mini_run():
    from ..conftest import MINI

    return simulation.run(scenarios.load(MINI), seed=2)


def test_frequency_caps_never_exceeded(mini_run):
    tp = mini_run.touchpoints.assign(day=lambda d: d["hour"] // 24)
    per_day = tp.groupby(["consumer", "channel", "day"], observed=True)["impressions"].sum()
    caps = {c.name: c.frequency_cap for c in mini_run.scenario.channels}
    cap = per_day.index.get_level_values("channel").map(caps).astype(int)
    assert len(per_day) > 1000
    assert (per_day.to_numpy() <= cap.to_numpy()).all()
    # caps bind somewhere, so the check is not vacuous
    assert (per_day.to_numpy() == cap.to_numpy()).any()


def test_spend_never_above_budget(mini_run):
    for ch in mini_run.scenario.channels:
        spent = mini_run.summary["by_channel"][ch.name]["spend"]
        assert spent <= ch.budget + 1e-9
    hourly = mini_run.timeseries.groupby(["source", "hour"], observed=True)["spend"].sum()
    assert (hourly >= 0).all()


@pytest.mark.parametrize("cost_model", ["cpm", "cpc"])
def test_tiny_budgets_are_respected_exactly(mini, cost_model):
    s = mini(channels__search__budget=7.0, channels__video__budget=3.3,
             channels__search__cost_model=cost_model)
    r = simulation.run(s, seed=4)
    assert r.summary["by_channel"]["search"]["spend"] <= 7.0
    assert r.summary["by_channel"]["video"]["spend"] <= 3.3


def test_commission_spend_is_rate_times_channel_gmv_capped(mini):
    r = simulation.run(mini(channels__affiliate__budget=1e6), seed=3)
    by = r.summary["by_channel"]["affiliate"]
    assert by["spend"] == pytest.approx(0.15 * by["gmv"])


def test_owned_channel_serves_its_schedule_and_costs_nothing(mini):
    owned = {"channels__affiliate__cost_model": "owned", "channels__affiliate__cost": None,
             "channels__affiliate__budget": 0.0}
    s = mini(**owned, channels__affiliate__schedule=[{"day": 2, "level": 0.0},
                                                     {"day": 4, "level": 0.5}])
    daily = [pacing.impression_capacity(x)[2].reshape(5, 24).sum(axis=1)
             for x in (s, mini(**owned))]
    np.testing.assert_allclose(daily[0], daily[1] * [1, 1, 0, 0, 0.5])
    r = simulation.run(s, seed=3)
    assert r.summary["by_channel"]["affiliate"]["spend"] == 0
    served = r.touchpoints[r.touchpoints.channel == "affiliate"].groupby(
        r.touchpoints.hour // 24)["impressions"].sum()
    assert set(served.index) == {0, 1, 4}


def test_no_contact_without_consent(mini_run):
    consented = mini_run.consumers["consent"].to_numpy()
    crm = mini_run.touchpoints[mini_run.touchpoints["channel"] == "crm"]
    assert len(crm) > 50
    assert consented[crm["consumer"].to_numpy()].all()
    targeted = mini_run.consumers.loc[crm["consumer"], "generation"].unique()
    assert set(targeted) <= {"gen_x", "silver"}


def test_same_seed_identical_results_different_seed_differs(mini):
    s = mini()
    a, b, c = (simulation.run(s, seed=seed) for seed in (9, 9, 10))
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries)
    pd.testing.assert_frame_equal(a.orders, b.orders)
    pd.testing.assert_frame_equal(a.touchpoints, b.touchpoints)
    assert not a.orders.equals(c.orders)
    assert a.summary["impressions"] != c.summary["impressions"]


def test_touchpoints_and_orders_agree_with_the_timeseries(mini_run):
    ts, tp, orders = mini_run.timeseries, mini_run.touchpoints, mini_run.orders
    assert tp["impressions"].sum() == ts["impressions"].sum()
    assert tp["clicked"].sum() == ts["clicks"].sum()
    assert len(orders) == ts["orders"].sum()
    assert orders["gmv"].sum() == pytest.approx(ts["gmv"].sum())
    assert orders["new_customer"].sum() == ts["new_buyers"].sum()
    reach = tp.groupby("channel", observed=True)["consumer"].nunique()
    by_channel = ts.groupby("source", observed=True)["reach"].sum()
    for name, n in reach.items():
        assert by_channel[name] == n


def test_presale_orders_are_paid_at_the_balance_hour(mini_run):
    window = range(24, 36)  # deposits day 1 00:00-12:00, balance day 2 00:00
    assert not mini_run.orders["hour"].isin(window).any()
    hourly = mini_run.hourly()
    placed = hourly.loc[list(window), "deposits"].sum()
    assert placed == hourly["deposits"].sum() > 0  # deposits are placed only in the window
    assert hourly.loc[48, "orders"] > 0


def test_spend_plan_rows_sum_to_budgets_and_follow_phase_weights(mini):
    s = mini()
    plan = pacing.spend_plan(s)
    budgets = [0.0 if c.cost_model.value == "commission" else c.budget for c in s.channels]
    np.testing.assert_allclose(plan.sum(axis=1), budgets)
    warm = plan[:, :48].sum(axis=1)
    np.testing.assert_allclose(warm[:2], 0.3 * np.array(budgets[:2]))
    live = pacing.session_mask(s)[0]
    peak = np.zeros(s.calendar.hours, dtype=bool)
    peak[48:] = True
    assert plan[0, peak & ~live].sum() == 0  # the livestream channel spends only in session


def test_summary_has_the_promised_keys(mini_run):
    keys = {"spend", "impressions", "clicks", "orders", "gmv", "roas", "roi", "cac",
            "new_customers", "repeat_customers", "complaint_rate", "by_channel", "by_segment",
            "scenario", "seed", "version"}
    s = mini_run.summary
    assert keys <= set(s) and "profit_roi" not in s
    # roas: return on ad spend, GMV / spend; roi: return on investment, profit / spend
    assert s["roas"] == pytest.approx(s["gmv"] / s["spend"])
    assert s["roi"] == pytest.approx((s["margin"] - s["spend"]) / s["spend"])
    assert all("roas" in c and "roi" not in c for c in s["by_channel"].values())
    assert set(mini_run.summary["by_segment"]) == {"gen_z", "millennial", "gen_x", "silver"}


def test_population_option_scales_budgets(mini):
    s = mini()
    r = simulation.run(s, seed=1, population=6000)
    assert r.summary["population"] == 6000
    assert r.scenario.channels[0].budget == pytest.approx(2 * s.channels[0].budget)


@pytest.mark.parametrize("name", scenarios.preset_names())
def test_every_preset_runs(name):
    r = simulation.run(scenarios.load(name), seed=1, population=5000)
    s = r.summary
    assert s["orders"] > 0 and s["gmv"] > 0 and s["impressions"] > 0
    for ch in r.scenario.channels:
        assert s["by_channel"][ch.name]["spend"] <= ch.budget + 1e-9
