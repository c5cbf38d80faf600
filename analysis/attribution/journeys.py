"""Journeys: the ordered touchpoints that precede each conversion (or the campaign's end).

A *journey* is one ordered path of channel touches with what it led to: ``conversions``
(orders), ``value`` (GMV) and ``nulls`` (paths that ended without an order). Every
attribution model reads the same ``Journeys`` object, built by one of three constructors:

``from_run`` / ``from_touchpoints``
    From a run's touchpoint and order logs. Each consumer's touches are cut at their orders:
    the touches at hours ``t`` with ``t_prev < t <= t_order`` and ``t_order - t < lookback``
    form the journey of that order (a touch in the hour of an order precedes it: a click
    triggers the decision in the same tick); touches after a consumer's last order, with
    ``T_end - t < lookback`` where ``T_end`` is the campaign's last hour, form one
    non-converting journey. ``touches="clicks"`` keeps only clicked touchpoints;
    ``"impressions"`` keeps every delivered touchpoint (one touch per consumer x channel x
    hour, whatever the number of impressions). Within an hour, touches keep the log's order
    (the order in which channels are served). An order with no touch in its window is a
    converting journey of length 0: models give its conversion to no channel.
``from_lists``
    Hand-built paths (tests, notebooks), optionally with the hour of every touch.
``read_paths``
    Aggregated path data in the ``a > b > c`` layout (one row per distinct path with
    ``total_conversions``, ``total_conversion_value`` and ``total_null``), as used by the
    ChannelAttribution package.

Every problem with the input raises ``AttributionError`` (a ``ValueError``) with one message
saying what is wrong and what is expected.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from scenarios.social import SOCIAL_SOURCES

TOUCHES = ("clicks", "impressions")
ORGANIC = "organic"
# orders a channel did not trigger: own need, and influence on the follow graph
NON_CHANNEL_SOURCES = (ORGANIC, *SOCIAL_SOURCES)


class AttributionError(ValueError):
    """Input that an attribution model cannot use, with what is expected instead."""


@dataclass(frozen=True)
class Journeys:
    """Paths of channel touches and their outcomes.

    Attributes
    ----------
    touches
        One row per touch, sorted by ``journey`` then ``position``: ``journey`` (int),
        ``position`` (0-based), ``channel`` (categorical over ``channels``), ``hour`` (float,
        NaN when unknown).
    table
        One row per journey (index = journey id): ``conversions``, ``value``, ``nulls``
        (float counts; a path seen several times carries its totals), ``length`` (touches)
        and ``end_hour`` (hour of the order or of the campaign's end, NaN when unknown).
    channels
        Channel names, in the order of the ``channel`` categories.
    """

    touches: pd.DataFrame
    table: pd.DataFrame
    channels: tuple[str, ...]

    @property
    def codes(self) -> np.ndarray:
        """Channel index of every touch (int64, aligned with ``touches``)."""
        return self.touches["channel"].cat.codes.to_numpy(dtype=np.int64)

    @property
    def journey(self) -> np.ndarray:
        return self.touches["journey"].to_numpy(dtype=np.int64)

    @property
    def total_conversions(self) -> float:
        """Conversions of journeys with at least one touch (those a model can credit)."""
        t = self.table
        return float(t.loc[t["length"] > 0, "conversions"].sum())

    @property
    def total_value(self) -> float:
        t = self.table
        return float(t.loc[t["length"] > 0, "value"].sum())

    @property
    def unattributed_conversions(self) -> float:
        """Conversions with no touch in their lookback window."""
        t = self.table
        return float(t.loc[t["length"] == 0, "conversions"].sum())

    def __len__(self) -> int:
        return len(self.table)


def _build(journey: np.ndarray, codes: np.ndarray, hours: np.ndarray, channels: Sequence[str],
           conversions: np.ndarray, value: np.ndarray, nulls: np.ndarray,
           end_hour: np.ndarray) -> Journeys:
    """Assemble a ``Journeys`` from flat arrays; touches must already be in path order."""
    n = len(conversions)
    if n == 0 or len(codes) == 0:
        raise AttributionError("no journeys with at least one touch: nothing to attribute "
                               "(check the lookback window and the touch type)")
    if np.any(np.diff(journey) < 0):
        raise AttributionError("touches must be grouped by journey in path order")
    length = np.bincount(journey, minlength=n)
    starts = np.concatenate([[0], np.cumsum(length)[:-1]])
    position = np.arange(len(journey)) - np.repeat(starts, length)
    touches = pd.DataFrame({
        "journey": journey.astype(np.int64),
        "position": position.astype(np.int64),
        "channel": pd.Categorical.from_codes(codes.astype(np.int64), categories=list(channels)),
        "hour": hours.astype(np.float64),
    })
    table = pd.DataFrame({
        "conversions": conversions.astype(np.float64),
        "value": value.astype(np.float64),
        "nulls": nulls.astype(np.float64),
        "length": length.astype(np.int64),
        "end_hour": end_hour.astype(np.float64),
    })
    for col in ("conversions", "value", "nulls"):
        bad = ~np.isfinite(table[col]) | (table[col] < 0)
        if bad.any():
            raise AttributionError(f"{col} must be finite and >= 0; journey "
                                   f"{int(np.flatnonzero(bad)[0])} has {table[col][bad].iloc[0]}")
    return Journeys(touches=touches, table=table, channels=tuple(channels))


def _channel_codes(names: pd.Series | np.ndarray, channels: Sequence[str], what: str):
    lookup = {c: i for i, c in enumerate(channels)}
    values = pd.Series(np.asarray(names, dtype=object))
    unknown = sorted(set(values.unique()) - set(lookup))
    if unknown:
        raise AttributionError(f"unknown channels in {what}: {unknown[:5]}; "
                               f"known channels: {list(channels)}")
    return values.map(lookup).to_numpy(dtype=np.int64)


def _check_lookback(lookback: float) -> float:
    if not np.isfinite(lookback) or lookback <= 0:
        raise AttributionError(f"lookback must be a positive number of hours, got {lookback}")
    return float(lookback)


def from_lists(paths: Sequence[Sequence[str]], conversions: Sequence[float], *,
               value: Sequence[float] | None = None, nulls: Sequence[float] | None = None,
               hours: Sequence[Sequence[float]] | None = None,
               end_hours: Sequence[float] | None = None,
               channels: Sequence[str] | None = None) -> Journeys:
    """Journeys from hand-built paths.

    Parameters
    ----------
    paths
        One list of channel names per journey, first touch first.
    conversions, value, nulls
        Per journey; ``value`` defaults to ``conversions``, ``nulls`` to 0.
    hours, end_hours
        Optional hour of every touch (non-decreasing along a path) and of each journey's end
        (default: its last touch).
    channels
        Known channels (default: those seen, in order of first appearance).
    """
    n = len(paths)
    if len(conversions) != n:
        raise AttributionError(f"{len(conversions)} conversions for {n} paths")
    flat = [c for p in paths for c in p]
    if channels is None:
        channels = list(dict.fromkeys(flat))
    codes = _channel_codes(np.array(flat, dtype=object), channels, "paths")
    lengths = np.array([len(p) for p in paths], dtype=np.int64)
    journey = np.repeat(np.arange(n), lengths)
    if hours is None:
        hour = np.full(len(flat), np.nan)
        ends = np.full(n, np.nan)
    else:
        if len(hours) != n or any(len(h) != len(p) for h, p in zip(hours, paths, strict=True)):
            raise AttributionError("hours must give one time per touch of every path")
        hour = np.array([float(h) for hs in hours for h in hs])
        for j, hs in enumerate(hours):
            if np.any(np.diff(np.asarray(hs, dtype=float)) < 0):
                raise AttributionError(f"timestamps out of order in journey {j}: {list(hs)}; "
                                       "touches must be in time order")
        ends = np.array([hs[-1] if len(hs) else np.nan for hs in hours], dtype=float)
        if end_hours is not None:
            ends = np.asarray(end_hours, dtype=float)
            last = np.array([hs[-1] if len(hs) else -np.inf for hs in hours], dtype=float)
            if np.any(ends < last):
                raise AttributionError("a journey ends before its last touch")
    conv = np.asarray(conversions, dtype=float)
    val = conv if value is None else np.asarray(value, dtype=float)
    nul = np.zeros(n) if nulls is None else np.asarray(nulls, dtype=float)
    if len(val) != n or len(nul) != n:
        raise AttributionError("value and nulls need one entry per path")
    return _build(journey, codes, hour, channels, conv, val, nul, ends)


def read_paths(source: str | Path | pd.DataFrame, *, path: str = "path",
               conversions: str = "total_conversions",
               value: str | None = "total_conversion_value", nulls: str | None = "total_null",
               sep: str = ">") -> Journeys:
    """Aggregated path data (``a > b > c`` per row, with totals) as ``Journeys``.

    Channels are ordered by first appearance. Missing ``value``/``nulls`` columns (``None``)
    count as zero.
    """
    frame = source if isinstance(source, pd.DataFrame) else _read_csv(Path(source))
    needed = [c for c in (path, conversions, value, nulls) if c is not None]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise AttributionError(f"path data lacks columns {missing}; has {list(frame.columns)}")
    if len(frame) == 0:
        raise AttributionError("path data has no rows: empty journey set")
    empty = frame[path].isna().to_numpy()
    if empty.any():
        raise AttributionError(f"column {path!r} has empty paths (row "
                               f"{int(np.flatnonzero(empty)[0])})")
    # str.split per row, then strip each distinct token once (not each touch): several times
    # faster than pandas' string methods on paths of a few touches.
    parts = [str(text).split(sep) for text in frame[path].tolist()]
    lengths = np.fromiter(map(len, parts), dtype=np.int64, count=len(parts))
    tokens = np.fromiter(itertools.chain.from_iterable(parts), dtype=object,
                         count=int(lengths.sum()))
    token_codes, distinct = pd.factorize(tokens, sort=False)
    names = np.array([str(t).strip() for t in distinct], dtype=object)
    name_codes, uniques = pd.factorize(names, sort=False)
    if (uniques == "").any():
        raise AttributionError(f"a path has an empty channel name (separator {sep!r} doubled "
                               "or at an end)")
    codes = name_codes[token_codes]
    n = len(frame)

    def column(name: str | None) -> np.ndarray:
        if name is None:
            return np.zeros(n)
        values = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)
        if np.isnan(values).any():
            raise AttributionError(f"column {name!r} must be numeric, row "
                                   f"{int(np.flatnonzero(np.isnan(values))[0])} is not")
        return values

    conv = column(conversions)
    return _build(np.repeat(np.arange(n), lengths), codes.astype(np.int64),
                  np.full(len(codes), np.nan), [str(u) for u in uniques], conv,
                  column(value), column(nulls), np.full(n, np.nan))


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path)
    except FileNotFoundError:
        raise AttributionError(f"{path}: no such file") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise AttributionError(f"{path}: not a readable CSV file ({exc})") from None


def from_touchpoints(touchpoints: pd.DataFrame, orders: pd.DataFrame, *,
                     channels: Sequence[str], horizon: int, lookback: float = 72.0,
                     touches: str = "clicks") -> Journeys:
    """Journeys from touchpoint and order logs (``RunResult.touchpoints``/``.orders``).

    Parameters
    ----------
    touchpoints
        Columns ``consumer``, ``hour``, ``channel``, ``clicked`` (one row per consumer x
        channel x hour).
    orders
        Columns ``consumer``, ``hour``, ``gmv`` (and ``source``, checked if present).
    channels
        The campaign's channels; a touch on any other raises ``AttributionError``.
    horizon
        Campaign length in hours; non-converting journeys end at hour ``horizon - 1``.
    lookback
        Window in hours: a touch counts for an end at ``T`` if ``0 <= T - t < lookback``.
    touches
        ``"clicks"`` (clicked touchpoints only) or ``"impressions"`` (every touchpoint).
    """
    lookback = _check_lookback(lookback)
    if touches not in TOUCHES:
        raise AttributionError(f"touches must be one of {list(TOUCHES)}, got {touches!r}")
    for name, frame, cols in (("touchpoints", touchpoints, ("consumer", "hour", "channel",
                                                            "clicked")),
                              ("orders", orders, ("consumer", "hour", "gmv"))):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise AttributionError(f"{name} lack columns {missing}; have {list(frame.columns)}")
    channels = list(channels)
    tp = touchpoints[touchpoints["clicked"].astype(bool)] if touches == "clicks" else touchpoints
    tp_channel = tp["channel"].astype(object)
    codes = _channel_codes(tp_channel, channels, "touchpoints")
    if "source" in orders.columns:
        _channel_codes(orders["source"].astype(object), channels + list(NON_CHANNEL_SOURCES),
                       "order sources")
    t_hour = _hours(tp["hour"], horizon, "touchpoints")
    o_hour = _hours(orders["hour"], horizon, "orders")
    t_cons = tp["consumer"].to_numpy(dtype=np.int64)
    o_cons = orders["consumer"].to_numpy(dtype=np.int64)
    gmv = orders["gmv"].to_numpy(dtype=np.float64)

    # Sort key consumer-major, hour-minor; touches keep the log's order within an hour.
    span = horizon + 1
    t_key, o_key = t_cons * span + t_hour, o_cons * span + o_hour
    t_sort = np.lexsort((np.arange(len(t_key)), t_key))
    o_sort = np.argsort(o_key, kind="stable")
    t_key, codes, t_hour, t_cons = t_key[t_sort], codes[t_sort], t_hour[t_sort], t_cons[t_sort]
    o_key, o_hour, o_cons, gmv = o_key[o_sort], o_hour[o_sort], o_cons[o_sort], gmv[o_sort]

    # The first order of the same consumer at or after the touch owns it.
    owner = np.searchsorted(o_key, t_key, side="left")
    has_order = owner < len(o_key)
    has_order[has_order] = o_cons[owner[has_order]] == t_cons[has_order]
    end = np.where(has_order, np.append(o_hour, horizon - 1)[owner], horizon - 1)
    keep = (end - t_hour) < lookback
    # Journey ids: orders first (0..n_orders-1), then one per consumer with a tail.
    tail_consumers, tail_index = np.unique(t_cons[keep & ~has_order], return_inverse=True)
    journey_of = np.where(has_order, owner, -1)
    journey_of[keep & ~has_order] = len(o_key) + tail_index
    journey_of, codes, t_hour = journey_of[keep], codes[keep], t_hour[keep]
    by_journey = np.argsort(journey_of, kind="stable")
    n_tail = len(tail_consumers)
    return _build(
        journey_of[by_journey], codes[by_journey], t_hour[by_journey].astype(float), channels,
        conversions=np.concatenate([np.ones(len(o_key)), np.zeros(n_tail)]),
        value=np.concatenate([gmv, np.zeros(n_tail)]),
        nulls=np.concatenate([np.zeros(len(o_key)), np.ones(n_tail)]),
        end_hour=np.concatenate([o_hour, np.full(n_tail, horizon - 1)]).astype(float),
    )


def _hours(column: pd.Series, horizon: int, what: str) -> np.ndarray:
    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64)
    bad = np.isnan(values) | (values < 0) | (values >= horizon) | (values != np.round(values))
    if bad.any():
        raise AttributionError(f"{what} hours must be whole hours in [0, {horizon}); "
                               f"found {values[bad][0]}")
    return values.astype(np.int64)


def from_run(result, *, lookback: float = 72.0, touches: str = "clicks") -> Journeys:
    """Journeys of one simulation run (a ``simulation.RunResult``)."""
    scenario = result.scenario
    return from_touchpoints(result.touchpoints, result.orders,
                            channels=[c.name for c in scenario.channels],
                            horizon=scenario.calendar.hours, lookback=lookback, touches=touches)
