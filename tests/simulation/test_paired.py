"""Paired batches: each world draws from its own run's streams, so world w of a batch is
exactly ``run(scenario_w, seed_w)``, whatever the other worlds are (common random numbers
survive any grouping of runs into batches)."""

import numpy as np
import pandas as pd
import pytest

import scenarios
import simulation
from scenarios import with_overrides
from simulation.run import rescale
from simulation.streams import Draws

PRESETS = ("double11_beauty", "fashion_seeding", "food_group_buying", "food_price_return",
           "silver_wechat_crm")


def _assert_same_run(alone, world) -> None:
    pd.testing.assert_frame_equal(alone.timeseries, world.timeseries, check_exact=True)
    pd.testing.assert_frame_equal(alone.orders, world.orders, check_exact=True)
    pd.testing.assert_frame_equal(alone.touchpoints, world.touchpoints, check_exact=True)
    if alone.cascades is not None:
        pd.testing.assert_frame_equal(alone.cascades, world.cascades, check_exact=True)
    a, b = dict(alone.summary), dict(world.summary)
    a.pop("wall_seconds", None), b.pop("wall_seconds", None)
    assert a == b


@pytest.mark.parametrize("preset", PRESETS)
def test_each_world_of_a_paired_batch_is_its_own_run(preset):
    """Plans that differ in a budget, on shared and on different seeds, plus a world whose
    behaviour differs (a sensitivity sweep's case): every table equal, bit for bit."""
    s = rescale(scenarios.load(preset), 3000)
    first = s.channels[0]
    worlds = [s, with_overrides(s, {f"channels.{first.name}.budget": first.budget * 1.7}),
              with_overrides(s, {"behaviour.awareness_half_life_hours": 61.0,
                                 "behaviour.reference_smoothing": 0.37}), s]
    seeds = [3, 3, 3, 8]
    batch = simulation.run_batch(worlds, seeds, record_every=1, paired=True,
                                 log_touchpoints=True)
    for w, (scenario, seed) in enumerate(zip(worlds, seeds, strict=True)):
        _assert_same_run(simulation.run(scenario, seed=seed), batch.result(w))


def test_a_shared_batch_is_not_paired():
    """The check above can fail: with the batch's shared streams (calibration's fast
    default) world 1 sees the numbers world 0 left, not its own run's."""
    s = rescale(scenarios.load("double11_beauty"), 3000)
    batch = simulation.run_batch([s, s], [3, 8], record_every=1)
    alone = simulation.run(s, seed=8, log_touchpoints=False)
    assert not batch.result(1).orders.equals(alone.orders)


def test_draws_of_one_generator_are_its_own_calls():
    """A run (or a shared batch) draws what the generator's own call gives; a paired batch
    draws each world's block from that world's generator, so world 1's numbers do not depend
    on how many world 0 took."""
    world = np.repeat([0, 1], [5, 7])
    offsets = np.array([0, 5, 12])
    single = Draws.of(np.random.default_rng(1), 12)
    assert list(single.blocks())[0][:2] == (0, 12)
    owners = np.array([1, 2, 2, 6, 9])
    assert np.array_equal(single.random(owners), np.random.default_rng(1).random(5))

    def paired():
        return Draws([np.random.default_rng(10), np.random.default_rng(11)], world, offsets)

    few, many = paired().random(np.array([0, 7, 8])), paired().random(np.array([0, 1, 2, 7, 8]))
    assert np.array_equal(few[1:], many[3:])
    assert np.array_equal(few[1:], np.random.default_rng(11).random(2))
    perm = paired().permutation(np.array([0, 1, 2, 7, 8]))
    assert sorted(perm[:3]) == [0, 1, 2] and sorted(perm[3:]) == [3, 4]
    with pytest.raises(ValueError, match="world by world"):
        paired().random(np.array([7, 0]))


def test_worlds_that_differ_in_a_posts_reach_stay_paired():
    """A KOL post seen by every follower in one world (reach 1: no draw) and by a quarter in
    another: only the ties of a reach below 1 draw, so each world is still its own run."""
    s = rescale(scenarios.load("double11_beauty"), 3000)
    worlds = [s, with_overrides(s, {"calendar.events.kol_presale_posts.reach": 1.0})]
    batch = simulation.run_batch(worlds, [5, 5], record_every=1, paired=True,
                                 log_touchpoints=True)
    for w, scenario in enumerate(worlds):
        _assert_same_run(simulation.run(scenario, seed=5), batch.result(w))
