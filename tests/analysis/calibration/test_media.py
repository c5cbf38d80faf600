"""Media response: the pymc-marketing transformations inside, names per channel, ROAS."""

import numpy as np
import pandas as pd
import pytest

from analysis.calibration.data import load_media
from analysis.calibration.media import (
    draw_media_truth,
    fit_media,
    media_contribution,
    media_model,
    simulate_media,
)

from ...conftest import SHARED_DATA
from .conftest import MEDIA_TRUTH


def test_model_names_and_weekday_effects_only_for_daily_data():
    daily = simulate_media(MEDIA_TRUTH, 40, rng=np.random.default_rng(1))
    names = {v.name for v in media_model(daily).unobserved_RVs}
    assert {"adstock_alpha", "saturation_lam", "channel_coef", "roas", "weekday"} <= names
    weekly = type(daily)(**{**daily.__dict__, "date": daily.date[::1] + np.arange(40) *
                            np.timedelta64(6, "D")})
    assert weekly.days_per_period == 7.0
    assert "weekday" not in {v.name for v in media_model(weekly).unobserved_RVs}


def test_media_model_refuses_an_unpaid_channel():
    from analysis.calibration.data import DataError

    series = simulate_media(MEDIA_TRUTH, 40, rng=np.random.default_rng(1))
    unpaid = type(series)(**{**series.__dict__, "unpaid": series.channels[-1:]})
    with pytest.raises(DataError, match="impressions only") as err:
        media_model(unpaid)
    assert err.value.column == f"spend_{series.channels[-1]}"


def test_roas_is_contribution_over_spend(tiny_fits):
    cal = tiny_fits("media")
    post = cal.idata.posterior
    spend = cal.check.observed  # outcome; spend comes from the fit's own data below
    assert spend.shape == (56,)
    contribution = post["contribution"].sum("date")
    ratio = (contribution / post["roas"]).mean(("chain", "draw")).values
    series = simulate_media(MEDIA_TRUTH, 56, rng=np.random.default_rng(0))
    np.testing.assert_allclose(ratio, series.spend.sum(axis=0), rtol=1e-9)


def test_tiny_fit_orders_the_carry_over(tiny_fits):
    par = tiny_fits("media").summary()["parameters"]
    assert par["adstock_alpha[tv]"]["mean"] > par["adstock_alpha[search]"]["mean"]
    assert all(par[f"roas[{c}]"]["mean"] > 0 for c in MEDIA_TRUTH)


def test_unknown_prior_is_refused():
    series = simulate_media(MEDIA_TRUTH, 40, rng=np.random.default_rng(1))
    with pytest.raises(ValueError, match="did you mean 'adstock_alpha'"):
        media_model(series, priors={"adstock_alfa": None})


def test_numpy_generator_matches_the_model_transformations():
    """``media_contribution`` (NumPy, used by the simulator and the reference fits below) gives
    the model's ``contribution`` at the true parameters: ad-stock, normalisation, zero spend
    before the first period and logistic saturation agree with pymc-marketing's."""
    rng = np.random.default_rng(3)
    truth = draw_media_truth(("tv", "search", "social"), rng=rng)
    truth["social"]["alpha"] = 0.0  # no carry-over at all
    series = simulate_media(truth, 30, rng=rng, freq="W")
    model = media_model(series)
    contribution = model.compile_fn(model["contribution"], point_fn=False, inputs=[
        model["adstock_alpha"], model["saturation_lam"], model["channel_coef"]])
    values = [np.array([truth[c][k] for c in truth]) for k in ("alpha", "lam", "coef")]
    got = contribution(values[0], values[1], values[2] / series.outcome.max())
    np.testing.assert_allclose(got, media_contribution(truth, series.spend), rtol=1e-10)


def test_weekly_simulation_and_seeded_truth():
    truth = draw_media_truth(("tv", "search"), rng=np.random.default_rng(5))
    assert truth == draw_media_truth(("tv", "search"), rng=np.random.default_rng(5))
    assert all(0.05 <= t["alpha"] <= 0.7 and 1 <= t["lam"] <= 5 for t in truth.values())
    series = simulate_media(truth, 20, rng=np.random.default_rng(5), freq="W", noise=0.0,
                            trend=10.0)
    assert series.days_per_period == 7.0
    assert "weekday" not in {v.name for v in media_model(series).unobserved_RVs}
    base = series.outcome - media_contribution(truth, series.spend).sum(axis=1)
    np.testing.assert_allclose(base, 100 + 10 * np.arange(20) / 19)


