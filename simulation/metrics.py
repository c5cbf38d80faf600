"""Recording a run's KPIs per hour x source x segment, and the touchpoint and order logs.

A *source* is a channel, or ``organic`` for purchases no channel triggered. Segments are
generation x city tier (``population.segment_labels``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import fused
from .population import N_SEGMENTS, segment_labels
from .worlds import NO_WEIGHTS  # fused.add_to_cells counts one per consumer

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
    "competitor_orders",  # bought a competitor's product of the category instead
    "decisions",  # purchase decisions: triggered consumers in the category's market
    "decisions_loss",  # ... in which some alternative's price was above its reference
    "decisions_anchor",  # ... in which some alternative showed an original price
)




class Recorder:
    """Accumulates metric arrays (slots, sources, worlds x segments) and append-only logs.

    ``segment`` is each consumer's world x segment cell (``Worlds.segment``); a slot is
    ``every`` hours (1: hourly; a batch of many worlds records by day to stay small).
    """

    def __init__(self, hours: int, sources: list[str], segment: np.ndarray, *,
                 n_worlds: int = 1, every: int = 1):
        self.sources = sources
        self.segment = segment
        self.every, self.n_worlds = every, n_worlds
        self.cells = n_worlds * N_SEGMENTS
        shape = (-(-hours // every), len(sources), self.cells)
        self.values = {m: np.zeros(shape) for m in METRICS}
        self._scratch = np.zeros(self.cells)  # fused.add_to_cells
        self._touchpoints: list[tuple[np.ndarray, ...]] = []
        self._touchpoint_calls: list[tuple[int, int, int]] = []  # hour, source, rows
        self._orders: list[tuple[np.ndarray, ...]] = []

    def add(self, metric: str, hour: int, source: int, ids: np.ndarray, weights=None) -> None:
        """Add one per consumer in ``ids`` (or ``weights``) to its segment's cell."""
        if len(ids) == 0:
            return
        weights = NO_WEIGHTS if weights is None else np.asarray(weights, dtype=np.float64)
        fused.add_to_cells(self.values[metric][hour // self.every, source], self.segment, ids,
                           weights, self._scratch)

    def add_total(self, metric: str, hour: int, source: int, amount, ids) -> None:
        """Spread each world's source-level ``amount`` (spend; scalar or (K,)) over its
        segments in proportion to ``ids``; a world with no ``ids`` books it on segment 0."""
        amount = np.broadcast_to(np.asarray(amount, dtype=np.float64), (self.n_worlds,))
        if not amount.any():
            return
        fused.add_total(self.values[metric][hour // self.every, source], self.segment, ids,
                        amount, N_SEGMENTS, self._scratch)

    def log_touchpoints(self, hour: int, source: int, ids, impressions, clicked) -> None:
        """Consumers ``ids`` saw ``impressions`` of ``source`` at ``hour`` (the hour and
        source are kept once per call, expanded when the table is made)."""
        self._touchpoints.append((
            np.asarray(ids, dtype=np.int32),
            np.asarray(impressions, dtype=np.int16),
            np.asarray(clicked, dtype=bool),
        ))
        self._touchpoint_calls.append((hour, source, len(ids)))

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

    def world_values(self, world: int) -> dict[str, np.ndarray]:
        """World ``world``'s metric arrays (slots, sources, segments), views."""
        cells = slice(world * N_SEGMENTS, (world + 1) * N_SEGMENTS)
        return {m: v[:, :, cells] for m, v in self.values.items()}

    def timeseries(self, phase_names: list[str], phase_of_hour: np.ndarray, *,
                   world: int = 0) -> pd.DataFrame:
        """Tidy table: one row per slot (hour) x source x segment with every metric."""
        values = self.world_values(world)
        slots, n_src, n_seg = values["spend"].shape
        labels = segment_labels()
        idx = np.indices((slots, n_src, n_seg)).reshape(3, -1)
        hour = idx[0] * self.every
        phases = np.array(phase_names + [""], dtype=object)[phase_of_hour]
        frame = pd.DataFrame({
            "hour": hour,
            "day": hour // 24,
            "phase": pd.Categorical(phases[hour]),
            "source": pd.Categorical(np.array(self.sources, dtype=object)[idx[1]],
                                     categories=self.sources),
            "generation": pd.Categorical([labels[s][0] for s in idx[2]]),
            "tier": pd.Categorical([labels[s][1] for s in idx[2]]),
        })
        for m in METRICS:
            frame[m] = values[m].reshape(-1)
        return frame

    def touchpoints(self, source_names: list[str], *, block: slice | None = None
                    ) -> pd.DataFrame:
        """Touchpoint log (of the consumers in ``block``, numbered from its start)."""
        ids, impressions, clicked = _concat(self._touchpoints, 3, (np.int32, np.int16, bool))
        calls = np.array(self._touchpoint_calls, dtype=np.int64).reshape(-1, 3)
        hour = np.repeat(calls[:, 0].astype(np.int32), calls[:, 2])
        source = np.repeat(calls[:, 1].astype(np.int16), calls[:, 2])
        cols = _within([ids, hour, source, impressions, clicked], block)
        order = _stable_order(cols[1], cols[2], cols[0])
        return pd.DataFrame({
            "consumer": cols[0][order],
            "hour": cols[1][order],
            "channel": pd.Categorical.from_codes(cols[2][order], categories=source_names),
            "impressions": cols[3][order],
            "clicked": cols[4][order],
        }, copy=False)  # fresh columns: kept as they are, not copied into 2-D blocks

    def order_log(self) -> list[np.ndarray]:
        """The order log's columns as logged, every world's consumers: consumer, hour,
        source, product, price, units, new customer, depth, parent, cascade."""
        return _concat(self._orders, len(_ORDER_TYPES), _ORDER_TYPES)

    def orders(self, source_names: list[str], product_names: list[str], *,
               block: slice | None = None) -> pd.DataFrame:
        """Order log (of the consumers in ``block``, numbered from its start)."""
        cols = _within(self.order_log(), block)
        if block is not None:
            cols[8] = np.where(cols[8] >= 0, cols[8] - block.start, cols[8])
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
        }, copy=False)  # fresh columns: kept as they are, not copied into 2-D blocks
        frame["gmv"] = frame["price"] * frame["units"]
        return frame.iloc[_stable_order(cols[1], cols[0])].reset_index(drop=True)


