"""Repurchase (BG/NBD): recovery on a synthetic log, and the CDNOW hold-out forecast of
Fader, Hardie & Lee (2005)."""

import numpy as np
import pandas as pd
import pytest

from analysis.calibration.data import DataError, TransactionLog, load_transactions
from analysis.calibration.repurchase import (
    expected_new_customer,
    fit_repurchase,
    holdout_forecast,
    repurchase_days,
    rfm,
    simulate_transactions,
)

from .test_data import CDNOW


def test_rfm_counts_same_day_purchases_once():
    table = pd.DataFrame({"customer_id": ["a", "a", "a", "b"],
                          "date": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-15",
                                                  "2024-01-08"]),
                          "amount": 1.0})
    s = rfm(TransactionLog("t", table), "2024-01-29").set_index("customer_id")
    assert s.loc["a", "frequency"] == 1 and s.loc["a", "recency"] == 2.0
    assert s.loc["a", "T"] == 4.0 and s.loc["b", "frequency"] == 0 and s.loc["b", "T"] == 3.0


def test_expected_new_customer_is_zero_at_zero_and_grows():
    e = expected_new_customer(0.25, 4.4, 0.8, 2.4, np.array([0.0, 10.0, 50.0]))
    assert e[0] == pytest.approx(0.0, abs=1e-12) and 0 < e[1] < e[2]


def test_tiny_fit_on_a_synthetic_log():
    log = simulate_transactions(0.8, 4.0, 1.0, 4.0, 400, 40.0, rng=np.random.default_rng(5))
    cal = fit_repurchase(log, draws=200, tune=200, seed=2)
    par = cal.summary()["parameters"]
    assert set(par) == {"r", "alpha", "a", "b"}
    truth_days = float(repurchase_days(0.8, 4.0))
    fitted_days = float(np.median(repurchase_days(cal.draws("r"), cal.draws("alpha"))))
    assert truth_days == pytest.approx(35.0)
    assert abs(fitted_days / truth_days - 1) < 0.3, fitted_days
    assert cal.check.predicted.shape[1] == len(cal.check.x)


def test_too_few_repeat_buyers_is_a_data_error():
    table = pd.DataFrame({"customer_id": [f"c{i}" for i in range(60)],
                          "date": pd.Timestamp("2024-01-01"), "amount": 1.0})
    with pytest.raises(DataError, match="bought again"):
        fit_repurchase(TransactionLog("one-off", table))


@pytest.mark.slow
def test_cdnow_holdout_forecast():
    """CDNOW master (23,570 customers of the Q1-1997 cohort), calibrated on weeks 1-39
    (to 1997-09-30) with NUTS (2 chains x 600 draws, about 35 s), forecast for weeks 40-78.

    Parameters land near FHL's 1/10-sample estimates (r .243, alpha 4.414, a .793, b 2.426):
    measured r .252, alpha 4.80, a .72, b 2.16; implied repurchase_days = 7 alpha / r = 133.
    The calibration period tracks closely (week 39: 24,438 expected vs 24,337 actual repeat
    purchases), but on the full master file the hold-out forecast is low: 16,896 (90%
    16,530-17,290) predicted vs 19,684 actual, -14%. FHL's own published parameters give
    16,577 on the same customers, so the shortfall is the model on this file (the full
    cohort buys more in 1998 than the BG/NBD's stationary rates imply), not the fit. The test
    pins the forecast to within 20% and below the actual, so a change in either shows.
    """
    log = load_transactions(CDNOW)
    cal = fit_repurchase(log, calibration_end="1997-09-30", draws=600, tune=500, seed=1)
    summary = cal.summary()
    assert summary["diagnostics"]["converged"], summary["diagnostics"]
    par = {k: v["mean"] for k, v in summary["parameters"].items()}
    print("CDNOW BG/NBD:", par)
    for k, fhl, tol in (("r", 0.243, 0.1), ("alpha", 4.414, 0.15), ("a", 0.793, 0.15),
                        ("b", 2.426, 0.2)):
        assert abs(par[k] / fhl - 1) < tol, (k, par[k])
    week39 = cal.check.predicted.mean(axis=0)[38]
    assert abs(week39 / cal.check.observed[38] - 1) < 0.02
    forecast = holdout_forecast(cal, log, "1998-06-30")
    print("CDNOW hold-out:", forecast)
    assert forecast["actual"] == 19_684
    assert 0.8 < forecast["predicted"] / forecast["actual"] < 1.0
