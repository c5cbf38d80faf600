"""Media response: the pymc-marketing transformations inside, names per channel, ROAS."""

import numpy as np
import pytest

from analysis.calibration.media import media_model, simulate_media

from .conftest import MEDIA_TRUTH


def test_model_names_and_weekday_effects_only_for_daily_data():
    daily = simulate_media(MEDIA_TRUTH, 40, rng=np.random.default_rng(1))
    names = {v.name for v in media_model(daily).unobserved_RVs}
    assert {"adstock_alpha", "saturation_lam", "channel_coef", "roas", "weekday"} <= names
    weekly = type(daily)(**{**daily.__dict__, "date": daily.date[::1] + np.arange(40) *
                            np.timedelta64(6, "D")})
    assert weekly.days_per_period == 7.0
    assert "weekday" not in {v.name for v in media_model(weekly).unobserved_RVs}


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
