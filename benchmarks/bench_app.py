"""Response time of the app's Run button: a variant against the baseline, 20,000 consumers,
30 days (double11_beauty), 4 paired replications, on the app's pool of worker processes.

Goes through ``Session.run_levers``, the function the button calls (variant, paired runs,
KPI table, the four plots). Three cases: the first comparison while the baseline's runs,
prefetched when the page opened, are still running; a first comparison with nothing
prefetched (the baseline's 4 runs and the variant's 4); and a second variant, whose
baseline is cached (what every later click costs).

    .venv/bin/python benchmarks/bench_app.py [--workers 2] [--population 20000]
"""

from __future__ import annotations

import argparse
import os
import time

from analysis.app.runs import Workers
from analysis.app.state import Session, Setup


def _click(session: Session, channel: str, budget: float) -> float:
    session.set_budget(channel, budget)
    started = time.perf_counter()
    outcome = session.run_levers()
    assert outcome is not None and session.shown.value.images
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--population", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    workers = Workers(args.workers)
    started = time.perf_counter()
    for future in workers.warm():
        future.result()
    print(f"pool of {workers.workers} started and warmed in "
          f"{time.perf_counter() - started:.1f} s")
    cases = {"first click, baseline prefetched at page open (page open 3 s before)": [],
             "first click, nothing prefetched": [], "next variant (baseline cached)": []}
    for i in range(args.repeat):
        workers._cache.clear()
        session = Session(Setup("double11_beauty", workers=workers,
                                population=args.population))  # prefetches the baseline
        time.sleep(3.0)  # the user reads the page and moves a lever
        cases[list(cases)[0]].append(_click(session, "search", 40_000 + i))
        cases[list(cases)[2]].append(_click(session, "xiaohongshu", 30_000 + i))
        workers._cache.clear()
        session.levers.value = session.levers.value.with_budget("search", 45_000 + i,
                                                                keep_total=False)
        started = time.perf_counter()
        assert session.run_levers() is not None
        cases[list(cases)[1]].append(time.perf_counter() - started)
    workers.close()
    import scenarios
    from analysis.app.runs import run_detail
    from analysis.experiments.tasks import RunTask

    task = RunTask("one", scenarios.load("double11_beauty"), 1, args.population)
    wall, cpu = time.perf_counter(), time.process_time()
    run_detail(task)
    print(f"one run in this process: {time.perf_counter() - wall:.2f} s wall, "
          f"{time.process_time() - cpu:.2f} s CPU")
    load = os.getloadavg()
    print(f"double11_beauty, {args.population:,} consumers x 30 days, 4 paired replications, "
          f"{args.workers} workers, load average {load[0]:.1f}:")
    for name, times in cases.items():
        print(f"  {name:<70} " + "  ".join(f"{t:.2f} s" for t in times))


if __name__ == "__main__":
    main()
