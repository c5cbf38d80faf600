"""Many worlds in one pass: a world of a batch is the run ``simulation.run`` gives."""

import numpy as np
import pandas as pd
import pytest

import scenarios
import simulation
from simulation.metrics import METRICS

from ..conftest import DATA, MINI, with_second_product

METRIC_INDEX = {m: i for i, m in enumerate(METRICS)}
COMPARED = ("impressions", "reach", "clicks", "orders", "gmv", "complaints", "new_buyers",
            "returning_buyers")


def test_a_batch_of_one_is_the_run():
    s = scenarios.load(DATA / "social.toml")
    alone = simulation.run(s, seed=8, log_touchpoints=False)
    batch = simulation.run_batch([s], [8])
    pd.testing.assert_frame_equal(batch.result(0).orders, alone.orders)
    daily = alone.timeseries.groupby("day")["orders"].sum().to_numpy()
    assert np.array_equal(batch.daily("orders")[0], daily)


def test_per_product_series_add_up_to_the_daily_totals():
    """Two products at list prices 399 and 1,197, 1.5 units an order, with a presale (deposits count when the
    balance is paid, 12% are forfeited): every order the metrics count is logged once, so
    each world's per-product series add up to ``daily``, and one world's are its orders."""
    two = with_second_product(simulation.rescale(scenarios.load("double11_beauty"), 2000))
    two = scenarios.with_overrides(two, {f"products.{p.name}.units_per_order": 1.5
                                         for p in two.products})  # GMV is price x units
    batch = simulation.run_batch([two, two, two], [1, 2, 3])
    for name in ("orders", "gmv"):
        by_product = batch.daily_by_product(name)
        assert by_product.shape == (3, 2, two.calendar.days)
        assert (by_product.sum(axis=(0, 2)) > 0).all()  # both products sell
        np.testing.assert_allclose(by_product.sum(axis=1), batch.daily(name), rtol=1e-12)
    orders = batch.result(1).orders
    counted = pd.crosstab(orders["product"], orders["hour"] // 24, dropna=False).reindex(
        columns=range(two.calendar.days), fill_value=0)
    assert np.array_equal(counted.to_numpy(), batch.daily_by_product("orders")[1])
    with pytest.raises(ValueError, match="not 'spend'"):
        batch.daily_by_product("spend")


def test_each_world_keeps_its_own_budget_parameters_and_consumers():
    s = scenarios.load(MINI)
    rich = scenarios.with_overrides(s, {f"channels.{c.name}.budget": 3 * c.budget
                                        for c in s.channels})
    batch = simulation.run_batch([s, rich, s], [1, 1, 2])
    spend = batch.totals("spend")
    assert spend[1] > 2 * spend[0]
    for w, scenario in enumerate([s, rich, s]):  # no world spends beyond its budgets
        assert spend[w] <= sum(c.budget for c in scenario.channels) + 1e-6
    # same scenario and seed: world 0 sees the population world 1 sees (its own seed)
    r0, r1 = batch.result(0), batch.result(1)
    pd.testing.assert_frame_equal(r0.consumers, r1.consumers)
    assert set(r0.orders["consumer"]) <= set(range(s.market.population))


def test_a_batch_refuses_worlds_with_another_calendar():
    s = scenarios.load(MINI)
    other = scenarios.with_overrides(s, {"calendar.days": s.calendar.days + 1})
    with pytest.raises(ValueError, match="calendar"):
        simulation.run_batch([s, other], [1, 2])


def _per_source(values: np.ndarray) -> np.ndarray:
    """(runs, metrics x sources) campaign totals from (runs, metrics, sources) arrays."""
    return values.reshape(len(values), -1)


def _separate(s, seeds) -> np.ndarray:
    """One run per seed (each a batch of one, which is the run: see the first test)."""
    return np.concatenate([_batched([s], [seed]) for seed in seeds])


def _batched(scenarios_, seeds) -> np.ndarray:
    batch = simulation.run_batch(scenarios_, list(seeds))
    return _per_source(np.stack([batch.metric(m).sum(axis=1) for m in COMPARED], axis=1))


def _largest_z(a: np.ndarray, b: np.ndarray) -> float:
    """Largest |difference of means| / standard error over the columns both arms vary in."""
    se = np.sqrt(a.var(axis=0, ddof=1) / len(a) + b.var(axis=0, ddof=1) / len(b))
    keep = se > 0
    return float(np.max(np.abs(a.mean(axis=0) - b.mean(axis=0))[keep] / se[keep]))


def test_a_world_is_statistically_a_separate_run_and_a_planted_5_percent_change_shows():
    """Every metric by source (impressions, reach, clicks, orders, GMV, complaints, new and
    returning buyers, paid and social sources) of 60 worlds in one batch against 60
    separate runs with other seeds: no mean differs by more than 4.5 standard errors (over
    the ~70 compared columns, a false alarm has probability below 1e-3). Power: the same
    comparison with a 5% higher click-through rate in the batch (a planted change of one
    rule's parameter) must exceed 4.5 standard errors (measured: 7.2)."""
    s = simulation.rescale(scenarios.load("food_group_buying"), 1000)
    r = 60
    separate = _separate(s, np.arange(r) + 10_000)
    batched = _batched([s] * r, range(r))
    assert _largest_z(batched, separate) < 4.5
    planted = scenarios.with_overrides(s, {f"channels.{c.name}.ctr": c.ctr * 1.05
                                           for c in s.channels})
    assert _largest_z(_batched([planted] * r, range(r)), separate) > 4.5
