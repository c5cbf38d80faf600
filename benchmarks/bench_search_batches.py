"""Why the optimizer batches four candidates a pass: one search round's simulations
(8 allocations x 4 replications of double11_beauty at 20,000 consumers, on one core) as one
batch per allocation against two batches of 16 worlds, back to back in this process.

    .venv/bin/python benchmarks/bench_search_batches.py [--repeat 2]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

import scenarios
import simulation
from analysis.experiments.optimize import _seeds, simulate_allocations


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    s = simulation.rescale(scenarios.load("double11_beauty"), 20_000)
    rng = np.random.default_rng(0)
    allocations = [scenarios.with_overrides(s, {
        f"channels.{c.name}.budget": c.budget * x
        for c, x in zip(s.channels, rng.uniform(0.5, 1.5, len(s.channels)), strict=True)})
        for _ in range(8)]
    seeds = _seeds(0, 4)
    worlds = [a for a in allocations for _ in seeds]
    for repeat in range(args.repeat):
        started = time.perf_counter()
        for a in allocations:
            simulate_allocations([a] * len(seeds), seeds)
        small = time.perf_counter() - started
        started = time.perf_counter()
        for half in (slice(0, 16), slice(16, 32)):
            simulate_allocations(worlds[half], seeds * 4)
        large = time.perf_counter() - started
        print(f"repeat {repeat}: 8 batches of 4 worlds {small:.1f} s, 2 batches of 16 "
              f"{large:.1f} s ({large / small:.2f} of it), load {os.getloadavg()[0]:.1f}",
              flush=True)


if __name__ == "__main__":
    main()
