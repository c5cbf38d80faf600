r"""The regressions a planner already has, fitted brand by brand on the training rows.

Fixed-effects log-log regression (the planner's baseline; Montgomery 1997 style):

.. math::

    \log q_{sjt} = a_{sj} + d_{jt} + \sum_{k=1}^{11} \beta_{jk} \log p_{skt}
                   + \delta_j D_{sjt} + \phi_j F_{sjt} + \rho_j \log p_{sj,t-1}
                   + \kappa_j D_{sj,t-1} + \varepsilon_{sjt},
    \qquad \varepsilon \sim N(0, \sigma_j^2),

with store effects :math:`a`, week effects :math:`d_{jt} \sim N(0, \tau_j^2)`, deal
:math:`D`, feature :math:`F`, and the previous observed week's own price and deal.

The week effects are random, not free: Dominick's sets features (and often prices) for the
whole chain, so with a free effect per week the feature coefficient is not identified (on
weeks 40-120 least squares puts 35 on brand 5's feature, and a forecast of weeks 121-160
misses by 15 log units). :math:`\sigma_j^2` and :math:`\tau_j^2` are estimated by EM for
variance components (Henderson's mixed-model equations, 30 iterations from
:math:`\tau^2 = \sigma^2`); on all 121 weeks the own-price elasticities equal those of free
week effects to within 0.1 (brand 5: -1.84 against -1.80). A week the fit has not seen (a forecast week) gets :math:`d = 0` and a
predictive sd :math:`\sqrt{\sigma_j^2 + \tau_j^2}`; a seen week gets its estimate and
:math:`\sigma_j`. Parameter uncertainty is left out (tens of parameters on thousands of
rows).

Per-store mean: :math:`\log q_{sjt} \sim N(m_{sj}, s_{sj}^2 (1 + 1/n_{sj}))`, the store's own
mean and sd of the brand's log sales over its training weeks (the brand's overall mean and sd
for a store without any).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .metrics import Forecast
from .oj import PRICES

COVARIATES = (*(f"log_{p}" for p in PRICES), "deal", "feat", "lag_price", "lag_deal")


def covariates(table: pd.DataFrame) -> np.ndarray:
    """(rows, 15): the 11 log prices, deal, feature, last week's own log price and deal."""
    logs = np.log(table[list(PRICES)].to_numpy())
    return np.column_stack([logs, table[["deal", "feat", "lag_price", "lag_deal"]].to_numpy()])


@dataclass(frozen=True)
class BrandRegression:
    coef: np.ndarray  # (15,) in the order of COVARIATES
    store_effect: pd.Series
    week_effect: pd.Series
    sigma: float
    week_sd: float


@dataclass(frozen=True)
class FixedEffects:
    """One :class:`BrandRegression` per brand; ``predict`` forecasts any table's rows."""

    by_brand: dict[int, BrandRegression]

    def predict(self, table: pd.DataFrame) -> Forecast:
        mean, sd = np.empty(len(table)), np.empty(len(table))
        x = covariates(table)
        for b, fit in self.by_brand.items():
            rows = np.flatnonzero(table.brand.to_numpy() == b)
            store = table.store.to_numpy()[rows]
            week = table.week.to_numpy()[rows]
            a = fit.store_effect.reindex(store).fillna(fit.store_effect.mean()).to_numpy()
            d = fit.week_effect.reindex(week)
            mean[rows] = x[rows] @ fit.coef + a + d.fillna(0.0).to_numpy()
            sd[rows] = np.where(d.isna(), np.hypot(fit.sigma, fit.week_sd), fit.sigma)
        return Forecast(mean, sd)

    def coefficients(self) -> pd.DataFrame:
        """Brand x covariate coefficients, with the residual sd as the last column."""
        frame = pd.DataFrame({b: f.coef for b, f in self.by_brand.items()},
                             index=list(COVARIATES)).T
        frame["sigma"] = [f.sigma for f in self.by_brand.values()]
        return frame.rename_axis("brand")


def _dummies(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    levels, code = np.unique(values, return_inverse=True)
    return levels, np.eye(len(levels))[code]


def fit_brand(table: pd.DataFrame, iterations: int = 30) -> BrandRegression:
    """Mixed-model fit of one brand's rows (module docstring)."""
    x = covariates(table)
    stores, s = _dummies(table.store.to_numpy())
    weeks, w = _dummies(table.week.to_numpy())
    design = np.column_stack([x, s, w])
    fixed = x.shape[1] + len(stores)
    y = table.logmove.to_numpy()
    gram, rhs = design.T @ design, design.T @ y
    sigma2 = float(np.var(y))
    tau2 = sigma2
    for _ in range(iterations):
        penalty = np.r_[np.zeros(fixed), np.full(len(weeks), sigma2 / tau2)]
        inverse = np.linalg.pinv(gram + np.diag(penalty))  # a price constant on few rows
        beta = inverse @ rhs
        resid = y - design @ beta
        d, c_dd = beta[fixed:], np.trace(inverse[fixed:, fixed:])
        edf = design.shape[1] - sigma2 / tau2 * c_dd
        tau2 = float((d @ d + sigma2 * c_dd) / len(weeks))
        sigma2 = float(resid @ resid / max(len(y) - edf, 1.0))
    return BrandRegression(beta[:x.shape[1]], pd.Series(beta[x.shape[1]:fixed], stores),
                           pd.Series(beta[fixed:], weeks), float(np.sqrt(sigma2)),
                           float(np.sqrt(tau2)))


def fit_fixed_effects(table: pd.DataFrame) -> FixedEffects:
    """The fixed-effects regression of every brand in ``table`` (the training rows)."""
    return FixedEffects({int(b): fit_brand(rows) for b, rows in table.groupby("brand")})


@dataclass(frozen=True)
class StoreMean:
    mean: pd.Series  # indexed by (store, brand)
    sd: pd.Series
    count: pd.Series
    brand_mean: pd.Series
    brand_sd: pd.Series

    def predict(self, table: pd.DataFrame) -> Forecast:
        key = pd.MultiIndex.from_arrays([table.store.to_numpy(), table.brand.to_numpy()])
        fallback_mean = self.brand_mean.reindex(table.brand.to_numpy()).to_numpy()
        fallback_sd = self.brand_sd.reindex(table.brand.to_numpy()).to_numpy()
        mean = self.mean.reindex(key).to_numpy()
        sd = (self.sd * np.sqrt(1 + 1 / self.count)).reindex(key).to_numpy()
        return Forecast(np.where(np.isnan(mean), fallback_mean, mean),
                        np.where(np.isnan(sd), fallback_sd, sd))


def fit_store_mean(table: pd.DataFrame) -> StoreMean:
    by = table.groupby(["store", "brand"])["logmove"]
    brand = table.groupby("brand")["logmove"]
    return StoreMean(by.mean(), by.std(ddof=1).fillna(brand.std(ddof=1).mean()), by.size(),
                     brand.mean(), brand.std(ddof=1))
