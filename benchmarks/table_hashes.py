"""SHA-256 of the result tables of every preset (one run) and of a batch of worlds that differ
in their parameters: run it before and after an engine change that must not change results.

    .venv/bin/python benchmarks/table_hashes.py [--population 20000] > hashes.txt

One line per table: ``<case> <table> <sha256>``; two outputs equal line for line mean the
timeseries, orders and touchpoints (and a batch's metric arrays and order log) are identical.
"""

from __future__ import annotations

import argparse
import hashlib

import numpy as np

import scenarios
import simulation
from simulation.model import Holdout

PRESETS = ("double11_beauty", "fashion_seeding", "food_group_buying", "food_price_return",
           "silver_wechat_crm")


def digest(table) -> str:
    return hashlib.sha256(table.to_csv(index=False).encode()).hexdigest()


def array_digest(arrays) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def world_variant(s, w: int):
    """World ``w`` of the batch: its own ad-stock half-life and first channel's cap."""
    behaviour = s.behaviour.model_copy(update={
        "awareness_half_life_hours": s.behaviour.awareness_half_life_hours * (1 + 0.1 * w)})
    first = s.channels[0].model_copy(update={"frequency_cap": 1 + w % 4})
    return s.model_copy(update={"behaviour": behaviour,
                                "channels": (first, *s.channels[1:])})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--population", type=int, default=20_000)
    parser.add_argument("--worlds", type=int, default=8)
    args = parser.parse_args()
    for name in PRESETS:
        r = simulation.run(scenarios.load(name), seed=3, population=args.population)
        for table in ("timeseries", "orders", "touchpoints"):
            print(name, table, digest(getattr(r, table)), flush=True)
    s = scenarios.load("silver_wechat_crm")
    n = args.population
    half = np.arange(n) % 2 == 1
    held = Holdout(s.channels[0].name, half, 0, s.calendar.hours)
    r = simulation.run(s, seed=3, population=n, holdouts=[held])
    print("holdout", "timeseries", digest(r.timeseries), flush=True)
    base = simulation.rescale(scenarios.load("food_group_buying"), 2_000)
    worlds = [world_variant(base, w) for w in range(args.worlds)]
    batch = simulation.run_batch(worlds, list(range(args.worlds)))
    print("batch", "metrics", array_digest(batch.model.recorder.values[m]
                                           for m in sorted(batch.model.recorder.values)))
    print("batch", "orders", array_digest(batch.model.recorder.order_log()))


if __name__ == "__main__":
    main()
