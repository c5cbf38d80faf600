"""Recording a run's KPIs per hour x source x segment, and the touchpoint and order logs.

A *source* is a channel, or ``organic`` for purchases no channel triggered. Segments are
generation x city tier (``population.segment_labels``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .population import N_SEGMENTS, segment_labels

METRICS = (
    "spend",
    "impressions",
    "reach",  # consumers reached by the source for the first time in the campaign
    "clicks",
    "orders",  # completed: a presale order counts when its balance is paid
    "deposits",  # presale orders placed (paid at the balance hour, or dropped)
    "units",
    "gmv",
    "margin",  # gross margin of the orders, before marketing spend
    "new_buyers",
    "returning_buyers",
    "complaints",
    "optouts",
)


class Recorder:
    """Accumulates metric arrays (hours, sources, segments) and append-only event logs."""

    def __init__(self, hours: int, sources: list[str], segment: np.ndarray):
        self.sources = sources
        self.segment = segment
        shape = (hours, len(sources), N_SEGMENTS)
        self.values = {m: np.zeros(shape) for m in METRICS}
        self._touchpoints: list[tuple[np.ndarray, ...]] = []
        self._orders: list[tuple[np.ndarray, ...]] = []

    def add(self, metric: str, hour: int, source: int, ids: np.ndarray, weights=None) -> None:
        """Add one per consumer in ``ids`` (or ``weights``) to its segment's cell."""
        if len(ids) == 0:
            return
        counts = np.bincount(self.segment[ids], weights=weights, minlength=N_SEGMENTS)
        self.values[metric][hour, source] += counts

    def add_total(self, metric: str, hour: int, source: int, amount: float, ids) -> None:
        """Spread a source-level amount (spend) over segments in proportion to ``ids``."""
        if amount == 0:
            return
        if len(ids) == 0:
            self.values[metric][hour, source, 0] += amount
            return
        counts = np.bincount(self.segment[ids], minlength=N_SEGMENTS)
        self.values[metric][hour, source] += amount * counts / counts.sum()

    def log_touchpoints(self, hour: int, source: int, ids, impressions, clicked) -> None:
        n = len(ids)
        self._touchpoints.append((
            np.asarray(ids, dtype=np.int32),
            np.full(n, hour, dtype=np.int32),
            np.full(n, source, dtype=np.int16),
            np.asarray(impressions, dtype=np.int16),
            np.asarray(clicked, dtype=bool),
        ))

    def log_orders(self, hour, source, product, ids, price, units, new, lineage) -> None:
        """One row per order; ``lineage`` is (depth, parent, cascade) per buyer."""
        n = len(ids)
        depth, parent, cascade = lineage
        self._orders.append((
            np.asarray(ids, dtype=np.int32),
            np.full(n, hour, dtype=np.int32),
            np.broadcast_to(np.asarray(source, dtype=np.int16), (n,)).copy(),
            np.full(n, product, dtype=np.int16),
            np.asarray(price, dtype=np.float64),
            np.asarray(units, dtype=np.int32),
            np.asarray(new, dtype=bool),
            np.asarray(depth, dtype=np.int16),
            np.asarray(parent, dtype=np.int32),
            np.asarray(cascade, dtype=np.int32),
        ))

    def timeseries(self, phase_names: list[str], phase_of_hour: np.ndarray) -> pd.DataFrame:
        """Tidy table: one row per hour x source x segment with every metric."""
        hours, n_src, n_seg = self.values["spend"].shape
        labels = segment_labels()
        idx = np.indices((hours, n_src, n_seg)).reshape(3, -1)
        phases = np.array(phase_names + [""], dtype=object)[phase_of_hour]
        frame = pd.DataFrame({
            "hour": idx[0],
            "day": idx[0] // 24,
            "phase": pd.Categorical(phases[idx[0]]),
            "source": pd.Categorical(np.array(self.sources, dtype=object)[idx[1]],
                                     categories=self.sources),
            "generation": pd.Categorical([labels[s][0] for s in idx[2]]),
            "tier": pd.Categorical([labels[s][1] for s in idx[2]]),
        })
        for m in METRICS:
            frame[m] = self.values[m].reshape(-1)
        return frame

    def touchpoints(self, source_names: list[str]) -> pd.DataFrame:
        cols = _concat(self._touchpoints, 5, (np.int32, np.int32, np.int16, np.int16, bool))
        return pd.DataFrame({
            "consumer": cols[0],
            "hour": cols[1],
            "channel": pd.Categorical.from_codes(cols[2], categories=source_names),
            "impressions": cols[3],
            "clicked": cols[4],
        }).sort_values(["hour", "channel", "consumer"], kind="stable", ignore_index=True)

    def orders(self, source_names: list[str], product_names: list[str]) -> pd.DataFrame:
        types = (np.int32, np.int32, np.int16, np.int16, np.float64, np.int32, bool,
                 np.int16, np.int32, np.int32)
        cols = _concat(self._orders, len(types), types)
        frame = pd.DataFrame({
            "consumer": cols[0],
            "hour": cols[1],
            "source": pd.Categorical.from_codes(cols[2], categories=source_names),
            "product": pd.Categorical.from_codes(cols[3], categories=product_names),
            "price": cols[4],
            "units": cols[5],
            "new_customer": cols[6],
            "depth": cols[7],  # cascade depth of a socially influenced buyer, else 0
            "parent": cols[8],  # consumer whose post or link influenced the buyer, else -1
            "cascade": cols[9],  # cascade id (``RunResult.cascades``), else -1
        })
        frame["gmv"] = frame["price"] * frame["units"]
        return frame.sort_values(["hour", "consumer"], kind="stable", ignore_index=True)


def _concat(chunks, width, types):
    if not chunks:
        return [np.empty(0, dtype=t) for t in types]
    return [np.concatenate([c[i] for c in chunks]) for i in range(width)]
