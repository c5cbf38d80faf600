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
class Alternative:
    """One product of the category a triggered consumer chooses in, as it is offered."""

    product: int
    quote: Quote
    live_discount: float  # livestream session deal of the source channel (0 if none)
    live: bool  # triggered by a channel whose livestream session is on
    price_floor: float
    promoted: bool = True  # carries the campaign's awareness and social proof


@dataclass(frozen=True)
class Offer:
    """What a set of triggered consumers is offered: the trigger's product (one source, one
    hour) and, in ``rivals``, the other products of its category at their own prices."""

    product: int
    quote: Quote
    live_discount: float
    live: bool
    shift: float  # market-wide utility shift (competitor promotions)
    price_floor: float
    hour: int
    certain: bool = False  # influence that converts directly: buy if in the market
    promoted: bool = True
    rivals: tuple[Alternative, ...] = ()

    def alternatives(self) -> tuple[Alternative, ...]:
        """The choice set, the trigger's product first."""
        own = Alternative(self.product, self.quote, self.live_discount, self.live,
                          self.price_floor, self.promoted)
        return (own, *self.rivals)


@dataclass(frozen=True)
class Purchases:
    ids: np.ndarray
    price: np.ndarray  # unit price paid
    units: np.ndarray
    new_customer: np.ndarray  # bool: first purchase of the brand ever


@dataclass(frozen=True)
class Decision:
    """Consumers who decided (in the market when triggered), whether each met a loss (some
    alternative priced above its anchored reference) or an anchor (some alternative showing
    an original price), and what they bought, product by product (choice-set order)."""

    ids: np.ndarray
    faced_loss: np.ndarray
    anchored: np.ndarray
    bought: dict[int, Purchases]


@dataclass(frozen=True)
class PurchaseState:
    """What a purchase of one product changes in a consumer, as it was before it: kept for a
    presale deposit, and put back if the buyer forfeits the deposit (the order never
    completes, so it must leave no reference price, purchase count or time out of its
    category's market)."""

    reference: np.ndarray
    next_need: np.ndarray
    purchases: np.ndarray

    def take(self, index: np.ndarray) -> PurchaseState:
        return PurchaseState(self.reference[index], self.next_need[index],
                             self.purchases[index])


EMPTY_IDS = np.empty(0, dtype=np.int64)
