r"""Media response: ad-stock and saturation per channel, with baseline, trend and weekday
effects, on a media series (``date, spend_<channel>..., gmv`` or ``orders``).

With spend :math:`x_{tc}` scaled by each channel's maximum and the outcome :math:`y_t` by
its maximum :math:`Y`:

.. math::

    a_{tc} &= \frac{\sum_{l=0}^{L-1} \alpha_c^l\, x_{t-l,c}}{\sum_{l=0}^{L-1} \alpha_c^l}
    \qquad \text{(geometric ad-stock, normalised; } L = 12\text{)}\\
    s_{tc} &= \frac{1 - e^{-\lambda_c a_{tc}}}{1 + e^{-\lambda_c a_{tc}}}
    \qquad \text{(logistic saturation)}\\
    \frac{y_t}{Y} &\sim N\Bigl(\beta_0 + \beta_1 \frac{t}{T} + w_{d(t)}
    + \sum_c \beta_c s_{tc},\ \sigma\Bigr),

where :math:`w_d` are day-of-week effects summing to zero (only for daily data). Both
transformations are pymc-marketing's (``pymc_marketing.mmm.transformers.geometric_adstock``
and ``logistic_saturation``). Reported per channel: ``adstock_alpha[c]`` (the share of
effect carried to the next period), ``saturation_lam[c]``, ``channel_coef[c]`` and
``roas[c]`` :math:`= Y \sum_t \beta_c s_{tc} / \sum_t x^{raw}_{tc}`, the total contribution
per unit of spend.

Priors (scaled units): :math:`\alpha_c \sim \mathrm{Beta}(1, 3)` (mean 0.25; Robyn's guidance
puts digital at 0-0.3 and TV at 0.3-0.8 per week), :math:`\lambda_c \sim \mathrm{Gamma}(3, 1)`,
:math:`\beta_c \sim \mathrm{HalfNormal}(1)`, :math:`\beta_0 \sim N(0.5, 0.5)`,
:math:`\beta_1 \sim N(0, 0.5)`, :math:`w \sim \mathrm{ZeroSumNormal}(0.2)`,
:math:`\sigma \sim \mathrm{HalfNormal}(0.2)`.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd
import pymc as pm
from pymc_extras.prior import Prior

from .base import Calibration, PosteriorCheck, predictive, resolve_priors, sample
from .data import DataError, MediaSeries

L_MAX = 12

PRIORS: dict[str, Prior] = {
    "adstock_alpha": Prior("Beta", alpha=1.0, beta=3.0, dims="channel"),
    "saturation_lam": Prior("Gamma", alpha=3.0, beta=1.0, dims="channel"),
    "channel_coef": Prior("HalfNormal", sigma=1.0, dims="channel"),
    "intercept": Prior("Normal", mu=0.5, sigma=0.5),
    "trend": Prior("Normal", mu=0.0, sigma=0.5),
    "weekday": Prior("ZeroSumNormal", sigma=0.2, dims="day_of_week"),
    "sigma": Prior("HalfNormal", sigma=0.2),
}


def _transforms():
    with warnings.catch_warnings():  # pytensor.xtensor warns that it is experimental
        warnings.simplefilter("ignore", UserWarning)
        from pymc_marketing.mmm.transformers import geometric_adstock, logistic_saturation
        from pytensor.xtensor import as_xtensor
    return as_xtensor, geometric_adstock, logistic_saturation


def media_model(series: MediaSeries, *, priors: Mapping[str, Prior] | None = None,
                lift_tests: pd.DataFrame | None = None) -> pm.Model:
    """The PyMC model of ``series`` (equations in the module docstring), with the
    likelihood of ``lift_tests`` (``analysis.calibration.lift_tests``) when given."""
    if series.unpaid:
        raise DataError(series.source, f"spend_{series.unpaid[0]}", None, "missing column: "
                        "the media-mix model measures return on spend, and this channel has "
                        "impressions only (unpaid)")
    as_xtensor, geometric_adstock, logistic_saturation = _transforms()
    pri = resolve_priors(PRIORS, priors)
    spend_scale = series.spend.max(axis=0)
    y_scale = float(series.outcome.max()) or 1.0
    x = series.spend / spend_scale
    n = len(series.date)
    daily = abs(series.days_per_period - 1.0) < 1e-9
    coords = {"date": np.arange(n), "channel": list(series.channels),
              "day_of_week": list(range(7))}
    with pm.Model(coords=coords) as model:
        alpha = pri["adstock_alpha"].create_variable("adstock_alpha")
        # named tensors with dims, as PyMC-Marketing's lift-test likelihood indexes them
        lam = pri["saturation_lam"].create_variable("saturation_lam", xdist=True)
        coef = pri["channel_coef"].create_variable("channel_coef", xdist=True)
        stock = geometric_adstock(as_xtensor(pm.math.constant(x), dims=("date", "channel")),
                                  as_xtensor(alpha, dims=("channel",)), l_max=L_MAX,
                                  dim="date", normalize=True)
        sat = logistic_saturation(stock, lam).transpose("date", "channel").values
        coef = coef.values
        contribution = pm.Deterministic("contribution", coef * sat * y_scale,
                                        dims=("date", "channel"))
        pm.Deterministic("roas", contribution.sum(axis=0) / series.spend.sum(axis=0),
                         dims="channel")
        mu = pri["intercept"].create_variable("intercept") \
            + pri["trend"].create_variable("trend") * np.arange(n) / max(n - 1, 1) \
            + (coef * sat).sum(axis=1)
        if daily:
            weekday = pri["weekday"].create_variable("weekday")
            mu = mu + weekday[series.date.day_of_week.to_numpy()]
        sigma = pri["sigma"].create_variable("sigma")
        pm.Normal("outcome", mu=mu * y_scale, sigma=sigma * y_scale, observed=series.outcome,
                  dims="date")
    if lift_tests is not None and len(lift_tests):
        add_lift_tests(model, lift_tests, spend_scale=spend_scale, y_scale=y_scale)
    return model


def add_lift_tests(model: pm.Model, lift_tests: pd.DataFrame, *, spend_scale: np.ndarray,
                   y_scale: float) -> None:
    """Condition ``model``'s saturation curves on lift tests, with PyMC-Marketing's lift
    likelihood: ``|coef * (s(x + delta_x) - s(x))| ~ Gamma(|delta_y|, sigma)`` in the model's
    scaled units (``pymc_marketing.mmm.lift_test``)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        from pymc_marketing.mmm import LogisticSaturation
        from pymc_marketing.mmm.lift_test import (
            add_saturation_observations,
            scale_lift_measurements,
        )
    channels = list(model.coords["channel"])
    wrong = (lift_tests["delta_x"] * lift_tests["delta_y"] < 0).to_numpy()
    if wrong.any():  # the likelihood assumes more spend never lowers the outcome
        raise ValueError(f"lift test row {int(np.argmax(wrong)) + 1}: delta_y has the "
                         "opposite sign of delta_x; drop or re-run that test")
    scaled = scale_lift_measurements(
        lift_tests[["channel", "x", "delta_x", "delta_y", "sigma"]], channel_col="channel",
        channel_columns=channels, channel_transform=lambda a: a / spend_scale,
        target_transform=lambda a: a / y_scale)
    add_saturation_observations(scaled, {"lam": "saturation_lam", "beta": "channel_coef"},
                                LogisticSaturation().function, model=model)


