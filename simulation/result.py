"""The result of one run: tidy tables, the KPI summary, plots and atomic saving."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scenarios.schema import GENERATIONS, Scenario

from .io import package_version, write_atomic
from .social_metrics import by_source


def _ratio(a: float, b: float) -> float | None:
    return float(a / b) if b else None


@dataclass
class RunResult:
    """What one run produced.

    Attributes
    ----------
    timeseries
        One row per hour x source x (generation, tier) with every metric of
        ``simulation.metrics.METRICS``; sources are the channels and ``organic``.
    orders
        One row per completed order: consumer, hour, source, product, price, units, gmv.
    touchpoints
        One row per consumer x channel x hour with impressions delivered and whether clicked.
    consumers
        One row per consumer (index = consumer id): generation, tier, consent,
        existing_customer.
    cascades
        With a network: one row per cascade (kind, root account, start hour, cost); orders
        carry their ``cascade``, ``depth`` and ``parent``. ``None`` without a network.
    network
        With a network: nodes, ties, KOLs, KOCs, group-buy rewards paid and warnings.
    budget_decisions
        With ``[budget_control]``: one row per controlled channel and decision time (hour,
        channel, old_remaining, new_remaining, estimated_return, applied); ``None`` without.
    """

    scenario: Scenario
    seed: int
    engine: str
    timeseries: pd.DataFrame
    orders: pd.DataFrame
    touchpoints: pd.DataFrame
    consumers: pd.DataFrame
    reached_consumers: int
    wall_seconds: float
    cascades: pd.DataFrame | None = None
    network: dict[str, Any] | None = None
    budget_decisions: pd.DataFrame | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def summary(self) -> dict[str, Any]:
        """Campaign KPIs, overall, ``by_channel`` and ``by_segment`` (JSON-ready)."""
        ts, orders = self.timeseries, self.orders
        totals = ts.drop(columns=["hour", "day"]).sum(numeric_only=True)
        channels = [c.name for c in self.scenario.channels]
        # ad impressions only: social exposures are reported under ``by_source``
        totals["impressions"] = ts.loc[ts["source"].isin(channels), "impressions"].sum()
        spend, gmv = float(totals["spend"]), float(totals["gmv"])
        new_customers = int(orders.loc[orders["new_customer"], "consumer"].nunique())
        buyers = orders.groupby("consumer").agg(n=("hour", "size"), new=("new_customer", "any"))
        repeat = int(((~buyers["new"]) | (buyers["n"] > 1)).sum())
        out: dict[str, Any] = {
            "scenario": self.scenario.name,
            "seed": self.seed,
            "version": package_version(),
            "engine": self.engine,
            "population": self.scenario.market.population,
            "hours": self.scenario.calendar.hours,
            "spend": spend,
            "impressions": float(totals["impressions"]),
            "reach": self.reached_consumers,
            "clicks": float(totals["clicks"]),
            "ctr": _ratio(totals["clicks"], totals["impressions"]),
            "orders": float(totals["orders"]),
            "deposits": float(totals["deposits"]),
            "units": float(totals["units"]),
            "gmv": gmv,
            "margin": float(totals["margin"]),
            "profit": float(totals["margin"]) - spend,
            "roas": _ratio(gmv, spend),  # return on ad spend: GMV / spend
            "roi": _ratio(float(totals["margin"]) - spend, spend),  # (margin - spend) / spend
            "cac": _ratio(spend, new_customers),
            "buyers": int(len(buyers)),
            "new_customers": new_customers,
            "repeat_customers": repeat,
            "complaints": float(totals["complaints"]),
            "complaint_rate": _ratio(totals["complaints"], self.reached_consumers),
            "optouts": float(totals["optouts"]),
            "competitor_orders": float(totals["competitor_orders"]),
            "decisions": float(totals["decisions"]),
            # where the biases act: shares of purchase decisions that met a loss (a price
            # above the anchored reference) and that saw a displayed original price
            "bias_shares": {"loss": _ratio(totals["decisions_loss"], totals["decisions"]),
                            "anchor": _ratio(totals["decisions_anchor"], totals["decisions"])},
        }
        out["by_channel"] = self._breakdown("source", list(ts["source"].cat.categories))
        out["by_source"] = by_source(ts, orders, self.cascades)
        if self.network is not None:
            out["network"] = self.network
        if self.budget_decisions is not None:
            applied = self.budget_decisions["applied"]
            out["budget_control"] = {
                "policy": self.scenario.budget_control.policy,
                "decisions": int(self.budget_decisions["hour"].nunique()),
                "reallocations": int(applied.sum()),
            }
        out["by_segment"] = self._breakdown("generation", list(GENERATIONS))
        return out

    def _breakdown(self, column: str, keys: list[str]) -> dict[str, dict[str, Any]]:
        sums = self.timeseries.groupby(column, observed=False).sum(numeric_only=True)
        out = {}
        for key in keys:
            row = sums.loc[key]
            out[key] = {
                "spend": float(row["spend"]),
                "impressions": float(row["impressions"]),
                "reach": float(row["reach"]),
                "clicks": float(row["clicks"]),
                "ctr": _ratio(row["clicks"], row["impressions"]),
                "orders": float(row["orders"]),
                "cvr": _ratio(row["orders"], row["clicks"]),
                "gmv": float(row["gmv"]),
                "roas": _ratio(row["gmv"], row["spend"]),
                "new_buyers": float(row["new_buyers"]),
                "returning_buyers": float(row["returning_buyers"]),
                "cac": _ratio(row["spend"], row["new_buyers"]),
                "complaints": float(row["complaints"]),
                "optouts": float(row["optouts"]),
            }
        return out

    def kpi_table(self) -> pd.DataFrame:
        """Per source: spend, impressions, clicks, orders, GMV, ROAS (GMV / spend), CAC (for
        printing)."""
        rows = {k: v for k, v in self.summary["by_channel"].items()}
        table = pd.DataFrame(rows).T[["spend", "impressions", "reach", "clicks", "orders",
                                      "gmv", "roas", "cac", "complaints"]]
        s = self.summary
        table.loc["total"] = [s["spend"], s["impressions"], s["reach"], s["clicks"],
                              s["orders"], s["gmv"], s["roas"], s["cac"], s["complaints"]]
        return table

    def cascade_tree(self, cascade: int) -> pd.DataFrame:
        """The conversions of one cascade as a tree: one row per order with its ``parent``
        (the consumer or account whose post or link influenced it) and ``depth``; the
        cascade's root is in ``cascades``. Pass it to ``networkx.from_pandas_edgelist``
        with ``source="parent", target="consumer"`` for a graph."""
        if self.cascades is None:
            raise ValueError("this run had no network, so no cascades")
        if cascade not in set(self.cascades["cascade"]):
            raise ValueError(f"no cascade {cascade}; ids run 0..{len(self.cascades) - 1}")
        tree = self.orders[self.orders["cascade"] == cascade]
        return tree[["parent", "consumer", "depth", "hour", "source", "gmv"]].reset_index(
            drop=True)

    def hourly(self) -> pd.DataFrame:
        """Metrics per hour, summed over sources and segments."""
        return self.timeseries.groupby("hour").sum(numeric_only=True).drop(columns="day")

    # -- plots (``plots`` imports matplotlib: imported here, not by the engine's workers) --
    def plot_timeline(self):
        """Hourly orders and GMV with phases shaded and events marked (a Figure)."""
        from . import plots

        return plots.timeline(self)

    def plot_funnel(self):
        """Impressions -> clicks -> orders per channel (a Figure)."""
        from . import plots

        return plots.funnel(self)

    def plot_spend_vs_gmv(self):
        """Spend and GMV per channel, each with its ROAS (a Figure)."""
        from . import plots

        return plots.spend_vs_gmv(self)

    # -- saving --------------------------------------------------------------------------
    def save(self, out_dir: str | Path, *, touchpoints: bool = False) -> Path:
        """Write summary.json, timeseries.parquet, orders.parquet and PNG plots atomically."""
        from . import plots

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        write_atomic(out / "summary.json",
                     lambda p: p.write_text(json.dumps(self.summary, indent=2, default=_json)))
        write_atomic(out / "timeseries.parquet", lambda p: self.timeseries.to_parquet(p))
        write_atomic(out / "orders.parquet", lambda p: self.orders.to_parquet(p))
        if self.cascades is not None:
            write_atomic(out / "cascades.parquet", lambda p: self.cascades.to_parquet(p))
        if touchpoints:
            write_atomic(out / "touchpoints.parquet", lambda p: self.touchpoints.to_parquet(p))
        for name, make in (("timeline.png", self.plot_timeline),
                           ("funnel.png", self.plot_funnel),
                           ("spend_vs_gmv.png", self.plot_spend_vs_gmv)):
            fig = make()
            write_atomic(out / name, lambda p, fig=fig: fig.savefig(p, dpi=110, format="png"))
            plots.close(fig)
        return out


def _json(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value)}")
