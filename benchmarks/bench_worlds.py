"""Many worlds in one pass, side by side: K separate runs, one batch of K worlds, and the
per-agent Mesa reference, on the run size calibration uses.

    .venv/bin/python benchmarks/bench_worlds.py            # K = 256, 2,000 consumers x 21 days
    .venv/bin/python benchmarks/bench_worlds.py --quick    # K = 32
    .venv/bin/python benchmarks/bench_worlds.py --scenario double11_beauty \
        --population 200000 --worlds 4 --separate 4 --reference 0   # where batching stops paying

All three in one process, on one core, on ``food_group_buying`` by default (its network,
group-buying and flash sales included). Separate runs go through ``simulation.run`` without
touchpoints, as calibration used to; the batch through ``simulation.run_batch``. Figures go
to stdout and benchmarks/results/worlds_<scenario>_<population>.json. Target: the batch
>= 10x the separate runs' rate per world (>= 50 M agent-steps/s on an idle core).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


def main() -> None:
    import scenarios
    import simulation

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="food_group_buying")
    parser.add_argument("--worlds", type=int, default=256)
    parser.add_argument("--population", type=int, default=2000)
    parser.add_argument("--separate", type=int, default=16, help="separate runs timed")
    parser.add_argument("--reference", type=int, default=2, help="Mesa reference runs timed")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.worlds, args.separate, args.reference = 32, 4, 1
    s = simulation.rescale(scenarios.load(args.scenario), args.population)
    steps = args.population * s.calendar.hours
    simulation.run_batch([s] * 2, [0, 1])  # imports and first-call costs outside the timing

    def rate(seconds: float, runs: int) -> dict:
        return {"runs": runs, "seconds": seconds, "runs_per_second": runs / seconds,
                "agent_steps_per_second": runs * steps / seconds}

    started = time.perf_counter()
    for seed in range(args.separate):
        simulation.run(s, seed=seed, log_touchpoints=False)
    separate = rate(time.perf_counter() - started, args.separate)
    started = time.perf_counter()
    simulation.run_batch([s] * args.worlds, list(range(args.worlds)))
    batched = rate(time.perf_counter() - started, args.worlds)
    started = time.perf_counter()
    for seed in range(args.reference):
        simulation.run(s, seed=seed, engine="agents", log_touchpoints=False)
    reference = rate(time.perf_counter() - started, args.reference) if args.reference else None

    report = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(), "cpus": os.cpu_count(),
        "scenario": args.scenario, "population": args.population,
        "hours": s.calendar.hours, "separate": separate, "batch": batched,
        "mesa_reference": reference,
        "batch_over_separate": batched["runs_per_second"] / separate["runs_per_second"],
        "batch_over_reference": (batched["runs_per_second"] / reference["runs_per_second"]
                                 if reference else None),
    }
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"worlds_{args.scenario}_{args.population}.json"
    out.write_text(json.dumps(report, indent=2))
    print(f"{args.scenario}, {args.population:,} consumers x {s.calendar.hours} h, one core")
    for name, r in (("separate runs", separate), (f"batch of {args.worlds}", batched),
                    ("Mesa reference", reference)):
        if r is None:
            continue
        print(f"  {name:<16} {r['runs_per_second']:8.2f} runs/s  "
              f"{r['agent_steps_per_second'] / 1e6:7.2f} M agent-steps/s")
    print(f"  batch / separate {report['batch_over_separate']:.1f}x (target >= 10x)")
    if reference:
        print(f"  batch / Mesa reference {report['batch_over_reference']:.0f}x")


if __name__ == "__main__":
    main()
