r"""Scores of a forecast of weekly log unit sales, and the effects it implies.

Every model's forecast of a held-out row (store, week, brand) is a normal predictive
distribution of ``logmove`` with a mean and an sd (:class:`Forecast`). Scores:

- log predictive density :math:`\log \phi((y - \mu)/\sigma)/\sigma`, averaged over the
  store-weeks scored (for each brand);
- interval score of the central 90% interval :math:`[l, u]` (Gneiting & Raftery 2007):
  :math:`(u - l) + \frac{2}{\alpha}(l - y)[y < l] + \frac{2}{\alpha}(y - u)[y > u]`,
  :math:`\alpha = 0.1`, lower is better; and the interval's coverage;
- deal lift: within a store and brand, the mean log sales of deal weeks less those of
  ordinary weeks (no deal this week or the week before), averaged over the store-brands with
  both; week-after dip: the same for the week after a deal (no deal that week). The error is
  the model's lift (from its forecast means on the same rows) less the observed one;
- elasticities: the change in the forecast mean of brand :math:`j`'s log sales when brand
  :math:`k`'s price rises by 1% (own for :math:`j = k`), by finite differences on the rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm

from .oj import BRANDS, PRICES

LEVEL = 0.9


@dataclass(frozen=True)
class Forecast:
    """Normal predictive distribution of ``logmove`` for each row of a table, shape (rows,)."""

    mean: np.ndarray
    sd: np.ndarray

    def interval(self, level: float = LEVEL) -> tuple[np.ndarray, np.ndarray]:
        z = norm.ppf(0.5 + level / 2)
        return self.mean - z * self.sd, self.mean + z * self.sd


Predictor = Callable[[pd.DataFrame], Forecast]


def log_density(forecast: Forecast, y: np.ndarray) -> np.ndarray:
    return norm.logpdf(y, forecast.mean, forecast.sd)


def interval_score(forecast: Forecast, y: np.ndarray, level: float = LEVEL) -> np.ndarray:
    lo, hi = forecast.interval(level)
    alpha = 1 - level
    return (hi - lo) + 2 / alpha * (np.maximum(lo - y, 0) + np.maximum(y - hi, 0))


def covered(forecast: Forecast, y: np.ndarray, level: float = LEVEL) -> np.ndarray:
    lo, hi = forecast.interval(level)
    return (lo <= y) & (y <= hi)


def promotion_effects(table: pd.DataFrame, values: np.ndarray) -> dict[str, float]:
    """Deal lift and week-after dip of ``values`` (log sales, observed or forecast) on the
    rows of ``table`` (module docstring); NaN when no store-brand has both kinds of week."""
    kind = np.select([table.deal.to_numpy() == 1, table.lag_deal.to_numpy() == 1],
                     ["deal", "after"], "ordinary")
    means = (pd.DataFrame({"store": table.store.to_numpy(), "brand": table.brand.to_numpy(),
                           "kind": kind, "v": values})
             .groupby(["store", "brand", "kind"])["v"].mean().unstack("kind"))
    out = {}
    for name, k in (("deal_lift", "deal"), ("after_dip", "after")):
        diff = (means[k] - means["ordinary"]) if {k, "ordinary"} <= set(means) else pd.Series()
        out[name] = float(diff.mean()) if diff.notna().any() else float("nan")
    return out


def elasticities(predict: Predictor, table: pd.DataFrame, brands=BRANDS,
                 step: float = 0.01) -> pd.DataFrame:
    """Mean d log sales of brand j (rows) / d log price of brand k (columns) over ``table``."""
    base = predict(table).mean
    out = pd.DataFrame(0.0, index=pd.Index(list(brands), name="brand"),
                       columns=[f"price{k}" for k in brands])
    for k in brands:
        moved = table.copy()
        moved[PRICES[k - 1]] = moved[PRICES[k - 1]] * np.exp(step)
        change = (predict(moved).mean - base) / step
        by_brand = pd.Series(change).groupby(table.brand.to_numpy()).mean()
        out[f"price{k}"] = by_brand.reindex(list(brands)).to_numpy()
    return out


def score(forecast: Forecast, table: pd.DataFrame,
          effects: tuple[Forecast, pd.DataFrame] | None = None) -> dict[str, float]:
    """All scores of ``forecast`` on the rows of ``table`` (with the observed ``logmove``);
    the deal lift and dip on ``effects`` (a forecast and its rows) when given, for a test
    set without ordinary weeks to compare with."""
    y = table.logmove.to_numpy()
    lift_forecast, lift_rows = effects or (forecast, table)
    observed = promotion_effects(lift_rows, lift_rows.logmove.to_numpy())
    predicted = promotion_effects(lift_rows, lift_forecast.mean)
    return {"lpd": float(log_density(forecast, y).mean()),
            "interval_score": float(interval_score(forecast, y).mean()),
            "coverage90": float(covered(forecast, y).mean()),
            "rmse": float(np.sqrt(np.mean((forecast.mean - y) ** 2))),
            **{f"{k}_error": predicted[k] - observed[k] for k in observed},
            **{f"{k}_observed": observed[k] for k in observed}}
