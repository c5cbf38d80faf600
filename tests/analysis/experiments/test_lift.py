"""Lift tests in the simulated campaign: intervals that cover the counterfactual truth at
their nominal rate, refused designs, and the ``experiment`` command end to end."""

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import scenarios
from analysis.attribution.ground_truth import replication_seeds
from analysis.cli import main
from analysis.experiments.lift import LEVEL, Design, LiftTestError, check_design, run_lift_test

from ...conftest import MINI

SEEDS = 40


@pytest.fixture(scope="module")
def mini():
    return scenarios.load(MINI)


@pytest.mark.slow
def test_holdout_interval_covers_the_truth_at_its_nominal_rate(mini):
    """A randomised holdout's Welch interval is a 90% interval of the channel's expected
    lift (mean over the seeds of the paired counterfactual runs). Over 40 seeds the number
    of covering intervals is Binomial(40, 0.9) if the interval is right: we refuse a count
    below its 1% quantile (31 of 40) and an interval with a mean
    half-width over 1.5 times the estimates' spread (an interval too wide to mean
    anything). The estimate is unbiased: its mean over seeds is within 3 standard errors of
    the truth."""
    test = run_lift_test(mini, Design("video", "holdout", 1, 4), replication_seeds(7, SEEDS))
    t = test.table
    floor = stats.binom.ppf(0.01, SEEDS, LEVEL)
    assert t["covered"].sum() >= floor, (t["covered"].sum(), floor)
    half = (t["hi"] - t["lo"]).mean() / 2
    assert half < 1.5 * stats.norm.ppf(0.95) * t["delta_y"].std()
    error = t["delta_y"].mean() - t["truth"].mean()
    se = np.sqrt(t["delta_y"].var() / SEEDS + t["truth"].var() / SEEDS)
    assert abs(error) < 3 * se, (error, se)
    np.testing.assert_allclose(t["sigma"] * stats.norm.ppf(0.95), (t["hi"] - t["lo"]) / 2)


def test_lift_test_rows_are_in_pymc_marketings_layout(mini):
    test = run_lift_test(mini, Design("video", "geo", 2, 5, regions=10), (1, 2, 3))
    frame = test.lift_frame()
    assert list(frame.columns) == ["channel", "x", "delta_x", "delta_y", "sigma"]
    assert (frame["x"] == 0).all() and (frame["delta_x"] > 0).all()
    assert (frame["sigma"] > 0).all()
    pooled = test.pooled()
    assert pooled["delta_y"].iloc[0] == pytest.approx(frame["delta_y"].mean())
    assert pooled["sigma"].iloc[0] == pytest.approx(np.sqrt((frame["sigma"] ** 2).sum()) / 3)


@pytest.mark.parametrize("design, message", [
    (Design("tv", "holdout", 0, 5), "--channel: unknown channel 'tv'; the scenario 'mini' has "
                                    "video, search, affiliate, crm"),
    (Design("video", "holdout", 0, 5, share=0.0), "--share: the control share must be "
                                                  "strictly between 0 and 1"),
    (Design("video", "holdout", 0, 5, share=1.0), "--share: .* got 1.0"),
    (Design("video", "holdout", 3, 6), r"--window: START:END must satisfy 0 <= START < END "
                                       r"<= 5 \(the calendar's days\), got 3:6"),
    (Design("video", "holdout", 2, 2), "--window: .* got 2:2"),
    (Design("video", "pulse", 0, 5), "--window: a pulse test compares the window with days "
                                     "around the window"),
    (Design("video", "geo", 0, 3), r"--window: a geo test .* before the window \(START >= 1\)"),
    (Design("video", "geo", 1, 3, geo="tiers", control_tier="mid"),
     "--control-tier: must be one of upper, lower, got 'mid'"),
    (Design("video", "geo", 1, 3, regions=1), "--regions: 1 regions"),
    (Design("video", "ab", 1, 3), "--design: must be one of holdout, geo, pulse"),
])
def test_bad_designs_are_refused_naming_the_option(mini, design, message):
    with pytest.raises(LiftTestError, match=message):
        check_design(mini, design)


def test_experiment_command_writes_the_lift_tests(tmp_path, capsys):
    out = tmp_path / "lift"
    code = main(["experiment", str(MINI), "--channel", "video", "--design", "holdout",
                 "--window", "1:4", "--seeds", "3", "--population", "1000", "--out",
                 str(out)])
    assert code == 0
    table = pd.read_csv(out / "lift_tests.csv")
    assert len(table) == 3 and {"delta_y", "sigma", "truth", "covered"} <= set(table.columns)
    summary = json.loads((out / "lift_tests.json").read_text())
    assert summary["design"]["channel"] == "video" and len(summary["seeds"]) == 3
    assert len(pd.read_csv(out / "lift_tests_pooled.csv")) == 1
    assert "wrote" in capsys.readouterr().out


@pytest.mark.parametrize("args, message", [
    (["--window", "1-4"], "--window: give START:END in whole days, e.g. 1:4, got '1-4'"),
    (["--share", "0"], "--share: the control share must be strictly between 0 and 1"),
    (["--channel", "tv"], "--channel: unknown channel 'tv'"),
    (["--seeds", "1"], "--seeds: need at least 2 replications"),
])
def test_experiment_command_refuses_bad_options(tmp_path, capsys, args, message):
    base = ["experiment", str(MINI), "--channel", "video", "--design", "holdout",
            "--seeds", "2", "--out", str(tmp_path)]
    assert main(base + args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
