"""The campaign calendar on a SimPy clock (hours): phases, timed events and the tick.

SimPy carries the sparse calendar: one process per phase and per event switches the market
state on and off; one tick process steps the consumer population every
``calendar.tick_hours`` hours (1 by default). Event and
phase times are whole hours, and every calendar timeout that fires at hour t was scheduled
before the tick process scheduled its own step for t, so a change at hour t is seen by the
tick of hour t (SimPy processes same-time events in scheduling order).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import simpy

from scenarios.schema import (
    CompetitorPromotion,
    CouponDrop,
    FlashSale,
    Frame,
    KocSeeding,
    KolPost,
    Livestream,
    Presale,
    Scenario,
)

from .shelf import Shelf


@dataclass
class CalendarState:
    """What the calendar has switched on at the current hour."""

    phase: str | None = None
    live_discount: dict[int, float] = field(default_factory=dict)  # channel -> discount
    flash_discount: dict[int, float] = field(default_factory=dict)  # product -> discount
    presale: dict[int, Presale] = field(default_factory=dict)  # product -> open deposit window
    utility_shift: float = 0.0


@dataclass(frozen=True)
class Quote:
    """The price a product shows at one hour, before consumer-specific deals: numbers, or
    (K,) arrays where the worlds of a batch show different prices."""

    price: float | np.ndarray
    anchor: float | np.ndarray  # displayed original price, NaN if none is shown
    limited_time: bool | np.ndarray


@dataclass(frozen=True)
class CalendarHooks:
    """Model callbacks for events that act on consumers rather than on the market state."""

    coupon_drop: Callable[[CouponDrop], None]
    deposits_due: Callable[[Presale], None]
    social_post: Callable[[KolPost | KocSeeding], None]


def quote(scenario: Scenario, state: CalendarState, shelf: Shelf, product: int,
          hour: int) -> Quote:
    """Best active offer for ``product`` against its shelf price (every world's), with
    flash-sale and presale discounts applied."""
    day = min(hour // 24, shelf.price.shape[2] - 1)
    base = shelf.price[:, product, day]
    price, anchor = base.copy(), shelf.anchor[:, product, day].copy()
    limited = shelf.limited[:, product, day].copy()
    name = scenario.products[product].name
    for offer in scenario.offers:
        end = offer.end_day if offer.end_day is not None else scenario.calendar.days
        if offer.product == name and offer.start_day * 24 <= hour < end * 24:
            take = (offer.promo_price < price) | np.isnan(anchor) & (offer.promo_price == price)
            price = np.where(take, offer.promo_price, price)
            shown = offer.original_price if offer.original_price is not None else np.nan
            anchor = np.where(take, shown, anchor)
            limited = np.where(take, offer.frame is Frame.limited_time, limited)
    flash = state.flash_discount.get(product, 0.0)
    if flash > 0:
        anchor = np.where(np.isnan(anchor), base, anchor)
        price, limited = price * (1 - flash), np.ones_like(limited)
    presale = state.presale.get(product)
    if presale is not None and presale.discount > 0:
        price = price * (1 - presale.discount)
    return Quote(price=_collapse(price, float), anchor=_collapse(anchor, float),
                 limited_time=_collapse(limited, bool))


def _collapse(values: np.ndarray, kind):
    """A number where every world agrees (the single-run case), else the (K,) array."""
    first = values[0]
    if len(values) == 1 or (np.isnan(values).all() if kind is float and first != first
                            else (values == first).all()):
        return kind(first)
    return values


def start_calendar(
    env: simpy.Environment, scenario: Scenario, state: CalendarState, hooks: CalendarHooks
) -> None:
    """Start one SimPy process per phase and per event."""
    for phase in scenario.calendar.phases:
        env.process(_phase(env, phase.name, phase.start_day * 24, phase.end_day * 24, state))
    products = {p.name: i for i, p in enumerate(scenario.products)}
    channels = {c.name: i for i, c in enumerate(scenario.channels)}
    for event in scenario.calendar.events:
        env.process(_event(env, event, state, hooks, products, channels))


def _phase(env, name: str, start: float, end: float, state: CalendarState):
    yield env.timeout(int(np.ceil(start)))
    state.phase = name
    yield env.timeout(int(np.ceil(end)) - int(np.ceil(start)))
    if state.phase == name:
        state.phase = None


def _event(env, event, state: CalendarState, hooks: CalendarHooks, products, channels):
    targets = [products[event.product]] if getattr(event, "product", None) else list(
        products.values()
    )
    yield env.timeout(event.start_hour)
    if isinstance(event, Livestream):
        state.live_discount[channels[event.channel]] = event.discount
    elif isinstance(event, FlashSale):
        for p in targets:
            state.flash_discount[p] = max(state.flash_discount.get(p, 0.0), event.discount)
    elif isinstance(event, Presale):
        for p in targets:
            state.presale[p] = event
    elif isinstance(event, CouponDrop):
        hooks.coupon_drop(event)
    elif isinstance(event, KolPost | KocSeeding):
        hooks.social_post(event)
    elif isinstance(event, CompetitorPromotion):
        state.utility_shift += event.utility_shift
    yield env.timeout(event.duration_hours)
    if isinstance(event, Livestream):
        state.live_discount.pop(channels[event.channel], None)
    elif isinstance(event, FlashSale):
        for p in targets:
            state.flash_discount.pop(p, None)
    elif isinstance(event, Presale):
        for p in targets:
            state.presale.pop(p, None)
        yield env.timeout(event.balance_at - event.end_hour)
        hooks.deposits_due(event)
    elif isinstance(event, CompetitorPromotion):
        state.utility_shift -= event.utility_shift


def run_clock(env: simpy.Environment, step: Callable[[int], None], hours: int,
              tick: int = 1) -> None:
    """Call ``step(hour)`` at hours 0, tick, 2 tick, ... below ``hours``, after the calendar's
    changes (which the schema puts on tick boundaries)."""

    def ticker():
        yield env.timeout(0)  # let hour-0 calendar changes (scheduled earlier) act first
        for hour in range(0, hours, tick):
            step(hour)
            yield env.timeout(tick)

    env.process(ticker())
    env.run(until=hours)
