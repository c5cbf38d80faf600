"""Statistics of the data that inform the behavioural parameters: orders by influence source
and repeat buyers' response to price moves.

Both are computed by the same functions from a simulated batch (the design) and from a
shop's data, so the emulator and the observed values measure one thing:

- **orders by source** (``source_orders_<source>`` columns, or the engine's per-source
  metric): for ``organic`` and each social source of the scenario (``kol``, ``koc``,
  ``friend``, ``group_buy``) ``o_s / o``, its share of all orders ``o`` (word
  of mouth and group-buy sharing move the social shares);
- **repeat purchases** (an order log, :func:`repeat_counts`): a repeat is an order of a
  product the customer ordered before in the log; compared with the unit price of the
  customer's previous order of that product it is *above*, *below* or at the same price.
  ``R / B`` (repeats ``R`` per first-time buyer ``B``) and the shares of repeats above and
  below the previous price, ``U / R`` and ``D / R``: a
  buyer's reference price moves toward the price paid, so a later higher price is a loss
  that loss aversion weighs, and a displayed original price (anchoring) softens it.

Shares and ratios of sums, not their logs: their means do not depend on the size of the
market (the log of a share of a few orders would, through its curvature), so a small
design campaign's statistics estimate a large market's.
"""

from __future__ import annotations

import numpy as np

from scenarios.social import SOCIAL_SOURCES

ORGANIC = "organic"
REPEAT_NAMES = ("repeats per buyer", "share of repeats above previous price",
                "share of repeats below previous price")
COUNTS = ("buyers", "repeats", "above", "below")
"""Columns of :func:`repeat_counts`' daily counts."""


def scenario_sources(scenario) -> list[str]:
    """The influence sources the engine records for ``scenario``, in its order: the
    channels, ``organic``, then the social sources when the scenario has a network."""
    social = list(SOCIAL_SOURCES) if scenario.network is not None else []
    return [c.name for c in scenario.channels] + [ORGANIC] + social


def source_statistic_sources(sources: list[str]) -> list[str]:
    """The sources (of an engine's ``sources`` list) that give a share statistic: organic
    and the social ones; the paid channels' share is what remains."""
    return [s for s in sources if s == ORGANIC or s in SOCIAL_SOURCES]


def source_statistic_names(sources: list[str]) -> list[str]:
    return [f"share of orders, {s}" for s in source_statistic_sources(sources)]


def source_statistics(by_source: np.ndarray, sources: list[str]) -> np.ndarray:
    """(K, n) share statistics of (K, sources, days) daily orders by source (``sources``
    names the second axis, in the engine's order)."""
    counts = np.asarray(by_source, dtype=np.float64).sum(axis=2)
    total = counts.sum(axis=1, keepdims=True)
    share = np.divide(counts, total, out=np.zeros_like(counts), where=total > 0)
    keep = [sources.index(s) for s in source_statistic_sources(sources)]
    return share[:, keep]


def repeat_counts(customer: np.ndarray, hour: np.ndarray, product: np.ndarray,
                  price: np.ndarray, *, days: int, group: np.ndarray | None = None,
                  groups: int = 1) -> np.ndarray:
    """(groups, days, 4) daily counts of first-time buyers, repeat orders, and repeats above
    and below the previous unit price paid (``COUNTS``), per ``group`` (a world of a batch;
    one group for a shop's log).

    Orders are taken per (customer, product) in time order (ties by price); ``customer``
    and ``product`` are integer codes, ``hour`` hours since the campaign start.
    """
    group = np.zeros(len(customer), dtype=np.int64) if group is None else np.asarray(group)
    out = np.zeros((groups, days, len(COUNTS)))
    if len(customer) == 0:
        return out
    order = np.lexsort((price, hour, product, customer, group))
    g, c, p = group[order], customer[order], product[order]
    paid, day = np.asarray(price)[order], (np.asarray(hour)[order] // 24).astype(np.int64)
    repeat = np.r_[False, (g[1:] == g[:-1]) & (c[1:] == c[:-1]) & (p[1:] == p[:-1])]
    previous = np.r_[np.nan, paid[:-1]]
    tolerance = 1e-6 * np.abs(paid)
    kinds = [~repeat, repeat, repeat & (paid > previous + tolerance),
             repeat & (paid < previous - tolerance)]
    for j, rows in enumerate(kinds):
        np.add.at(out[:, :, j], (g[rows], day[rows]), 1.0)
    return out


def repeat_statistics(counts: np.ndarray) -> np.ndarray:
    """(K, 3) statistics (``REPEAT_NAMES``) of (K, days, 4) daily counts
    (:func:`repeat_counts`)."""
    buyers, repeats, above, below = np.asarray(counts, dtype=np.float64).sum(axis=1).T

    def ratio(a, b):
        return np.divide(a, b, out=np.zeros_like(a), where=b > 0)

    return np.column_stack([ratio(repeats, buyers), ratio(above, repeats),
                            ratio(below, repeats)])


def shop_export(result, *, orders_file: str = "simulated"):
    """What a shop's exports would hold for one simulated run (a ``RunResult``): the daily
    series with ``orders``, ``gmv``, per-product and ``source_orders_<source>`` columns (one
    row per campaign day), and the order log as an
    :class:`~analysis.calibration.data.OrderLog`."""
    import pandas as pd

    from .data import OrderLog

    scenario = result.scenario
    days = pd.RangeIndex(scenario.calendar.days, name="day")
    log = result.orders.assign(day=result.orders["hour"] // 24)
    daily = log.groupby("day").agg(orders=("gmv", "size"), gmv=("gmv", "sum")).reindex(
        days, fill_value=0).astype(float)
    for column, key, values in (("orders", "product", "size"), ("gmv", "product", "sum"),
                                ("source_orders", "source", "size")):
        names = ([p.name for p in scenario.own_products] if key == "product"
                 else scenario_sources(scenario))
        table = log.groupby(["day", key], observed=False)["gmv"].agg(values).unstack(key)
        table = table.reindex(index=days, columns=names, fill_value=0).fillna(0)
        for name in names:
            daily[f"{column}_{name}"] = table[name].astype(float)
    orders = OrderLog(orders_file, tuple(p.name for p in scenario.products),
                      tuple(scenario_sources(scenario)), log["consumer"].to_numpy(np.int64),
                      log["hour"].to_numpy(np.float64),
                      log["product"].cat.codes.to_numpy(np.int64),
                      log["price"].to_numpy(np.float64), log["units"].to_numpy(np.int64),
                      log["source"].cat.codes.to_numpy(np.int64))
    return daily, orders
