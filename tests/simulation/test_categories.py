"""Choice within a category, reference prices from prices seen, and observed price paths."""

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

import scenarios
from simulation.run import run

from ..conftest import DATA, MINI, with_second_product

GOLDEN = json.loads((Path(__file__).parent / "golden" / "orders_before_categories.json")
                    .read_text())
CASES = {
    "mini": lambda: scenarios.load(MINI),
    "mini_two_products": lambda: with_second_product(scenarios.load(MINI)),
    "social": lambda: scenarios.load(DATA / "social.toml"),
    "food_group_buying": lambda: scenarios.load("food_group_buying"),
    "double11_beauty": lambda: scenarios.load("double11_beauty"),
}


def order_hash(result) -> str:
    cols = ["consumer", "hour", "source", "product", "price", "units"]
    table = result.orders[cols].round({"price": 2})  # the old engine kept float32 prices
    return hashlib.sha256(table.to_csv(index=False).encode()).hexdigest()


@pytest.mark.parametrize("case", sorted(CASES))
def test_lone_products_with_paid_price_references_give_the_old_orders(case):
    """Every product alone in its category and references moved only by prices paid: the
    multinomial engine gives the binary-logit engine's orders, order for order (hashes of the
    order logs written by the engine before categories existed, same seeds)."""
    want = GOLDEN[case]
    scenario = scenarios.with_overrides(CASES[case](),
                                        {"behaviour.reference_smoothing_seen": 0.0})
    result = run(scenario, want["seed"], population=want["population"],
                 log_touchpoints=False)
    assert len(result.orders) == want["orders"]
    assert order_hash(result) == want["sha256"]
