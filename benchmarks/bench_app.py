"""Response time of the app's Run button: a variant against the baseline, 20,000 consumers,
30 days (double11_beauty), 4 paired replications, on the app's pool of worker processes.

Goes through ``Session.run_levers``, the function the button calls (variant, paired runs,
KPI table, the four plots). Three cases: the first click after the page opened (the
baseline's runs were prefetched when it opened, ``--read`` seconds before); a first click
with nothing prefetched (the baseline's 4 runs and the variant's 4); and a next variant,
whose baseline is cached (what every later click costs).

Besides the wall times (to the KPI table, and to the plots drawn after it), it reports the
CPU seconds of the busiest worker process and of this process during the click: on a machine
shared with other work the wall time stretches, while the busiest worker's CPU (to the
table) plus this process's (to the plots) is what the click costs on two idle cores.

    .venv/bin/python benchmarks/bench_app.py [--workers 2] [--population 20000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import psutil

from analysis.app.runs import Workers
from analysis.app.state import Session, Setup


def _cpu(pids: list[int]) -> tuple[list[float], float]:
    per_worker = []
    for pid in pids:
        t = psutil.Process(pid).cpu_times()
        per_worker.append(t.user + t.system)
    return per_worker, time.process_time()


def _click(session: Session, pids: list[int], channel: str, budget: float
           ) -> tuple[float, ...]:
    """Seconds of one click: wall to the KPI table, wall to the plots, CPU of the busiest
    worker, CPU of this process (the app: variant, table, plots)."""
    session.set_budget(channel, budget)
    before, main_before = _cpu(pids)
    started = time.perf_counter()
    outcome = session.run_levers()
    wall = time.perf_counter() - started
    assert outcome is not None and session.shown.value.images
    after, main_after = _cpu(pids)
    busiest = max(a - b for a, b in zip(after, before, strict=True))
    return outcome.wall_seconds, wall, busiest, main_after - main_before


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--population", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--read", type=float, default=5.0,
                        help="seconds between opening the page and the first click")
    args = parser.parse_args()
    workers = Workers(args.workers)
    started = time.perf_counter()
    for future in workers.warm():
        future.result()
    pids = sorted(workers.pool()._processes)  # every worker process of the pool
    print(f"pool of {len(pids)} started and warmed in {time.perf_counter() - started:.1f} s")
    cases: dict[str, list[tuple[float, ...]]] = {
        "first click, baseline prefetched when the page opened": [],
        "first click, nothing prefetched": [],
        "next variant (baseline cached)": []}
    first, cold, later = cases.values()
    for i in range(args.repeat):
        workers._cache.clear()
        session = Session(Setup("double11_beauty", workers=workers,
                                population=args.population))  # prefetches the baseline
        time.sleep(args.read)  # the user reads the page and moves a lever
        first.append(_click(session, pids, "search", 40_000 + i))
        later.append(_click(session, pids, "xiaohongshu", 30_000 + i))
        workers._cache.clear()
        cold.append(_click(session, pids, "search", 45_000 + i))
    workers.close()
    load = os.getloadavg()
    print(f"double11_beauty, {args.population:,} consumers x 30 days, 4 paired replications, "
          f"{args.workers} workers, load average {load[0]:.1f} on {os.cpu_count()} cores")
    print("  seconds per click, one line per repeat: wall to the KPI table, wall to the plots;"
          " CPU of the busiest worker, CPU of the app process")
    for name, times in cases.items():
        print(f"  {name}")
        for row in times:
            print("    " + "  ".join(f"{v:6.2f}" for v in row))
        columns = np.array(times).T
        for label, stat in (("median", np.median), ("min", np.min), ("max", np.max)):
            print(f"    {label:6s} " + "  ".join(f"{stat(c):6.2f}" for c in columns))


if __name__ == "__main__":
    main()
