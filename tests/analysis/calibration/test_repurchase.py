"""Repurchase (BG/NBD): the simulator against Fader, Hardie & Lee's (2005) closed forms,
recovery and interval coverage on synthetic logs, and FHL's CDNOW hold-out forecast."""

import arviz as az
import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.special import betaln, hyp2f1

from analysis.calibration.base import Calibration
from analysis.calibration.data import (
    CustomerSummary,
    DataError,
    TransactionLog,
    load_customer_summary,
    load_transactions,
)
from analysis.calibration.repurchase import (
    PARAMETERS,
    expected_new_customer,
    expected_purchases,
    fit_repurchase,
    holdout_forecast,
    log_likelihood,
    maximum_likelihood,
    repurchase_days,
    rfm,
    simulate_transactions,
)

from .test_data import CDNOW, CDNOW_SUMMARY

CDNOW_FHL = (0.243, 4.414, 0.793, 2.426)
"""FHL's estimates (r, alpha, a, b) on the 1/10 CDNOW sample."""
CDNOW_FHL_LOG_LIKELIHOOD = -9582.4
"""FHL's maximised log-likelihood on that sample (weeks)."""


def pmf_new_customer(x, t, r, alpha, a, b):
    """FHL equation (8): P(X(t) = x), repeat purchases of a new customer in ``t`` weeks."""
    x = np.asarray(x)
    nb = stats.nbinom(r, alpha / (alpha + t))
    alive = np.exp(betaln(a, b + x) - betaln(a, b)) * nb.pmf(x)
    xp = np.maximum(x, 1)  # the second term is there only for x > 0
    dropped = np.exp(betaln(a + 1, b + xp - 1) - betaln(a, b)) * nb.sf(xp - 1)
    return alive + np.where(x > 0, dropped, 0.0)


def repeats_within(log: TransactionLog, t: float) -> np.ndarray:
    """Each customer's repeat purchases (every row, same-day ones too) within ``t`` weeks of
    their first purchase."""
    table = log.table
    lag = (table["date"] - table.groupby("customer_id")["date"].transform("min")) \
        / pd.Timedelta(weeks=1)
    return (lag < t).groupby(table["customer_id"]).sum().to_numpy() - 1


def test_rfm_counts_same_day_purchases_once():
    table = pd.DataFrame({"customer_id": ["a", "a", "a", "b"],
                          "date": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-15",
                                                  "2024-01-08"]),
                          "amount": 1.0})
    s = rfm(TransactionLog("t", table), "2024-01-29").set_index("customer_id")
    assert s.loc["a", "frequency"] == 1 and s.loc["a", "recency"] == 2.0
    assert s.loc["a", "T"] == 4.0 and s.loc["b", "frequency"] == 0 and s.loc["b", "T"] == 3.0


def mean_new_customer(truth, t) -> float:
    """pymc-marketing's E[X(t)] at one parameter set ``(r, alpha, a, b)``."""
    return float(expected_new_customer(dict(zip(PARAMETERS, truth, strict=True)), t)[0, 0])


def test_expected_new_customer_is_zero_at_zero_and_grows():
    e = expected_new_customer({"r": 0.25, "alpha": 4.4, "a": 0.8, "b": 2.4}, [0.0, 10.0, 50.0])
    assert e.shape == (1, 3)
    assert e[0, 0] == pytest.approx(0.0, abs=1e-12) and 0 < e[0, 1] < e[0, 2]


def test_the_two_closed_forms_agree():
    """Equation (8) is a distribution whose mean is the hypergeometric E[X(t)] (equation 9, as
    pymc-marketing computes it)."""
    x = np.arange(3000)
    for truth in (CDNOW_FHL, (0.8, 4.0, 1.5, 4.0), (2.0, 1.0, 0.6, 1.2)):
        for t in (1.0, 13.0, 52.0):
            p = pmf_new_customer(x, t, *truth)
            assert p.sum() == pytest.approx(1.0, abs=1e-9)
            assert (p * x).sum() == pytest.approx(mean_new_customer(truth, t), rel=1e-9)
            assert p[0] == pytest.approx((truth[1] / (truth[1] + t)) ** truth[0], rel=1e-12)


