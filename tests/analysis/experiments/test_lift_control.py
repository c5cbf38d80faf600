"""A paid holdout's control (a public-service ad in the channel's slots) costs what the
channel's own ads would have: the impressions the consumers could have received (consent,
opt-outs, the daily frequency cap), not every impression drawn for them. Charging the capped
ones too spends the budget that the campaign without the test carries over to later hours,
and the treated then receive about 9% fewer impressions than without the test (mini, video,
days 1:4): the holdout reads the lift of a smaller campaign than the truth's
(docs/lift_tests.md, "A larger market")."""

import numpy as np
import pytest

import scenarios
from simulation.model import Holdout
from simulation.run import run

from ...conftest import MINI

START, END = 24, 96  # days 1:4, in hours


def _treated_impressions(result, control: np.ndarray) -> int:
    tp = result.touchpoints
    window = (tp["channel"] == "video") & (tp["hour"] >= START) & (tp["hour"] < END)
    treated = ~control[tp["consumer"].to_numpy()]
    return int(tp.loc[window & treated, "impressions"].sum())


@pytest.mark.parametrize("engine, population, seeds", [
    ("array", None, (1, 2, 3, 4)),
    ("agents", 300, tuple(range(1, 9))),
])
def test_a_paid_holdout_leaves_the_treated_the_impressions_they_get_without_it(
        engine, population, seeds):
    """Over the seeds, the treated consumers' impressions of the channel in the window with
    a half-share paid holdout are those of the same consumers in the run without it, to 3%
    (the old charge of every withheld impression gave 0.91 on both engines), and the
    channel's spend is the same."""
    mini = scenarios.load(MINI)
    n = population or mini.market.population
    with_test = without = 0
    for seed in seeds:
        control = np.random.default_rng(seed).permutation(n) < n // 2
        reference = run(mini, seed, engine=engine, population=population)
        test = run(mini, seed, engine=engine, population=population,
                   holdouts=[Holdout("video", control, START, END)])
        with_test += _treated_impressions(test, control)
        without += _treated_impressions(reference, control)
        spend = [r.timeseries.loc[(r.timeseries["source"] == "video")
                                  & (r.timeseries["hour"] < END), "spend"].sum()
                 for r in (reference, test)]
        assert spend[1] == pytest.approx(spend[0], rel=0.01)
    assert with_test / without == pytest.approx(1.0, abs=0.03), with_test / without
