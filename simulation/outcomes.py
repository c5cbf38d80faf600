"""What a consumer backend reports back to the model after one action (shared types)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .calendar import Quote


@dataclass(frozen=True)
class Delivery:
    """Impressions of one channel in one hour that reached consumers."""

    ids: np.ndarray  # consumers reached (unique)
    impressions: np.ndarray  # impressions each received (after frequency caps)
    clicked: np.ndarray  # bool per consumer
    complained: np.ndarray  # consumers who complained
    opted_out: np.ndarray  # consumers who opted out of the channel


@dataclass(frozen=True)
class Offer:
    """What a set of triggered consumers is offered: one product, one source, one hour."""

    product: int
    quote: Quote
    live_discount: float  # livestream session deal of the source channel (0 if none)
    live: bool  # triggered by a channel whose livestream session is on
    shift: float  # market-wide utility shift (competitor promotions)
    price_floor: float
    hour: int
    certain: bool = False  # influence that converts directly: buy if in the market


@dataclass(frozen=True)
class Purchases:
    ids: np.ndarray
    price: np.ndarray  # unit price paid
    units: np.ndarray
    new_customer: np.ndarray  # bool: first purchase of the brand ever


@dataclass(frozen=True)
class PurchaseState:
    """What a purchase of one product changes in a consumer, as it was before it: kept for a
    presale deposit, and put back if the buyer forfeits the deposit (the order never
    completes, so it must leave no reference price, purchase count or time out of market)."""

    reference: np.ndarray
    next_need: np.ndarray
    purchases: np.ndarray

    def take(self, index: np.ndarray) -> PurchaseState:
        return PurchaseState(self.reference[index], self.next_need[index],
                             self.purchases[index])


EMPTY_IDS = np.empty(0, dtype=np.int64)