def check_against_closed_forms(log: TransactionLog, truth, horizons, *, top: int = 8):
    """(t, z, chi-square p) per horizon: the mean repeat purchases against E[X(t)] in standard
    errors, and the counts 0, 1, ... (tail pooled so every cell expects >= 5) against
    P(X(t) = x)."""
    out = []
    for t in horizons:
        x = repeats_within(log, t)
        n = len(x)
        z = (x.mean() - mean_new_customer(truth, t)) / (x.std(ddof=1) / np.sqrt(n))
        p = pmf_new_customer(np.arange(top), t, *truth)
        cells = top
        while cells > 1 and n * (1 - p[:cells].sum()) < 5:
            cells -= 1
        p = np.append(p[:cells], 1 - p[:cells].sum())
        observed = np.bincount(np.minimum(x, cells), minlength=cells + 1)
        out.append((t, z, stats.chisquare(observed, n * p).pvalue))
    return out


@pytest.mark.parametrize("truth", [CDNOW_FHL, (0.8, 4.0, 1.5, 4.0)], ids=["cdnow", "frequent"])
def test_simulator_draws_the_bgnbd_process(truth):
    """Repeat purchases of 100,000 simulated customers within 4, 13, 26 and 52 weeks of their
    first purchase against FHL's closed forms: the mean against E[X(t)] (equation 9) within 4
    standard errors (sample standard deviation over sqrt(n)), and the counts 0..7 and 8+
    against P(X(t) = x) (equation 8) by a chi-square test at p > 1e-4 (per check; 8 checks
    give a false alarm below 0.1%). Every simulated row counts (no same-day merging): this
    tests the process, not the calibration's view of it.

    Measured (seed 11): |z| <= 0.74 and chi-square p >= 0.015 over the 8 checks; 0.6-0.9 s
    each. Seeded bugs fail by far: a dropout chance at the first purchase, the dropout drawn
    before the purchase is recorded, or Beta(b, a) for Beta(a, b) give |z| > 23.
    """
    horizons = (4.0, 13.0, 26.0, 52.0)
    n = 100_000
    log = simulate_transactions(*truth, n, 12.0 + max(horizons),
                                rng=np.random.default_rng(11))
    first = log.table.groupby("customer_id")["date"].min()
    assert len(first) == n
    assert (first < pd.Timestamp("2024-01-01") + pd.Timedelta(weeks=12)).all()
    for t, z, p in check_against_closed_forms(log, truth, horizons):
        assert abs(z) < 4 and p > 1e-4, (t, z, p)


def test_resolution_counts_same_day_purchases():
    """The simulator writes purchase times: by day same-day purchases merge, by second not."""
    log = simulate_transactions(2.0, 1.0, 0.8, 3.0, 300, 30.0, rng=np.random.default_rng(3))
    by_day, by_second = rfm(log), rfm(log, resolution="s")
    assert (by_day["customer_id"] == by_second["customer_id"]).all()
    assert by_second["frequency"].sum() == len(log.table) - len(by_second)
    assert (by_day["frequency"] <= by_second["frequency"]).all()
    assert by_day["frequency"].sum() < by_second["frequency"].sum()
    assert (by_day["T"] - by_second["T"]).abs().max() < 1 / 7
    with pytest.raises(ValueError, match="resolution"):
        rfm(log, resolution="W")


def test_holdout_forecast_at_the_true_parameters():
    """FHL equation (10) at the true parameters predicts the simulated hold-out purchases
    (weeks 26-52 of 20,000 customers) when every purchase counts: measured +0.7% (seed 0; over
    seeds 0-7 the error ranged -1.8% to +1.1%). By day the actual count loses same-day
    repeats: +2.7% here (+0.3% to +3.0% over seeds 0-7)."""
    truth = {"r": 0.8, "alpha": 4.0, "a": 0.8, "b": 3.0}
    log = simulate_transactions(*truth.values(), 20_000, 52.0, rng=np.random.default_rng(0))
    posterior = az.from_dict(posterior={k: np.full((1, 4), v) for k, v in truth.items()})
    table = log.table
    cut, end = pd.Timestamp("2024-07-01"), pd.Timestamp("2024-12-30")
    for resolution in ("s", "D"):
        cal = Calibration("repurchase", posterior, tuple(truth), None,
                          {"calibration_end": "2024-07-01", "resolution": resolution})
        forecast = holdout_forecast(cal, log, end)
        assert forecast["weeks"] == 26.0
        when = table.assign(date=table["date"].dt.floor(resolution))  # by day: day <= cut
        seen = when.loc[when["date"] <= cut, "customer_id"].unique()  # is calibration
        later = when[(when["date"] > cut) & (when["date"] <= end)
                     & when["customer_id"].isin(seen)]
        assert forecast["actual"] == len(later.drop_duplicates(["customer_id", "date"]))
        error = forecast["predicted"] / forecast["actual"] - 1
        if resolution == "s":
            assert abs(error) < 0.04, forecast
        else:
            assert error > 0, forecast


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


