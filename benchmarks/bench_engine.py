"""Engine benchmark: the 1M-consumer run, and the fast engine against the per-agent reference.

    make bench                      # or: .venv/bin/python benchmarks/bench_engine.py
    .venv/bin/python benchmarks/bench_engine.py --quick

Each configuration runs in a fresh subprocess so that its peak resident memory is its own.
Figures go to stdout and to benchmarks/results/engine.json. Targets (2-core machine):
1M consumers x 30 days hourly in <= 60 s and <= 4 GiB; >= 50x the reference's agent-steps/s.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


def measure_one(scenario: str, population: int, engine: str) -> dict:
    """Run once in this process; wall time, agent-steps/s and peak memory."""
    import scenarios
    import simulation

    s = scenarios.load(scenario)
    r = simulation.run(s, seed=1, population=population, engine=engine)
    steps = population * r.scenario.calendar.hours
    return {
        "engine": engine,
        "population": population,
        "hours": r.scenario.calendar.hours,
        "wall_seconds": r.wall_seconds,
        "agent_steps_per_second": steps / r.wall_seconds,
        "peak_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
        "touchpoints": len(r.touchpoints),
        "orders": r.summary["orders"],
    }


def measure(scenario: str, population: int, engine: str, repeats: int = 1) -> dict:
    """Median over ``repeats`` fresh subprocesses."""
    runs = []
    for _ in range(repeats):
        out = subprocess.run(
            [sys.executable, __file__, "--one", scenario, str(population), engine],
            check=True, capture_output=True, text=True,
        )
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    best = sorted(runs, key=lambda r: r["wall_seconds"])[len(runs) // 2]
    best["repeats_wall_seconds"] = [r["wall_seconds"] for r in runs]
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="double11_beauty")
    parser.add_argument("--population", type=int, default=1_000_000)
    parser.add_argument("--ref-populations", default="2000,100000",
                        help="comma-separated sizes for the reference comparison")
    parser.add_argument("--quick", action="store_true", help="100,000 and 500 consumers")
    parser.add_argument("--one", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure_one(args.one[0], int(args.one[1]), args.one[2])))
        return
    big = 100_000 if args.quick else args.population
    sizes = [500] if args.quick else [int(n) for n in args.ref_populations.split(",")]

    large = measure(args.scenario, big, "array")
    comparisons = []
    for n in sizes:
        repeats = 3 if n <= 10_000 else 1
        fast = measure(args.scenario, n, "array", repeats=repeats)
        ref = measure(args.scenario, n, "agents", repeats=repeats)
        ratio = fast["agent_steps_per_second"] / ref["agent_steps_per_second"]
        comparisons.append({"population": n, "array": fast, "agents": ref, "speedup": ratio})
    report = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "numpy": __import__("numpy").__version__,
        "cpus": os.cpu_count(),
        "large_run": large,
        "reference_comparison": comparisons,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "engine.json").write_text(json.dumps(report, indent=2))
    print(f"{args.scenario}: {big:,} consumers x {large['hours']} h, array engine: "
          f"{large['wall_seconds']:.1f} s (target <= 60), "
          f"{large['agent_steps_per_second'] / 1e6:.1f} M agent-steps/s, "
          f"peak {large['peak_gib']:.2f} GiB (target <= 4), "
          f"{large['touchpoints']:,} touchpoint rows")
    for c in comparisons:
        fast, ref = c["array"], c["agents"]
        print(f"at {c['population']:,} consumers: array "
              f"{fast['agent_steps_per_second'] / 1e6:.2f} M agent-steps/s "
              f"({statistics.median(fast['repeats_wall_seconds']):.2f} s), Mesa reference "
              f"{ref['agent_steps_per_second'] / 1e6:.3f} M "
              f"({statistics.median(ref['repeats_wall_seconds']):.2f} s): "
              f"{c['speedup']:.1f}x (target >= 50x)")


if __name__ == "__main__":
    main()