def fit_media(series: MediaSeries, *, priors: Mapping[str, Prior] | None = None,
              draws: int = 1000, tune: int = 1000, chains: int = 2, seed: int = 0,
              cores: int | None = None, progressbar: bool = False,
              dense_mass: bool = False, lift_tests: pd.DataFrame | None = None
              ) -> Calibration:
    """Fit the media model with NUTS (conditioned on ``lift_tests`` when given).

    ``dense_mass=True`` adapts a full (dense) mass matrix during tuning instead of a diagonal
    one. The posterior of ``log saturation_lam`` and ``log channel_coef`` is strongly
    correlated (about -0.95 when the saturation curve is only mildly bent over the spend
    range: their product, the initial slope, is what the data pin down); a dense mass matrix
    removes that linear correlation and cuts the leapfrog steps per draw two- to
    threefold (PyMC still labels this adaptation experimental). Keep enough tuning draws (a
    few hundred) to estimate it.

    Returns
    -------
    Calibration
        Parameters ``adstock_alpha[c]``, ``saturation_lam[c]``, ``channel_coef[c]``,
        ``roas[c]`` (outcome units per unit of spend), ``intercept``, ``trend``.
    """
    model = media_model(series, priors=priors, lift_tests=lift_tests)
    idata = sample(model, draws=draws, tune=tune, chains=chains, seed=seed,
                   target_accept=0.95, cores=cores, progressbar=progressbar,
                   init="jitter+adapt_full" if dense_mass else "jitter+adapt_diag")
    predicted = predictive(model, idata, ["outcome"], seed=seed)
    check = PosteriorCheck(np.arange(len(series.date), dtype=float), series.outcome, predicted,
                           f"period (from {series.date[0].date()})", series.outcome_name)
    return Calibration("media", idata, ("adstock_alpha", "saturation_lam", "channel_coef",
                                        "roas", "intercept", "trend"), check,
                       {"source": series.source, "channels": list(series.channels),
                        "spend_share": (series.spend.sum(axis=0)
                                        / series.spend.sum()).tolist(),
                        "outcome": series.outcome_name,
                        "days_per_period": series.days_per_period,
                        "lift_tests": 0 if lift_tests is None else len(lift_tests)})


