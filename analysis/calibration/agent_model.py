"""The agent model's calibrated parameters, their priors, and the campaign statistics.

Parameters (scenario fields they set):

- ``awareness_half_life_hours`` -> ``behaviour.awareness_half_life_hours`` (ad-stock decay);
- ``base_utility_shift`` -> added to every generation's ``base_utility.mean`` (base
  conversion);
- ``loss_aversion`` -> every generation's ``loss_aversion.mean`` (lambda);
- ``word_of_mouth`` -> multiplies ``network.word_of_mouth.post_probability`` and
  ``network.group_buy.share_probability`` (buyers' posts and group-buy links; scenarios
  with a network; otherwise ``behaviour.social_weight`` takes its place);
- ``anchoring_weight`` -> every generation's ``anchoring_weight.mean`` (how far a displayed
  original price pulls the reference price).

Each prior is a transformed normal (:mod:`analysis.calibration.priors`), ``theta = T(mu +
sigma z)`` with ``z ~ N(0, 1)`` and ``T`` the exponential (log-normal), the identity (normal)
or the logistic (logit-normal), so ``z`` is the coordinate the emulator
(:mod:`analysis.calibration.emulator`) works in.

Statistics of a campaign's daily orders ``o_d`` and GMV ``g_d`` over days ``0..D-1``, chosen
so that none depends on the size of the market (per 1,000 consumers, shares, ratios):

- ``log orders per 1,000``: ``log((sum o + 0.5) / N * 1000)`` (level: base conversion);
- ``log price / list``: ``log(sum g / sum o / L)``, ``L`` the mean list price of the
  scenario's products (how much buying waits for deals). With several products at
  different list prices this mixes the product mix into the price paid; data with
  per-product columns (``orders_<product>``, ``gmv_<product>``) replace it by the exact
  ``log price / list, <product>``: ``log(sum g_p / sum o_p / L_p)`` with each product's
  own orders ``o_p``, GMV ``g_p`` and list price ``L_p``;
- ``share, first third`` and ``last third`` of the orders (timing: carry-over);
- per flash sale on day ``f`` (with two days on each side inside the window), shares of the
  orders of its five days ``f-2..f+2``: ``flash share day f``, the flash day's, and
  ``after-flash share day f``, days ``f+1`` and ``f+2``'s (buyers at the flash price lower
  their reference price, and loss aversion weighs the return to the normal price as a loss:
  the post-promotion dip);
- per run of constant own shelf prices (``[prices]``, the shop's observed price path, split
  at each move of an own product's price), but the last: ``share, days a-b``, its share of
  the window's orders (a deep promotion pulls orders into its days; after it, reference
  prices that followed the promotion make the regular price a loss, which loss aversion
  weighs);
- ``share, last of first + last week`` (persistence after the launch bursts).

Every statistic but the level is a share or a ratio of sums, never the log of a small count:
its mean is then the same in a 2,000-consumer design campaign as in a 200,000-consumer
market (a ``log(count + 0.5)`` is not: with a few orders a day the offset and the log's
curvature move its mean, and the fit would count that gap as model misfit). For the same
reason there is no autocorrelation (counting noise shrinks it in a small market) and no
share after the busiest day (which day that is depends on the noise).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import logit

from scenarios import GENERATIONS, Scenario
from scenarios.schema import FlashSale

from . import order_statistics
from .priors import Prior

PARAMETERS = ("awareness_half_life_hours", "base_utility_shift", "loss_aversion",
              "word_of_mouth", "anchoring_weight")


UNINFORMED = 0.8
"""Posterior sd / prior sd above which the CLI reports a parameter as not informed."""

PRIORS = {
    "awareness_half_life_hours": Prior("LogNormal", mu=float(np.log(72.0)), sigma=0.5),
    "base_utility_shift": Prior("Normal", mu=0.0, sigma=0.5),
    "loss_aversion": Prior("LogNormal", mu=float(np.log(1.955)), sigma=0.3),
    "word_of_mouth": Prior("LogNormal", mu=0.0, sigma=0.5),
    "anchoring_weight": Prior("LogitNormal", mu=float(logit(0.33)), sigma=0.6),
}


def baseline(scenario: Scenario) -> dict[str, Any]:
    """The scenario values the parameters shift or scale (kept in the calibration's meta)."""
    network = scenario.network
    return {"base_utility": {g: scenario.segments[g].base_utility.mean for g in GENERATIONS},
            "anchoring_sd": {g: scenario.segments[g].anchoring_weight.sd for g in GENERATIONS},
            "post_probability": (dict(network.word_of_mouth.post_probability)
                                 if network is not None else None),
            "share_probability": (network.group_buy.share_probability
                                  if network is not None and network.group_buy is not None
                                  else None),
            "social_weight": scenario.behaviour.social_weight}


def overrides(scenario: Scenario, values: dict[str, float]) -> dict[str, Any]:
    """Scenario field overrides for one set of parameter values."""
    return value_overrides(values, baseline(scenario))


def value_overrides(values: dict[str, float], base: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "awareness_half_life_hours" in values:
        out["behaviour.awareness_half_life_hours"] = float(values["awareness_half_life_hours"])
    for g in GENERATIONS:
        if "base_utility_shift" in values:
            out[f"segments.{g}.base_utility.mean"] = (base["base_utility"][g]
                                                      + float(values["base_utility_shift"]))
        if "loss_aversion" in values:
            out[f"segments.{g}.loss_aversion.mean"] = float(values["loss_aversion"])
        if "anchoring_weight" in values:
            m = float(np.clip(values["anchoring_weight"], 0.01, 0.99))
            out[f"segments.{g}.anchoring_weight.mean"] = m
            # a Beta with this mean needs sd^2 < m (1 - m)
            sd = base.get("anchoring_sd", {}).get(g, 0.0)
            out[f"segments.{g}.anchoring_weight.sd"] = min(sd, 0.9 * np.sqrt(m * (1 - m)))
    if "word_of_mouth" in values:
        scale = float(values["word_of_mouth"])
        if base["post_probability"] is not None:
            out["network.word_of_mouth.post_probability"] = {
                g: min(1.0, p * scale) for g, p in base["post_probability"].items()}
            if base.get("share_probability") is not None:
                out["network.group_buy.share_probability"] = min(
                    1.0, base["share_probability"] * scale)
        else:
            out["behaviour.social_weight"] = base["social_weight"] * scale
    return out


def flash_days(scenario: Scenario, days: int) -> list[int]:
    """Days of the flash sales with two whole days on each side inside ``days``."""
    out = sorted({e.start_hour // 24 for e in scenario.calendar.events
                  if isinstance(e, FlashSale)})
    return [d for d in out if d >= 2 and d + 2 < days]


def statistic_names(scenario: Scenario, days: int, *, by_product: bool = False,
                    sources: list[str] | None = None, repeats: bool = False) -> list[str]:
    """Names of the statistics of ``days`` days (``by_product``: of per-product series;
    ``sources``: with orders by these sources; ``repeats``: with an order log's repeats)."""
    flash = [n for d in flash_days(scenario, days)
             for n in (f"flash share day {d}", f"after-flash share day {d}")]
    price = ([f"log price / list, {p.name}" for p in scenario.own_products] if by_product
             else ["log price / list"])
    return ["log orders per 1,000", *price, "share, first third",
            "share, last third", *flash,
            *(name for name, _ in price_segments(scenario, days)),
            "share, last of first + last week",
            *(order_statistics.source_statistic_names(sources) if sources else []),
            *(order_statistics.REPEAT_NAMES if repeats else [])]


MIN_SEGMENT_DAYS = 2
"""Shortest run of constant shelf prices that gives a price-segment statistic."""


def price_moves(scenario: Scenario, days: int) -> list[int]:
    """Days inside ``days`` on which an own product's shelf price moves (``[prices]``)."""
    if scenario.prices is None:
        return []
    own = {p.name for p in scenario.own_products}
    return sorted({r.day for r in scenario.prices.rows if r.product in own and 0 < r.day < days})


def price_segments(scenario: Scenario, days: int) -> list[tuple[str, slice]]:
    """(name, days) of each price-segment statistic: the runs of constant own shelf prices of
    at least ``MIN_SEGMENT_DAYS`` days, but the last (with it the shares would add up to
    one)."""
    bounds = [0, *price_moves(scenario, days), days]
    segments = [slice(a, b) for a, b in zip(bounds, bounds[1:]) if b - a >= MIN_SEGMENT_DAYS]
    return [(f"share, days {a.start}-{a.stop - 1}", a) for a in segments[:-1]]


GROUPS = {"log orders per 1,000": "level", "share, days": "price", "log price": "price",
          "flash share": "flash", "after-flash share": "flash", "share of orders": "source",
          "repeats per buyer": "repeat", "share of repeats": "repeat"}


def statistic_groups(names: list[str]) -> list[str]:
    """Each statistic's group (its model-discrepancy scale): level, price, flash, source,
    repeat, else timing."""
    return [next((g for prefix, g in GROUPS.items() if n.startswith(prefix)), "timing")
            for n in names]


def statistics(orders: np.ndarray, gmv: np.ndarray, *, population: int,
               scenario: Scenario, by_source: np.ndarray | None = None,
               sources: list[str] | None = None,
               repeats: np.ndarray | None = None) -> np.ndarray:
    """(K, S) statistics of K daily series ``orders``, ``gmv``: totals of shape (K, days),
    or per product (K, products, days), the scenario's own products in order (competitors'
    sales are not a shop's data: ``Scenario.own_products``), which gives one
    price statistic per product (``statistic_names(..., by_product=True)``). With
    ``by_source`` (K, sources, days) orders by the named ``sources`` and ``repeats``
    (K, days, 4) daily repeat counts, their statistics follow
    (:mod:`analysis.calibration.order_statistics`)."""
    o = np.asarray(orders, dtype=np.float64)
    g = np.asarray(gmv, dtype=np.float64)
    if o.ndim == 3:
        prices = [p.list_price for p in scenario.own_products]
        price_cols = list(_log_price_over_list(o.sum(axis=2), g.sum(axis=2), prices).T)
        o = o.sum(axis=1)
    else:
        o, g = np.atleast_2d(o), np.atleast_2d(g)
        mean_list = float(np.mean([p.list_price for p in scenario.own_products]))
        price_cols = [_log_price_over_list(o.sum(axis=1), g.sum(axis=1), mean_list)]
    days = o.shape[1]
    total = o.sum(axis=1)

    def share(part):
        return np.divide(part, total, out=np.zeros_like(total), where=total > 0)

    cols = [np.log((total + 0.5) / population * 1000), *price_cols]
    thirds = np.array_split(np.arange(days), 3)
    for part in (thirds[0], thirds[-1]):
        cols.append(share(o[:, part].sum(axis=1)))
    for d in flash_days(scenario, days):
        window = o[:, d - 2:d + 3].sum(axis=1)
        cols.append(_ratio(o[:, d], window))
        cols.append(_ratio(o[:, d + 1:d + 3].sum(axis=1), window))
    for _, segment in price_segments(scenario, days):
        cols.append(share(o[:, segment].sum(axis=1)))
    week = min(7, days // 2)
    first, last = o[:, :week].sum(axis=1), o[:, -week:].sum(axis=1)
    cols.append(_ratio(last, first + last))
    if by_source is not None:
        cols.extend(order_statistics.source_statistics(by_source, sources).T)
    if repeats is not None:
        cols.extend(order_statistics.repeat_statistics(repeats).T)
    return np.column_stack(cols)


def _ratio(a, b):
    """``a / b`` elementwise; 0 where ``b`` is 0."""
    return np.divide(a, b, out=np.zeros_like(a, dtype=np.float64), where=b > 0)


def _log_price_over_list(orders, gmv, list_price):
    """``log(gmv / orders / list_price)`` elementwise; 0 (list price paid) without orders."""
    list_price = np.broadcast_to(np.asarray(list_price, dtype=np.float64), np.shape(orders))
    paid = np.divide(gmv, orders, out=list_price.copy(), where=orders > 0)
    return np.log(paid / list_price)
