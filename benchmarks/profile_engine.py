"""Where an hour's time goes: cProfile of one run at 1,000,000 consumers (double11_beauty)
or of one batch of 256 x 2,000 worlds (food_group_buying), top entries by own time.

    .venv/bin/python benchmarks/profile_engine.py 1m|worlds [--top 22] [--population 200000]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time

import scenarios
import simulation


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("case", choices=("1m", "worlds"))
    parser.add_argument("--top", type=int, default=22)
    parser.add_argument("--population", type=int, default=1_000_000,
                        help="consumers of the single run (case 1m)")
    args = parser.parse_args()
    profile = cProfile.Profile()
    started = time.perf_counter()
    if args.case == "1m":
        s = scenarios.load("double11_beauty")
        consumers = args.population
        profile.runcall(simulation.run, s, seed=1, population=consumers)
    else:
        s = scenarios.load("food_group_buying")
        consumers = 256 * 2000
        profile.runcall(simulation.run_batch, [s] * 256, list(range(256)), population=2000)
    wall = time.perf_counter() - started
    steps = consumers * s.calendar.days * 24
    print(f"{args.case}: {wall:.1f} s, {steps / wall / 1e6:.1f} M agent-steps/s "
          "(under the profiler)")
    pstats.Stats(profile).sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