def media_contribution(truth: Mapping[str, Mapping[str, float]],
                       spend: np.ndarray) -> np.ndarray:
    """Each channel's true contribution to the outcome, shape (periods, channels).

    Pure NumPy (independent of pymc-marketing, so a fit of simulated data checks the model's
    transformations too): the normalised geometric ad-stock of ``spend / spend.max()`` over
    ``L_MAX`` lags, spend before the first period taken as zero, then
    ``coef * (1 - exp(-lam * a)) / (1 + exp(-lam * a))``. ``truth[c]`` holds ``alpha``,
    ``lam`` and ``coef`` (outcome units at full saturation) for the columns of ``spend`` in
    order.
    """
    spend = np.asarray(spend, dtype=float)
    out = np.empty_like(spend)
    for j, c in enumerate(truth):
        a, lam, coef = truth[c]["alpha"], truth[c]["lam"], truth[c]["coef"]
        w = a ** np.arange(L_MAX)
        x = spend[:, j] / spend[:, j].max()
        stock = np.convolve(x, w)[: len(x)] / w.sum()
        out[:, j] = coef * (1 - np.exp(-lam * stock)) / (1 + np.exp(-lam * stock))
    return out


def draw_media_truth(channels: tuple[str, ...] | list[str], *, rng: np.random.Generator,
                     coef: tuple[float, float] = (15.0, 45.0)) -> dict[str, dict[str, float]]:
    """A random truth for :func:`simulate_media`: per channel ``alpha`` ~ U(0.05, 0.7),
    ``lam`` ~ U(1, 5) and ``coef`` ~ U(*coef) (outcome units; the default baseline is 100).

    The ranges sit inside the bulk of the model's priors (Beta(1, 3) has 97% of its mass
    below 0.7; Gamma(3, 1) 80% between 1 and 5). Below ``lam`` 1 the curve is nearly straight
    over the spend range and the data identify only the product ``lam * coef``.
    """
    return {c: {"alpha": float(rng.uniform(0.05, 0.7)), "lam": float(rng.uniform(1.0, 5.0)),
                "coef": float(rng.uniform(*coef))} for c in channels}


def simulate_media(truth: Mapping[str, Mapping[str, float]], periods: int, *,
                   rng: np.random.Generator, baseline: float = 100.0,
                   noise: float = 5.0, trend: float = 0.0, freq: str = "D",
                   on_share: float = 0.6) -> MediaSeries:
    """A synthetic media series from known per-channel ``alpha``, ``lam`` and ``coef``
    (contribution at full saturation, outcome units; see :func:`media_contribution`).

    Spend is pulsed: each period a channel spends U(0, 100) with probability ``on_share``,
    else nothing. The outcome is ``baseline + trend * t / (periods - 1)`` plus the channels'
    contributions plus N(0, ``noise``) noise, with ``periods`` dates ``freq`` apart
    (``"D"`` daily, ``"W"`` weekly: then the model has no weekday effects). The true ROAS of
    channel ``c`` is ``media_contribution(truth, series.spend)[:, c].sum() / spend.sum()``.
    """
    channels = tuple(truth)
    spend = np.column_stack([rng.uniform(0, 100, periods) * (rng.random(periods) < on_share)
                             for _ in channels])
    y = np.full(periods, baseline) + rng.normal(0, noise, periods)
    y += trend * np.arange(periods) / max(periods - 1, 1)
    y += media_contribution(truth, spend).sum(axis=1)
    freq = {"D": "D", "W": "W-MON"}.get(freq, freq)
    date = pd.date_range("2024-01-01", periods=periods, freq=freq)
    return MediaSeries("synthetic", date, channels, spend, np.clip(y, 0, None), "gmv", None,
                       None)