def test_cdnow_summary_log_likelihood_at_the_published_parameters():
    """Fader, Hardie & Lee (2005), the 2,357-customer CDNOW sample (frequency, recency, T in
    weeks, as the customer summary holds it): pymc-marketing's BG/NBD likelihood at FHL's
    estimates is their log-likelihood, -9582.4 (measured -9582.43: the published parameters
    are rounded to 3 decimals, which moves it by less than 0.01)."""
    summary = load_customer_summary(CDNOW_SUMMARY)
    fhl = dict(zip(PARAMETERS, CDNOW_FHL, strict=True))
    assert log_likelihood(summary, fhl) == pytest.approx(CDNOW_FHL_LOG_LIKELIHOOD, abs=0.1)
    # FHL's forecast for the sample's next 39 weeks (equation 10) is pymc-marketing's too
    table = summary.table
    x, t_x, age = (table[k].to_numpy() for k in ("frequency", "recency", "T"))
    r, alpha, a, b = CDNOW_FHL
    t = 39.0
    by_hand = (a + b + x - 1) / (a - 1) * (
        1 - ((alpha + age) / (alpha + age + t)) ** (r + x)
        * hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + age + t))) / (
        1 + (x > 0) * a / (b + x - 1) * ((alpha + age) / (alpha + t_x)) ** (r + x))
    np.testing.assert_allclose(expected_purchases(fhl, table, t)[0], by_hand, rtol=1e-10)


def test_summary_refuses_a_calibration_end():
    log = simulate_transactions(0.8, 4.0, 1.0, 4.0, 100, 30.0, rng=np.random.default_rng(2))
    with pytest.raises(ValueError, match="needs a transaction log"):
        fit_repurchase(CustomerSummary("s", rfm(log)), calibration_end="2024-03-01")


@pytest.mark.long
def test_cdnow_summary_reproduces_fhl():
    """FHL (2005) on the 2,357-customer sample from its customer summary: the maximum of the
    likelihood (pymc-marketing's MAP under flat priors) is FHL's r .243, alpha 4.414, a .793,
    b 2.426 within 0.001 (their 3 decimals round by up to 0.0005; measured .2426, 4.4136,
    .7930, 2.4261), with log-likelihood -9582.4 within 0.1.

    NUTS with pymc-marketing's default priors (2 x 1000 draws, ~1 min) puts every posterior
    mean within 5% of FHL's (measured r .2448, alpha 4.487, a .7919, b 2.445: within 1.7%),
    with the maximum-likelihood r, alpha, a and b inside their 90% intervals. (The default
    priors' MAP sits further off, a .706 b 2.092; the posterior mean is what a calibration
    reports.) The frequency check (FHL's calibration-period histogram: customers with 0, 1,
    .., 7+ repeat purchases) is within 3 Poisson standard errors of the observed count in
    every cell (measured 1411 439 214 100 62 38 29 64 observed, 1411 460 192 101 58 38 26 72
    simulated)."""
    summary = load_customer_summary(CDNOW_SUMMARY)
    mle = maximum_likelihood(summary)
    print("CDNOW summary MLE:", mle)
    for name, published in zip(PARAMETERS, CDNOW_FHL, strict=True):
        assert mle[name] == pytest.approx(published, abs=0.001), name
    assert log_likelihood(summary, mle) == pytest.approx(CDNOW_FHL_LOG_LIKELIHOOD, abs=0.1)
    cal = fit_repurchase(summary, seed=1)
    report = cal.summary()
    assert report["diagnostics"]["converged"], report["diagnostics"]
    par = report["parameters"]
    print("CDNOW summary posterior:", {k: round(v["mean"], 4) for k, v in par.items()})
    for name, published in zip(PARAMETERS, CDNOW_FHL, strict=True):
        assert abs(par[name]["mean"] / published - 1) < 0.05, (name, par[name])
        assert par[name]["hdi_5%"] <= mle[name] <= par[name]["hdi_95%"], name
    expected = cal.check.predicted.mean(axis=0)
    assert (np.abs(cal.check.observed - expected) < 3 * np.sqrt(expected)).all(), expected


