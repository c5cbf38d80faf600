"""KPIs by influence source: reach, conversions, cost per acquisition, viral coefficient, and
the size and depth distributions of cascades (summary.json's ``by_source``).

A conversion's source is the channel whose ad was clicked, ``organic``, or the tie that
influenced the buyer (``kol``, ``koc``, ``friend``, ``group_buy``). The viral coefficient
(K-factor) of a source is the number of socially influenced buyers whose parent first bought
through that source, per buyer through that source: each buyer it brings brings K more.
A cascade's size is its number of conversions (zero for a post nobody bought from) and its
depth the deepest conversion; cascades are grouped by the kind of their root (a KOL post, a
seeded KOC review, a buyer's word of mouth, a group-buy link).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .diffusion import CASCADE_KINDS

HISTOGRAM_BINS = 30  # values at or above the last bin are pooled into it


def by_source(timeseries: pd.DataFrame, orders: pd.DataFrame,
              cascades: pd.DataFrame | None) -> dict[str, dict[str, Any]]:
    sources = list(timeseries["source"].cat.categories)
    totals = timeseries.groupby("source", observed=False)[["spend", "reach",
                                                           "impressions"]].sum()
    conversions = orders.groupby("source", observed=False).size()
    buyers = orders.groupby("source", observed=False)["consumer"].nunique()
    children = _children_by_parent_source(orders)
    out = {}
    for s in sources:
        n, spend = int(conversions.get(s, 0)), float(totals.loc[s, "spend"])
        row: dict[str, Any] = {
            "reach": float(totals.loc[s, "reach"]),
            "exposures": float(totals.loc[s, "impressions"]),
            "conversions": n,
            "buyers": int(buyers.get(s, 0)),
            "spend": spend,
            "cpa": spend / n if n else None,
            "k_factor": (int(children.get(s, 0)) / int(buyers[s])) if buyers.get(s, 0)
            else None,
        }
        if cascades is not None and s in CASCADE_KINDS:
            row["cascades"] = cascade_stats(orders, cascades, CASCADE_KINDS[s])
        out[s] = row
    return out


def _children_by_parent_source(orders: pd.DataFrame) -> pd.Series:
    """Socially influenced buyers counted under the source of their parent's first order."""
    social = orders[orders["parent"] >= 0].drop_duplicates("consumer")
    first = orders.sort_values("hour", kind="stable").drop_duplicates("consumer")
    parent_source = first.set_index("consumer")["source"]
    matched = social["parent"].map(parent_source).dropna()
    return matched.value_counts()


def cascade_stats(orders: pd.DataFrame, cascades: pd.DataFrame, kind: str) -> dict[str, Any]:
    """Size and depth distributions of the cascades of one root kind."""
    ids = cascades.loc[cascades["kind"] == kind, "cascade"].to_numpy()
    inside = orders[orders["cascade"].isin(ids)]
    size = inside.groupby("cascade").size().reindex(ids, fill_value=0).to_numpy()
    depth = inside.groupby("cascade")["depth"].max().reindex(ids, fill_value=0).to_numpy()
    cost = cascades.loc[cascades["kind"] == kind, "cost"].to_numpy()
    return {
        "count": int(len(ids)),
        "cost": float(cost.sum()),
        "size": distribution(size),
        "depth": distribution(depth),
    }


def distribution(values: np.ndarray) -> dict[str, Any]:
    values = np.asarray(values, dtype=np.int64)
    if len(values) == 0:
        return {"mean": None, "p50": None, "p90": None, "p99": None, "max": None,
                "histogram": {}}
    counts = np.bincount(np.minimum(values, HISTOGRAM_BINS - 1))
    labels = [str(i) for i in range(len(counts))]
    if len(counts) == HISTOGRAM_BINS:
        labels[-1] = f"{HISTOGRAM_BINS - 1}+"
    return {
        "mean": float(values.mean()),
        "p50": float(np.percentile(values, 50)),
        "p90": float(np.percentile(values, 90)),
        "p99": float(np.percentile(values, 99)),
        "max": int(values.max()),
        "histogram": {lab: int(c) for lab, c in zip(labels, counts, strict=True) if c},
    }
