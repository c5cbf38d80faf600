"""The engine against an earlier revision of itself, side by side: agent-steps per second of
one large run, of one run at the app's size and per world of a batch, each case run in turn
in the two trees (A B A B ...) so that a drifting machine load hits both alike.

    .venv/bin/python benchmarks/bench_fused.py --base 81f2439 [--population 200000] \
        [--small-population 20000] [--worlds 256] [--world-population 2000] [--repeats 3]

The base revision's ``simulation`` and ``scenarios`` are exported with ``git archive`` into a
temporary directory and imported from there (first on ``PYTHONPATH``); each measurement is a
fresh subprocess that first runs a 2,000-consumer warm-up (imports, compiled code loaded
from its disk cache), then the timed run. Rates are per CPU second of the timed run (the
process's own, one thread: less disturbed by other load than wall time, also reported).
Figures go to stdout and benchmarks/results/fused.json.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).parent / "results"


def measure(case: str, size: int, worlds: int) -> dict:
    """Time one run (``case`` "run": double11_beauty at ``size`` consumers) or one batch
    ("batch": ``worlds`` food_group_buying worlds of ``size``) in this process."""
    import time

    import scenarios
    import simulation

    if case == "run":
        s = simulation.rescale(scenarios.load("double11_beauty"), size)
        simulation.run(s, seed=0, population=2000)
        started, cpu = time.perf_counter(), time.process_time()
        simulation.run(s, seed=1)
        consumers = size
    else:
        s = simulation.rescale(scenarios.load("food_group_buying"), size)
        simulation.run_batch([s] * 2, [0, 1])
        started, cpu = time.perf_counter(), time.process_time()
        simulation.run_batch([s] * worlds, list(range(worlds)))
        consumers = size * worlds
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"wall_seconds": wall, "cpu_seconds": cpu, "agent_steps": consumers * s.calendar.hours,
            "module": simulation.__file__}


def child(tree: Path | None, case: str, size: int, worlds: int) -> dict:
    env = dict(os.environ)
    if tree is not None:
        env["PYTHONPATH"] = str(tree)
    out = subprocess.run([sys.executable, __file__, "--one", case, str(size), str(worlds)],
                         check=True, capture_output=True, text=True, env=env, cwd=tree or ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", help="git revision to compare with (required)")
    parser.add_argument("--population", type=int, default=200_000)
    parser.add_argument("--small-population", type=int, default=20_000,
                        help="consumers of the second single run (the app's size); 0: none")
    parser.add_argument("--worlds", type=int, default=256)
    parser.add_argument("--world-population", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--one", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one[0], int(args.one[1]), int(args.one[2]))))
        return
    if not args.base:
        parser.error("--base is required")
    cases = {"run": (args.population, 1), "batch": (args.world_population, args.worlds)}
    if args.small_population:
        cases = {"small run": (args.small_population, 1), **cases}
    report = {"command": " ".join([Path(sys.executable).name, *sys.argv]),
              "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
              "cpus": os.cpu_count(), "load_average_start": os.getloadavg(), "cases": {}}
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.base, "simulation",
                                  "scenarios"], check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        for case, (size, worlds) in cases.items():
            pairs = []
            for _ in range(args.repeats):
                kind = "batch" if case == "batch" else "run"
                new = child(None, kind, size, worlds)
                old = child(Path(tmp), kind, size, worlds)
                assert old["module"].startswith(tmp) and not new["module"].startswith(tmp)
                pairs.append({"base": old["cpu_seconds"], "new": new["cpu_seconds"],
                              "ratio": old["cpu_seconds"] / new["cpu_seconds"],
                              "wall_ratio": old["wall_seconds"] / new["wall_seconds"]})
            steps = new["agent_steps"]
            med = {k: statistics.median(p[k] for p in pairs)
                   for k in ("base", "new", "ratio", "wall_ratio")}
            report["cases"][case] = {"consumers": size, "worlds": worlds, "pairs": pairs,
                                     "median": med}
            ratios = ", ".join(f"{p['ratio']:.2f}" for p in pairs)
            label = (f"{size:,} consumers" if case != "batch"
                     else f"{worlds} worlds x {size:,} consumers")
            print(f"{label}: base {med['base']:.2f} CPU s ({steps / med['base'] / 1e6:.1f} M "
                  f"agent-steps/s), new {med['new']:.2f} CPU s ({steps / med['new'] / 1e6:.1f} "
                  f"M/s); speed-up {med['ratio']:.2f}x (median of {args.repeats} pairs: "
                  f"{ratios}; wall {med['wall_ratio']:.2f}x)", flush=True)
    report["load_average_end"] = os.getloadavg()
    print(f"load average {report['load_average_start'][0]:.1f} at the start, "
          f"{report['load_average_end'][0]:.1f} at the end")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "fused.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
