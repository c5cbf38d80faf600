"""The lift-test holdout in the engine: withheld consumers see nothing of the channel in the
window, the rest of the campaign is unchanged in what it pays."""

import numpy as np
import pytest

import scenarios
import simulation
from simulation.model import Holdout

from ..conftest import MINI


@pytest.fixture(scope="module")
def mini():
    return scenarios.load(MINI)


def _excluded(n: int) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    mask[::2] = True
    return mask


def test_withheld_consumers_get_no_impressions_in_the_window_only(mini):
    n = mini.market.population
    mask = _excluded(n)
    r = simulation.run(mini, seed=3, holdouts=[Holdout("video", mask, 24, 72)])
    tp = r.touchpoints
    video = tp[tp["channel"] == "video"]
    inside = video[(video["hour"] >= 24) & (video["hour"] < 72)]
    outside = video[(video["hour"] < 24) | (video["hour"] >= 72)]
    assert len(inside) > 0 and not mask[inside["consumer"].to_numpy()].any()
    assert mask[outside["consumer"].to_numpy()].mean() == pytest.approx(0.5, abs=0.05)
    other = tp[tp["channel"] == "search"]
    assert mask[other["consumer"].to_numpy()].mean() == pytest.approx(0.5, abs=0.05)


def test_paid_holdout_keeps_the_spend_and_an_unpaid_one_saves_it(mini):
    """Paid: the control's impressions are bought (a public-service ad), so the channel's
    spend stays within 2% of the run without a test; unpaid, for everyone for a day, the
    day's spend is saved."""
    n = mini.market.population
    base = simulation.run(mini, seed=3, log_touchpoints=False).kpi_table()
    paid = simulation.run(mini, seed=3, log_touchpoints=False,
                          holdouts=[Holdout("video", _excluded(n), 24, 72)]).kpi_table()
    off = simulation.run(mini, seed=3, log_touchpoints=False,
                         holdouts=[Holdout("video", np.ones(n, bool), 0, 120,
                                           paid=False)]).kpi_table()
    assert paid.loc["video", "spend"] == pytest.approx(base.loc["video", "spend"], rel=0.02)
    assert off.loc["video", "spend"] == 0
    assert off.loc["video", "impressions"] == 0


def test_bad_holdouts_are_refused(mini):
    n = mini.market.population
    with pytest.raises(ValueError, match="unknown channel 'tv'"):
        simulation.run(mini, seed=1, holdouts=[Holdout("tv", np.ones(n, bool), 0, 24)])
    with pytest.raises(ValueError, match="must be 3000 bools"):
        simulation.run(mini, seed=1, holdouts=[Holdout("video", np.ones(10, bool), 0, 24)])
