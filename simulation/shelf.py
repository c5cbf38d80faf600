"""What the shop's shelf shows: categories of competing products and shelf prices by day.

Products of one category are the alternatives of one multinomial choice (``kernels``); a
product without a category is alone in its own. Shelf prices follow the scenario's observed
price path (``scenarios.prices``), carried forward from each row's day, and are list prices
where the path says nothing. Worlds of a batch share products but may each have their own
price path (one store each), so the tables have a world axis.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from scenarios.schema import Scenario


def category_members(scenario: Scenario) -> list[np.ndarray]:
    """For each product, the indices of its category's products (itself included), in the
    scenario's order; the first of them is the category's lead (own-need visits)."""
    keys = [scenario.category_of(p) for p in range(len(scenario.products))]
    return [np.array([q for q, key in enumerate(keys) if key == keys[p]], dtype=np.int64)
            for p in range(len(keys))]


@dataclass(frozen=True)
class Shelf:
    """Shelf price, displayed original price (NaN: none) and limited-time frame, each
    (worlds, products, days)."""

    price: np.ndarray
    anchor: np.ndarray
    limited: np.ndarray

    @classmethod
    def of(cls, scenarios: Sequence[Scenario]) -> Shelf:
        tables = [_table(s) for s in scenarios]
        return cls(*(np.stack([t[i] for t in tables]) for i in range(3)))


def _table(scenario: Scenario) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    names = [p.name for p in scenario.products]
    days = scenario.calendar.days
    price = np.repeat([[p.list_price] for p in scenario.products], days, axis=1)
    anchor = np.full(price.shape, np.nan)
    limited = np.zeros(price.shape, dtype=bool)
    rows = () if scenario.prices is None else sorted(scenario.prices.rows,
                                                     key=lambda r: (r.product, r.day))
    for row in rows:  # later rows of a product overwrite from their own day on
        p = names.index(row.product)
        price[p, row.day:] = row.price
        anchor[p, row.day:] = np.nan if row.original_price is None else row.original_price
        limited[p, row.day:] = row.frame == "limited_time"
    return price, anchor, limited
