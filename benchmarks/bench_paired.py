"""Paired batches against one run at a time, in one process, on the paths users run.

    .venv/bin/python benchmarks/bench_paired.py [--repeats 3] [--quick]

Cases (double11_beauty): ``compare`` of two budget plans over 20 replications at 20,000
consumers and over 4 at 200,000 (the preset's size); attribution's ground truth (base and
three counterfactuals per channel) over 2 seeds at 20,000; the app's click (a variant's 4
replications at 20,000, one worker's share of 2). Each case runs its tasks one at a time
(``runner.batches(max_worlds=1)``, what every command did before paired batches) and as the
commands now group them (``runner.batches``), in turn, and checks that the rows are equal
(paired batches give each world its own run's numbers). CPU seconds of this process (one
thread) and wall seconds; figures to stdout and benchmarks/results/paired.json.
"""

from __future__ import annotations

import argparse
import datetime
import json
import statistics
import time
from pathlib import Path

import pandas as pd

import scenarios
from analysis.attribution.ground_truth import VARIANTS, variant
from analysis.experiments.compare import paired_tasks
from analysis.experiments.runner import batches
from analysis.experiments.tasks import RunTask, execute_batch

RESULTS = Path(__file__).parent / "results"


def cases(quick: bool) -> dict[str, list[RunTask]]:
    s = scenarios.load("double11_beauty")
    first = s.channels[0]
    more = scenarios.with_overrides(s, {f"channels.{first.name}.budget": first.budget * 1.3})
    plans = {"base": s, "more": more}
    reps = 4 if quick else 20
    out = {
        f"compare 2 plans x {reps} at 20,000": paired_tasks(plans, replications=reps,
                                                            population=20_000),
        "app click: variant x 2 at 20,000": [t for t in paired_tasks(
            plans, replications=4, population=20_000) if t.plan == "more"][:2],
    }
    if not quick:
        out["compare 2 plans x 4 at 200,000"] = paired_tasks(plans, replications=4)
        counterfactuals = [s] + [variant(s, c.name, k) for c in s.channels
                                 for k in VARIANTS[1:]]
        out["ground truth: 2 seeds at 20,000"] = [
            RunTask(f"p{i}", x, seed, 20_000) for seed in (1, 2)
            for i, x in enumerate(counterfactuals)]
    return out


def timed(groups: list[list[RunTask]]) -> tuple[float, float, list[dict]]:
    wall, cpu = time.perf_counter(), time.process_time()
    rows = [row for g in groups for row in execute_batch(g)]
    return time.perf_counter() - wall, time.process_time() - cpu, rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    execute_batch([RunTask("warm", scenarios.load("double11_beauty"), 0, 2000)] * 1)
    report = {"date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
              "cases": {}}
    for name, tasks in cases(args.quick).items():
        alone, grouped = batches(tasks, max_worlds=1), batches(tasks)
        pairs = []
        for _ in range(args.repeats):
            a_wall, a_cpu, a_rows = timed(alone)
            b_wall, b_cpu, b_rows = timed(grouped)
            pd.testing.assert_frame_equal(pd.DataFrame(a_rows).drop(columns="wall_seconds"),
                                          pd.DataFrame(b_rows).drop(columns="wall_seconds"))
            pairs.append((a_cpu, b_cpu, a_wall, b_wall))
        ratio = statistics.median(a / b for a, b, _, _ in pairs)
        line = {"runs": len(tasks), "batches": [len(g) for g in grouped],
                "one_at_a_time_cpu": [p[0] for p in pairs], "batched_cpu": [p[1] for p in pairs],
                "one_at_a_time_wall": [p[2] for p in pairs], "batched_wall": [p[3] for p in pairs],
                "speedup_cpu_median": ratio}
        report["cases"][name] = line
        print(f"{name}: {len(tasks)} runs in batches of {sorted(set(line['batches']))}; "
              f"one at a time {statistics.median(line['one_at_a_time_cpu']):.2f} CPU s, "
              f"batched {statistics.median(line['batched_cpu']):.2f} CPU s: {ratio:.2f}x "
              f"(pairs: {', '.join(f'{a / b:.2f}' for a, b, _, _ in pairs)}); rows identical",
              flush=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "paired.json").write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
