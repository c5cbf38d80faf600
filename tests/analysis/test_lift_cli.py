"""The lift-test commands end to end at a small size: calibrate the media model with a lift
test file, and score the MMM with and without lift tests against the ground truth."""

import json

import numpy as np
import pandas as pd
import pytest

from analysis.cli import main
from analysis.calibration.media import simulate_media

from ..conftest import MINI


@pytest.fixture
def data(tmp_path):
    """A 30-day media series of one channel, tv."""
    series = simulate_media({"tv": {"alpha": 0.3, "lam": 2.0, "coef": 30.0}}, 30,
                            rng=np.random.default_rng(2))
    path = tmp_path / "media.csv"
    pd.DataFrame({"date": series.date, "spend_tv": series.spend[:, 0],
                  "gmv": series.outcome}).to_csv(path, index=False)
    return path


@pytest.mark.long  # 2-4 min on the loaded machine (a NUTS compile and fit)
def test_calibrate_media_with_lift_tests_writes_the_posterior(tmp_path, data):
    lifts = tmp_path / "lift.csv"
    lifts.write_text("channel,x,delta_x,delta_y,sigma\ntv,0,50,15,2\n")
    out = tmp_path / "cal"
    code = main(["calibrate", "--model", "media", "--data", str(data), "--lift-tests",
                 str(lifts), "--draws", "30", "--tune", "30", "--chains", "1", "--out",
                 str(out)])
    assert code in (0, 1)  # 1: not converged at 30 draws, said loudly
    summary = json.loads((out / "summary.json").read_text())
    assert summary["meta"]["lift_tests"] == 1
    assert (out / "posterior.nc").is_file()


def test_calibrate_refuses_a_bad_lift_test_file(tmp_path, data, capsys):
    lifts = tmp_path / "lift.csv"
    lifts.write_text("channel,x,delta_x,delta_y,sigma\nradio,0,50,15,2\n")
    assert main(["calibrate", "--model", "media", "--data", str(data), "--lift-tests",
                 str(lifts), "--out", str(tmp_path / "cal")]) == 2
    err = capsys.readouterr().err
    assert "lift.csv, column 'channel', row 1: unknown channel 'radio'" in err
    assert main(["calibrate", "--model", "bass", "--data", str(data), "--lift-tests",
                 str(lifts), "--out", str(tmp_path / "cal")]) == 2
    assert "lift tests calibrate the media model only" in capsys.readouterr().err


@pytest.mark.long  # 2-4 min on the loaded machine (a NUTS compile and fit)
def test_attribute_mmm_scores_fits_with_and_without_lift_tests(tmp_path, capsys):
    lift = tmp_path / "lift"
    assert main(["experiment", str(MINI), "--channel", "video", "--design", "holdout",
                 "--window", "1:4", "--seeds", "2", "--population", "1000", "--out",
                 str(lift)]) == 0
    out = tmp_path / "attr"
    assert main(["attribute", str(MINI), "--replications", "2", "--population", "1000",
                 "--mmm", "--mmm-draws", "20", "--lift-tests",
                 str(lift / "lift_tests_pooled.csv"), "--out", str(out)]) == 0
    table = pd.read_csv(out / "mmm_lift.csv")
    assert set(table["variant"]) == {"none", "lift/lift_tests_pooled"}
    assert {"true_roas", "mmm_roas", "mmm_lo", "mmm_hi", "abs_error", "width"} <= set(
        table.columns)
    assert (out / "mmm_lift.png").stat().st_size > 0
    assert "mmm_lift.csv" in capsys.readouterr().out


def test_attribute_refuses_lift_tests_without_mmm(tmp_path, capsys):
    lifts = tmp_path / "lift.csv"
    lifts.write_text("channel,x,delta_x,delta_y,sigma\nvideo,0,50,15,2\n")
    assert main(["attribute", str(MINI), "--lift-tests", str(lifts)]) == 2
    assert "--lift-tests scores the media mix model: add --mmm" in capsys.readouterr().err