def _true_values(truth, series) -> dict[str, float]:
    """The summary names' true values: ``channel_coef`` in the model's units (outcome / its
    maximum), ``roas`` = total true contribution / total spend."""
    contribution = media_contribution(truth, series.spend)
    scale = float(series.outcome.max())
    out = {}
    for j, c in enumerate(series.channels):
        out[f"adstock_alpha[{c}]"] = truth[c]["alpha"]
        out[f"saturation_lam[{c}]"] = truth[c]["lam"]
        out[f"channel_coef[{c}]"] = truth[c]["coef"] / scale
        out[f"roas[{c}]"] = contribution[:, j].sum() / series.spend[:, j].sum()
    return out


COVERAGE_SETS = 20


@pytest.mark.long  # about 5 min on one core: beyond the CI budget; `make test-long`
def test_interval_coverage_on_20_synthetic_series():
    """Parameter recovery: 20 weekly series (104 weeks, channels tv and search, pulsed spend,
    baseline 100 with a trend U(-10, 10), noise sd 5) from a truth drawn per series by
    ``draw_media_truth`` (alpha U(0.05, 0.7), lam U(1, 5), coef U(15, 45)); the data come
    from NumPy (``media_contribution``), not from pymc-marketing. A 90% interval
    (hdi_5%..hdi_95%) covers the truth in Binomial(20, 0.9) of the series, so each
    parameter and channel must cover at least the lower 1% quantile, 14 of 20
    (P(X < 14) = 0.002). Every fit must pass the convergence rule.

    NUTS 2 chains x (400 tuning + 1,200 kept) draws on one core, with a dense mass matrix:
    log lam and log coef are correlated about -0.95 in these posteriors, so the default
    diagonal one needs ~75 leapfrog steps per draw against ~35. (Diagonal, 500 + 1,000
    draws: same coverage but 465 s of CPU and one fit at R-hat 1.014.)

    Measured (20 sets, 322 s CPU on a busy 2-core machine): tv alpha 18, lam 16, coef 19,
    roas 17; search alpha 18, lam 18, coef 19, roas 16; all converged (min ESS 546, max
    R-hat 1.006, no divergences). A pilot of 30 other series (no trend, diagonal mass,
    2 x 500 draws) gave 25-30 of 30 for every name; over both, 360 of 400 intervals (90%)
    cover. coef covers most often (48 and 49 of 50): where the curve is barely bent its
    posterior is wide, leaning on its HalfNormal prior.
    """
    from scipy.stats import binom

    covered: dict[str, int] = {}
    unconverged = []
    for i in range(COVERAGE_SETS):
        rng = np.random.default_rng(100 + i)
        truth = draw_media_truth(("tv", "search"), rng=rng)
        series = simulate_media(truth, 104, rng=rng, freq="W", trend=rng.uniform(-10, 10))
        summary = fit_media(series, draws=1200, tune=400, chains=2, cores=1, seed=i,
                            dense_mass=True).summary()
        if not summary["diagnostics"]["converged"]:
            unconverged.append((i, summary["diagnostics"]["warnings"]))
        for name, value in _true_values(truth, series).items():
            p = summary["parameters"][name]
            covered[name] = covered.get(name, 0) + int(p["hdi_5%"] <= value <= p["hdi_95%"])
    print("media coverage of", COVERAGE_SETS, "sets:", covered, "unconverged:", unconverged)
    floor = int(binom.ppf(0.01, COVERAGE_SETS, 0.9))
    assert floor == 14
    assert not unconverged
    assert min(covered.values()) >= floor, covered


PINKHAM = SHARED_DATA / "ad_sales" / "pinkham.csv"
PINKHAM_DRAWS, PINKHAM_TUNE = 1500, 500  # saturation_lam: ESS ~0.2 per draw


def _pinkham_series(tmp_path):
    """The Lydia Pinkham series (annual advertising and sales, 1907-1960) in the media layout,
    as benchmarks/bench_calibration.py writes it, read back through ``load_media``."""
    if not PINKHAM.is_file():
        pytest.skip(f"no {PINKHAM}")
    frame = pd.read_csv(PINKHAM)
    path = tmp_path / "pinkham_media.csv"
    pd.DataFrame({"date": frame["year"].astype(str) + "-01-01",
                  "spend_advertising": frame["advertising"],
                  "gmv": frame["sales"]}).to_csv(path, index=False)
    return load_media(path)