def test_too_few_repeat_buyers_is_a_data_error():
    table = pd.DataFrame({"customer_id": [f"c{i}" for i in range(60)],
                          "date": pd.Timestamp("2024-01-01"), "amount": 1.0})
    with pytest.raises(DataError, match="bought again"):
        fit_repurchase(TransactionLog("one-off", table))


@pytest.mark.long
def test_cdnow_holdout_forecast():
    """CDNOW master (23,570 customers of the Q1-1997 cohort), calibrated on weeks 1-39
    (to 1997-09-30) with NUTS (2 chains x 600 draws, about 35 s), forecast for weeks 40-78.

    Parameters land near FHL's 1/10-sample estimates (r .243, alpha 4.414, a .793, b 2.426):
    measured r .252, alpha 4.80, a .72, b 2.16; implied repurchase_days = 7 alpha / r = 133.
    The calibration period tracks closely (week 39: 24,438 expected vs 24,337 actual repeat
    purchases), but on the full master file the hold-out forecast is low: 16,905 (90%
    16,504-17,333) predicted vs 19,684 actual, -14%. FHL's own published parameters give
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


COVERAGE_FITS = 25


def coverage_study(fits: int = COVERAGE_FITS, *, resolution: str = "s", customers: int = 1000,
                   weeks: float = 52.0) -> dict:
    """Fit ``fits`` synthetic logs from seeded random truths; count 90% HDI hits per parameter.

    Truths are uniform on r in [0.3, 1.2], alpha in [2, 10], a in [0.5, 1.5], b in [2, 6];
    each log has ``customers`` customers observed to ``weeks`` weeks (first purchases in the
    first 12), fitted with 2 chains x 500 draws (500 tuning) on one core.
    """
    rng = np.random.default_rng(2024)
    end = str((pd.Timestamp("2024-01-01") + pd.Timedelta(weeks=weeks)).date())
    hits = dict.fromkeys(("r", "alpha", "a", "b"), 0)
    max_r_hat, divergences = 1.0, 0
    for i in range(fits):
        truth = {"r": rng.uniform(0.3, 1.2), "alpha": rng.uniform(2.0, 10.0),
                 "a": rng.uniform(0.5, 1.5), "b": rng.uniform(2.0, 6.0)}
        log = simulate_transactions(*truth.values(), customers, weeks,
                                    rng=np.random.default_rng(1000 + i))
        cal = fit_repurchase(log, calibration_end=end, draws=500, tune=500, chains=2,
                             cores=1, seed=i, resolution=resolution)
        summary = cal.summary()
        for name, row in summary["parameters"].items():
            hits[name] += int(row["hdi_5%"] <= truth[name] <= row["hdi_95%"])
        max_r_hat = max(max_r_hat, summary["diagnostics"]["max_r_hat"])
        divergences += summary["diagnostics"]["divergences"]
    return {"hits": hits, "max_r_hat": max_r_hat, "divergences": divergences}


@pytest.mark.long
def test_interval_coverage_on_synthetic_logs():
    """Each parameter's 90% interval (hdi_5%..hdi_95%) covers the truth in at least the lower
    1% binomial quantile of 90% coverage over the fits (19 of 25).

    Measured (resolution "s", 25 fits of 1,000 customers): r 24, alpha 23, a 25, b 25 of 25;
    max R-hat 1.018, no divergences; 4.0-4.4 min wall on a busy 2-core machine (< 2.2 min CPU).
    a and b over-cover: with 1,000 customers their posteriors are wide and prior-influenced.

    Counting purchases by day (the default ``resolution="D"``) on the same logs covers alpha
    in only 18 of 25, below the bound (r 23, a 25, b 25; max R-hat 1.014): merging a frequent
    buyer's same-day purchases loses purchases and shifts alpha up (see the module notes),
    hence resolution "s" here.
    """
    result = coverage_study()
    print("repurchase coverage:", result)
    need = int(stats.binom.ppf(0.01, COVERAGE_FITS, 0.90))
    assert need == 19
    assert all(k >= need for k in result["hits"].values()), result
    assert result["max_r_hat"] < 1.05 and result["divergences"] <= COVERAGE_FITS, result
