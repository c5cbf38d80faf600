"""The media mix model scored against the simulated world's true incremental ROAS."""

import numpy as np
import pytest

import scenarios
from analysis.attribution.mmm import media_frame, media_series, score_mmm
from simulation import run

from ...conftest import MINI


def test_the_simulated_world_emits_the_media_layout():
    r = run(scenarios.load(MINI), seed=1, log_touchpoints=False)
    frame = media_frame(r)
    assert list(frame.columns) == ["date", "spend_video", "spend_search", "spend_affiliate",
                                   "spend_crm", "gmv", "orders"]
    assert len(frame) == r.scenario.calendar.days
    spend = frame.filter(like="spend_").to_numpy().sum()
    assert spend == pytest.approx(r.summary["spend"])
    assert frame["gmv"].sum() == pytest.approx(r.summary["gmv"])
    series = media_series(frame)
    assert series.channels == ("video", "search", "affiliate", "crm")
    assert series.days_per_period == 1.0


@pytest.mark.slow
def test_mmm_roas_is_scored_against_the_true_incremental_roas():
    s = scenarios.load(MINI)
    score = score_mmm(s, replications=4, draws=200, tune=200, chains=2)
    table = score.table
    assert set(table["channel"]) == {"video", "search", "affiliate", "crm"}
    assert np.isfinite(table[["true_roas", "mmm_roas", "mmm_lo", "mmm_hi"]].to_numpy()).all()
    assert (table["mmm_lo"] <= table["mmm_roas"]).all()
    assert (table["mmm_roas"] <= table["mmm_hi"]).all()
    assert score.error >= 0
