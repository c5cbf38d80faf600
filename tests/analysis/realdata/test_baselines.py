"""The baselines reproduce the known figures of the fixed-effects regression on the whole
panel (docs/real_market.md), and the scores behave."""

import numpy as np
import pandas as pd
import pytest

from analysis.realdata.baselines import fit_fixed_effects, fit_store_mean
from analysis.realdata.metrics import Forecast, covered, elasticities, interval_score, score


@pytest.fixture(scope="module")
def regression(oj_panel):
    return fit_fixed_effects(oj_panel.table)


def test_regression_reproduces_the_known_elasticities_and_residual_sd(regression):
    """The fixed-effects log-log regression on Dominick's orange juice, all 121 weeks: store
    and week effects, 11 log prices, deal, feature, last week's price and deal give own-price
    elasticities of about -1.8 to -2.2 and residual sd 0.26-0.45 for the national brands
    (1, 2, 4, 5, 8, 10); the premium and small brands (3, 6, 7, 9) are more
    elastic, the 128-oz store brand (11) less. Standard errors of the elasticities are about
    0.05-0.1 on ~9,600 rows, hence the 0.1 margins."""
    c = regression.coefficients()
    own = pd.Series(np.diag(c.iloc[:, :11].to_numpy()), index=c.index)
    assert own[[1, 2, 4, 5, 8, 10]].between(-2.3, -1.7).all(), own
    assert own[[3, 6, 7, 9]].lt(-2.3).all() and -1.0 < own[11] < 0
    sigma = c["sigma"]
    assert sigma[[1, 3, 4, 5, 7, 8, 10]].between(0.25, 0.46).all(), sigma
    # competitors' prices are substitutes on average: positive cross elasticities dominate
    cross = c.iloc[:, :11].to_numpy()[~np.eye(11, dtype=bool)]
    assert np.mean(cross > 0) > 0.6


def test_forecast_weeks_beat_the_store_mean(oj_panel):
    t = oj_panel.table
    train, test = t[t.week <= 120], t[(t.week > 120) & t.brand.isin([1, 5, 8])]
    fe, mean = (score(m.predict(test), test) for m in (fit_fixed_effects(train),
                                                       fit_store_mean(train)))
    assert fe["lpd"] > mean["lpd"] + 0.1 and fe["rmse"] < mean["rmse"]
    # the store mean cannot see deals: its lift is zero, so its error is minus the observed
    assert mean["deal_lift_error"] == pytest.approx(-mean["deal_lift_observed"], abs=0.05)
    assert fe["deal_lift_observed"] > 0.3 and abs(fe["deal_lift_error"]) < 0.2


def test_elasticities_by_finite_differences_are_the_coefficients(oj_panel, regression):
    t = oj_panel.table
    rows = t[t.brand.isin([5, 8])]
    e = elasticities(regression.predict, rows, brands=(5, 8))
    c = regression.coefficients()
    assert e.loc[5, "price5"] == pytest.approx(c.loc[5, "log_price5"], abs=1e-6)
    assert e.loc[8, "price5"] == pytest.approx(c.loc[8, "log_price5"], abs=1e-6)
    assert (fit_store_mean(t).predict(rows).mean == fit_store_mean(t).predict(
        rows.assign(price5=rows.price5 * 2)).mean).all()


def test_interval_scores_and_coverage_of_a_true_normal():
    """On draws from the forecast itself the 90% interval covers 90% (sd of the share
    sqrt(.09/n) = 0.002 at n = 20,000) and the interval score is smaller than for a
    forecast that is too narrow or shifted (Gneiting & Raftery 2007: a proper score)."""
    rng = np.random.default_rng(3)
    y = rng.normal(0.0, 1.0, 20_000)
    n = len(y)
    true = Forecast(np.zeros(n), np.ones(n))
    assert covered(true, y).mean() == pytest.approx(0.9, abs=0.008)
    for wrong in (Forecast(np.zeros(n), np.full(n, 0.5)), Forecast(np.full(n, 0.5), np.ones(n))):
        assert interval_score(wrong, y).mean() > interval_score(true, y).mean() + 0.05
