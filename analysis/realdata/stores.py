"""One scenario per store: the orange-juice category of a Dominick's store as an agent market.

The 11 brands are products of one category (``orange_juice``) priced per 64 oz (the data's
price per ounce x 64); each brand's weekly shelf price is a ``[prices]`` row on day
``7 (week - first week)``, framed ``limited_time`` in a deal week. Feature ads are an owned
display channel per brand (no spend) whose impressions follow the brand's weekly ``feat``
share; a consumer who clicks one makes a choice in the category. The store's demographics
shape its population: the share aged 60+ sets the ``silver`` share of the generation mix,
household size (share of large households, ``HHLARGE``) scales the own-need visit rate, and
income (log median, ``INCOME``) scales price sensitivity by ``exp(-income_slope (INCOME -
mean))`` around the chain's mean. Behavioural parameters (price sensitivity, loss aversion,
reference smoothing of prices seen) are pooled across stores (:class:`Pooled`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

import scenarios

from .oj import BRANDS, PRICES, OJPanel

CATEGORY = "orange_juice"
OUNCES = 64.0
TICK_HOURS = 24  # prices change weekly and sales are weekly: a daily step loses nothing seen


@dataclass(frozen=True)
class Pooled:
    """The behavioural parameters shared by every store."""

    price_sensitivity: float = 6.0
    loss_aversion: float = 2.0
    reference_smoothing_seen: float = 0.15
    income_slope: float = 1.0
    need_rate: float = 0.15  # own-need visits to the category per consumer-day
    feature_reach: float = 1.0  # share of consumers who see a fully featured brand in a week
    feature_ctr: float = 0.1  # share of those who then choose in the category


def product_name(brand: int) -> str:
    return f"brand{brand}"


def store_scenario(panel: OJPanel, store: int, pooled: Pooled, *, population: int = 1000,
                   weeks: tuple[int, int] | None = None, seed: int = 0) -> scenarios.Scenario:
    """The validated scenario of ``store`` over ``weeks`` (first, last; default: all)."""
    t = panel.table
    first, last = weeks or (int(t.week.min()), int(t.week.max()))
    rows = t[(t.store == store) & t.week.between(first, last)]
    if rows.empty:
        raise ValueError(f"store {store} has no weeks in {first}-{last}")
    week_rows = rows.drop_duplicates("week")
    price = week_rows[list(PRICES)].to_numpy() * OUNCES
    deal = rows.pivot(index="week", columns="brand", values="deal").reindex(week_rows.week)
    feat = rows.pivot(index="week", columns="brand", values="feat").reindex(week_rows.week)
    demo = panel.demographics
    silver = float(demo.loc[store, "AGE60"]) if demo is not None else 0.17
    large = float(demo.loc[store, "HHLARGE"]) if demo is not None else 0.12
    income = (float(demo.loc[store, "INCOME"] - demo["INCOME"].mean())
              if demo is not None else 0.0)
    rest = (1 - silver) / 3
    sensitivity = pooled.price_sensitivity * np.exp(-pooled.income_slope * income)
    segment = {"price_sensitivity": {"mean": sensitivity, "sd": 0.3 * sensitivity},
               "loss_aversion": {"mean": pooled.loss_aversion, "sd": 0.0},
               "need_rate": {"mean": pooled.need_rate * (1 + large) / 1.12, "sd": 0.0}}
    path = [{"day": 7 * int(w - first), "product": product_name(b), "price": float(price[i, b - 1]),
             "frame": "limited_time" if deal.iloc[i][b] == 1 else "none"}
            for i, w in enumerate(week_rows.week) for b in BRANDS]
    days = 7 * (last - first + 1)
    raw = {
        "name": f"dominicks_store_{store}", "seed": seed,
        "market": {"population": population,
                   "generation_mix": {"gen_z": rest, "millennial": rest, "gen_x": rest,
                                      "silver": silver}},
        "behaviour": {"reference_smoothing_seen": pooled.reference_smoothing_seen},
        "segments": {g: segment for g in ("gen_z", "millennial", "gen_x", "silver")},
        "products": [{"name": product_name(b), "category": CATEGORY, "margin": 0.3,
                      "list_price": float(np.median(price[:, b - 1])), "repurchase_days": 7.0}
                     for b in BRANDS],
        "channels": [feature_channel(b, feat[b], first, population, pooled) for b in BRANDS],
        "calendar": {"days": days, "tick_hours": TICK_HOURS,
                     "phases": [{"name": "weeks", "start_day": 0, "end_day": days,
                                 "budget_weight": 1.0}]},
        "prices": {"rows": path},
    }
    return scenarios.validate(raw)


def feature_channel(brand: int, feat: pd.Series, first: int, population: int,
                    pooled: Pooled) -> dict:
    """The store's feature ads of ``brand`` as an owned display channel: its weekly
    impressions are ``feature_reach`` x population x the week's ``feat`` share, a level
    held until the share changes (a missing week keeps the previous one, as prices do)."""
    changes = feat.ne(feat.shift())
    return {"name": f"feature_{product_name(brand)}", "kind": "display",
            "product": product_name(brand), "budget": 0.0, "cost_model": "owned",
            "daily_impressions": pooled.feature_reach * population / 7,
            "ctr": pooled.feature_ctr,
            "schedule": [{"day": 7 * int(w - first), "level": float(v)}
                         for w, v in feat[changes].items()]}


def weekly_sales(daily_units: np.ndarray) -> np.ndarray:
    """Aggregate a daily series (days, ...) to weeks (days // 7, ...), dropping a partial
    last week."""
    weeks = daily_units.shape[0] // 7
    return daily_units[: 7 * weeks].reshape(weeks, 7, *daily_units.shape[1:]).sum(axis=1)


def observed_weeks(panel: OJPanel, store: int, weeks: tuple[int, int]) -> pd.DataFrame:
    """The store's rows in ``weeks``, one per week and brand (the data the store's scenario
    is scored against)."""
    t = panel.table
    return t[(t.store == store) & t.week.between(*weeks)]