def _least_squares(series) -> dict[str, float]:
    """Nonlinear least squares of the model's mean function (scaled units, as in the model):
    intercept + trend * t / (n - 1) + coef * logistic(lam * adstock(x / max x, alpha)),
    multi-started over alpha and lam."""
    from scipy.optimize import least_squares

    y = series.outcome / series.outcome.max()
    t = np.arange(len(y)) / (len(y) - 1)

    def residual(p):
        b0, b1, coef, alpha, lam = p
        truth = {"c": {"alpha": alpha, "lam": lam, "coef": coef}}
        return b0 + b1 * t + media_contribution(truth, series.spend)[:, 0] - y

    fits = [least_squares(residual, [0.3, 0.0, 0.5, a0, l0],
                          bounds=([-5, -5, 0, 0, 1e-6], [5, 5, 50, 0.999, 200]))
            for a0 in (0.1, 0.3, 0.5, 0.7, 0.9) for l0 in (0.5, 2.0, 5.0)]
    best = min(fits, key=lambda r: r.cost)
    return dict(zip(("intercept", "trend", "channel_coef", "adstock_alpha", "saturation_lam"),
                    best.x.tolist(), strict=True))


def _koyck_lambda(series) -> float:
    """OLS of sales_t = a + b adv_t + lambda sales_{t-1}: the classic Koyck carry-over."""
    y, x = series.outcome, series.spend[:, 0]
    design = np.column_stack([np.ones(len(y) - 1), x[1:], y[:-1]])
    return float(np.linalg.lstsq(design, y[1:], rcond=None)[0][2])


@pytest.mark.long  # two NUTS fits of 54 points: about 25 s on one core
def test_pinkham_carry_over_agrees_with_least_squares(tmp_path):
    """The posterior of ``adstock_alpha`` on the Lydia Pinkham series lands on the
    least-squares estimate of the same mean function, with the default Beta(1, 3) prior and
    with a flat Beta(1, 1) one (so the prior is not what sets it).

    Measured (2 x 1,500 draws, dense mass; both converged, min ESS 547 and 671): least
    squares alpha 0.119 (lam 3.34, coef 1.01, intercept -0.10; ROAS 2.35); posterior alpha
    mean 0.124, sd 0.082, 90% HDI 0.000-0.239 with Beta(1, 3), and 0.141, sd 0.089,
    0.002-0.265 with Beta(1, 1) (lam 2.78, coef 1.08, intercept -0.04, ROAS 2.10, 90% HDI
    1.42-2.80). The least-squares residual sum of squares profiled over alpha is smallest
    near 0.1 and at alpha 0.6 is 50% larger.

    Against the literature: classic estimates of the annual carry-over on this series (Palda
    1964 and later Koyck / distributed-lag re-analyses) are roughly 0.5-0.7; an OLS Koyck fit
    sales_t = a + b adv_t + lambda sales_{t-1} on this file gives lambda 0.76 (0.68 in logs).
    The model's alpha is far lower, and not because of the prior (flat prior, same answer),
    the 12-lag window or the zero spend before 1907 (least squares with pre-sample spend
    held at the 1907 level gives 0.07, with 12 or 30 lags). The Koyck lambda is the
    persistence of *sales*: it also absorbs whatever else carries sales from year to year,
    whereas the media model puts the carry-over on advertising only and treats the rest as
    independent noise. Its residuals here have lag-1 autocorrelation 0.74, so that
    assumption fails on this series and its intervals are likely too narrow; least squares
    with AR(1) errors (rho 0.89) moves alpha only to 0.28.
    """
    from pymc_extras.prior import Prior

    series = _pinkham_series(tmp_path)
    assert series.channels == ("advertising",) and len(series.date) == 54
    ls = _least_squares(series)
    assert 0.05 < ls["adstock_alpha"] < 0.2  # measured 0.119
    flat = {"adstock_alpha": Prior("Beta", alpha=1.0, beta=1.0, dims="channel")}
    for priors in (None, flat):
        summary = fit_media(series, priors=priors, draws=PINKHAM_DRAWS, tune=PINKHAM_TUNE,
                            chains=2, cores=1, seed=0, dense_mass=True).summary()
        alpha = summary["parameters"]["adstock_alpha[advertising]"]
        print("Pinkham", "flat" if priors else "default", "prior: alpha", alpha,
              "least squares", ls["adstock_alpha"], "Koyck lambda", _koyck_lambda(series),
              summary["diagnostics"])
        assert summary["diagnostics"]["converged"], summary["diagnostics"]
        assert alpha["hdi_5%"] <= ls["adstock_alpha"] <= alpha["hdi_95%"]
        assert abs(alpha["mean"] - ls["adstock_alpha"]) < 0.5 * alpha["sd"]