_ORDER_TYPES = (np.int32, np.int32, np.int16, np.int16, np.float64, np.int32, bool, np.int16,
                np.int32, np.int32)


def _stable_order(*keys: np.ndarray) -> np.ndarray | slice:
    """The stable order of rows sorted by ``keys`` (first key first), as a slice when they
    are already in it: the logs are appended hour by hour, so usually they are, and checking
    costs one pass where sorting tens of millions of touchpoints costs seconds."""
    n = len(keys[0])
    tied = np.ones(max(n - 1, 0), dtype=bool)  # rows i, i + 1 equal on the keys so far
    for key in keys:
        if (tied & (key[1:] < key[:-1])).any():
            return np.lexsort(keys[::-1])  # stable, last key of the tuple first
        tied &= key[1:] == key[:-1]
    return slice(None)


def _concat(chunks, width, types):
    if not chunks:
        return [np.empty(0, dtype=t) for t in types]
    return [np.concatenate([c[i] for c in chunks]) for i in range(width)]


def _within(cols: list[np.ndarray], block: slice | None) -> list[np.ndarray]:
    """Rows whose consumer (column 0) is in ``block``, renumbered from its start."""
    if block is None:
        return cols
    keep = (cols[0] >= block.start) & (cols[0] < block.stop)
    out = [c[keep] for c in cols]
    out[0] = out[0] - block.start
    return out
