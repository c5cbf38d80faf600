"""``calendar.tick_hours``: a coarse tick steps the population once per tick.

A tick of t hours covers [h, h + t): own-need visits with the tick's summed hour weight
(the Poisson probability of a visit in the tick), repurchase needs and social triggers due
at any of its hours. On a market moved only by own needs and repurchases, daily orders at a
daily tick must match the hourly tick's: a consumer visits at most once a day at tick 24,
and a need due inside a tick waits at most t - 1 hours less, both small against the
visit rate (0.2 a day) and the repurchase cycle (2 days) of the test market.
"""

import re

import numpy as np
import pytest

import scenarios
from simulation.run import run, run_batch

from ..conftest import MINI

SEEDS = list(range(20))
DAYS = 21
REPURCHASE_DAYS = 7  # the orange-juice stores' cycle


def need_only(tick: int, days: int = DAYS,
              repurchase_days: float = REPURCHASE_DAYS) -> scenarios.Scenario:
    """The test market with no channel budget and no events: own needs and repurchases
    (``repurchase_days`` apart)."""
    s = scenarios.load(MINI)
    raw = s.model_dump(mode="json", exclude_none=True)
    for c in raw["channels"]:
        c["budget"] = 0.0
    for g in ("gen_z", "millennial", "gen_x", "silver"):  # most visits buy: more power
        raw["segments"][g]["base_utility"] = {"mean": 1.0, "sd": 0.5}
    raw["products"][0]["repurchase_days"] = repurchase_days
    raw["calendar"] = {"days": days, "tick_hours": tick, "phases": [
        {"name": "all", "start_day": 0, "end_day": days, "budget_weight": 1.0}]}
    return scenarios.validate(raw)


def daily_orders(tick: int) -> np.ndarray:
    batch = run_batch([need_only(tick)] * len(SEEDS), SEEDS, population=2000)
    return batch.daily("orders")  # (seeds, days)


def test_daily_tick_gives_the_hourly_ticks_daily_orders():
    """Each day's mean orders over 20 seeds, tick 24 against tick 1: the difference is
    within 4 standard errors (sqrt(s1^2/n + s2^2/n)) on every day and in total."""
    hourly, daily = daily_orders(1), daily_orders(24)
    n = len(SEEDS)
    se = np.sqrt(hourly.var(axis=0, ddof=1) / n + daily.var(axis=0, ddof=1) / n)
    z = (daily.mean(axis=0) - hourly.mean(axis=0)) / se
    assert np.all(np.abs(z) < 4), z
    total_h, total_d = hourly.sum(axis=1), daily.sum(axis=1)
    se_total = np.sqrt(total_h.var(ddof=1) / n + total_d.var(ddof=1) / n)
    assert abs(total_d.mean() - total_h.mean()) < 4 * se_total
    assert total_h.mean() > 1000  # the market sells: the comparison has power


def test_the_reference_engine_honours_the_tick():
    """The per-agent engine at tick 24 sells what the array engine does (4 standard errors,
    10 seeds of 400 consumers, repurchases every 2 days)."""
    s = need_only(24, days=8, repurchase_days=2)
    seeds = range(10)
    orders = {e: np.array([len(run(s, seed, population=400, engine=e,
                                   log_touchpoints=False).orders) for seed in seeds])
              for e in ("array", "agents")}
    a, b = orders["array"], orders["agents"]
    se = np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    assert abs(a.mean() - b.mean()) < 4 * se, (a.mean(), b.mean(), se)
    assert set(run(s, 1, population=400, engine="agents").orders.hour % 24) == {0}


@pytest.mark.parametrize("field, change", [
    ("phases[all].end_day", {"phases": [{"name": "all", "start_day": 0, "end_day": 2.5,
                                         "budget_weight": 1.0}]}),
    ("events[sale].hour", {"events": [{"kind": "flash_sale", "name": "sale", "day": 1,
                                       "hour": 20, "duration_hours": 24, "discount": 0.1}]}),
    ("events[sale].duration_hours", {"events": [{"kind": "flash_sale", "name": "sale",
                                                 "day": 1, "duration_hours": 30,
                                                 "discount": 0.1}]}),
])
def test_calendar_changes_off_the_tick_are_refused(field, change):
    raw = need_only(1, days=4).model_dump(mode="json", exclude_none=True)
    raw["calendar"].update({"tick_hours": 24, **change})
    with pytest.raises(ValueError, match=re.escape(field) + r".*not a multiple of "
                       r"calendar.tick_hours = 24"):
        scenarios.validate(raw)


def test_a_tick_that_does_not_divide_a_day_is_refused():
    raw = need_only(1, days=4).model_dump(mode="json", exclude_none=True)
    raw["calendar"]["tick_hours"] = 5
    with pytest.raises(ValueError, match="tick_hours"):
        scenarios.validate(raw)
