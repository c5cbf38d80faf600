"""Statistics of orders by source and of repeat purchases: known values, and the same numbers
from a simulated batch (the design's path) and from a shop's exports of that run."""

import numpy as np
import scenarios
import simulation
from analysis.calibration.design import Design, batch_repeat_counts, daily_by_source
from analysis.calibration.emulator import Evidence, observed_series
from analysis.calibration.order_statistics import (
    repeat_counts,
    repeat_statistics,
    scenario_sources,
    shop_export,
    source_statistics,
)


def test_repeat_counts_of_a_known_log():
    """Customer 0 buys product 0 at 39.9, then 33.9 (below), then 39.9 (above); customer 1
    buys product 0 and product 1 once each (two first purchases); customer 2 buys product 0
    twice at 39.9 (a repeat at the same price); customer 0 of group 1 is another customer.
    Rows are given out of time order: the previous price is the one before in time."""
    customer = np.array([0, 0, 0, 1, 1, 2, 2, 0])
    hour = np.array([100.0, 10.0, 40.0, 5.0, 30.0, 70.0, 50.0, 12.0])
    product = np.array([0, 0, 0, 0, 1, 0, 0, 0])
    price = np.array([39.9, 39.9, 33.9, 39.9, 20.0, 39.9, 39.9, 33.9])
    group = np.array([0, 0, 0, 0, 0, 0, 0, 1])
    counts = repeat_counts(customer, hour, product, price, days=5, group=group, groups=2)
    assert counts.shape == (2, 5, 4)
    # buyers, repeats, above, below per group
    np.testing.assert_array_equal(counts.sum(axis=1), [[4, 3, 1, 1], [1, 0, 0, 0]])
    assert counts[0, 4].tolist() == [0, 1, 1, 0]  # hour 100 is day 4: the rise back
    assert counts[0, 1].tolist() == [1, 1, 0, 1]  # hour 40 the cut, hour 30 a first buy
    stats = repeat_statistics(counts)
    np.testing.assert_allclose(stats[0], [3 / 4, 1 / 3, 1 / 3])
    np.testing.assert_allclose(stats[1], [0.0] * 3)  # no repeats: no shares


def test_source_shares_are_organic_and_social_only():
    food = scenarios.load("food_group_buying")
    sources = scenario_sources(food)
    assert sources[-5:] == ["organic", "kol", "koc", "friend", "group_buy"]
    by_source = np.zeros((1, len(sources), 2))
    by_source[0, 0] = [30, 30]  # a paid channel
    by_source[0, sources.index("group_buy")] = [20, 20]
    by_source[0, sources.index("organic")] = [0, 0]
    got = source_statistics(by_source, sources)[0]
    np.testing.assert_allclose(got, [0.0, 0.0, 0.0, 0.0, 0.4])
    # the same shares in a market 100 times larger give the same statistics
    np.testing.assert_allclose(source_statistics(by_source * 100, sources)[0], got)


def test_design_and_shop_exports_give_identical_statistics():
    """Two worlds of one batch: each world's statistics computed the design's way (from the
    batch's metrics and order log) equal those of its shop exports (daily columns and
    order log, through ``observed_series``), for every kind of statistic."""
    market = simulation.rescale(scenarios.load("food_group_buying"), 3000)
    batch = simulation.run_batch([market, market], [4, 5])
    design = Design(np.zeros((2, 0)), np.array([4, 5]), batch.daily_by_product("orders"),
                    batch.daily_by_product("gmv"), daily_by_source(batch),
                    batch_repeat_counts(batch))
    evidence = Evidence(by_product=True, sources=tuple(scenario_sources(market)),
                        repeats=True)
    simulated = evidence.statistics(design, market, 21, 3000)
    assert design.repeats[:, :, 1].sum() > 0  # there are repeats to compare
    for w in range(2):
        daily, log = shop_export(batch.result(w))
        shop = evidence.statistics(observed_series(daily, market, log), market, 21, 3000)
        np.testing.assert_allclose(shop[0], simulated[w], rtol=1e-12)
    assert not np.allclose(simulated[0], simulated[1])
