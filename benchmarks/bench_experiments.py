"""Sweep throughput: runs per minute for a 100-run sweep, in-process vs a local Dask cluster
of two worker processes, and Dask's overhead per task.

    .venv/bin/python benchmarks/bench_experiments.py [--runs 100] [--population 3000]

The sweep is the test market (tests/data/mini.toml) over ``--runs`` seeds. Overhead per task
is the Dask wall time x workers minus the time the runs themselves took, per run; the
cluster's start-up is reported apart.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import scenarios
from analysis.experiments.runner import run_tasks
from analysis.experiments.store import RunStore
from analysis.experiments.tasks import RunTask

ROOT = Path(__file__).parents[1]
RESULTS = Path(__file__).parent / "results"


def sweep(store_dir: Path, tasks, **kwargs) -> tuple[float, float]:
    start = time.perf_counter()
    rows = run_tasks(tasks, RunStore(store_dir), progress=False, **kwargs)
    return time.perf_counter() - start, float(rows["wall_seconds"].sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--population", type=int, default=3000)
    args = parser.parse_args()
    scenario = scenarios.with_overrides(scenarios.load(ROOT / "tests/data/mini.toml"),
                                        {"market.population": args.population})
    tasks = [RunTask("bench", scenario, seed) for seed in range(args.runs)]
    tmp = Path(tempfile.mkdtemp())
    try:
        serial, serial_work = sweep(tmp / "serial", tasks)
        from dask.distributed import Client, LocalCluster

        start = time.perf_counter()
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None)
        startup = time.perf_counter() - start
        with Client(cluster):
            dask, dask_work = sweep(tmp / "dask", tasks, scheduler=cluster.scheduler_address)
        cluster.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    report = {
        "runs": args.runs, "population": args.population,
        "in_process": {"seconds": serial, "runs_per_minute": 60 * args.runs / serial},
        "dask_2_workers": {"seconds": dask, "runs_per_minute": 60 * args.runs / dask,
                           "startup_seconds": startup,
                           "overhead_per_task_ms": 1000 * (2 * dask - dask_work) / args.runs},
        "speedup": serial / dask,
        "mean_run_seconds": serial_work / args.runs,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "experiments.json").write_text(json.dumps(report, indent=2))
    print(f"{args.runs} runs of {args.population:,} consumers x 5 days "
          f"({report['mean_run_seconds']:.2f} s each in process):")
    print(f"  in process       {report['in_process']['runs_per_minute']:8.0f} runs/min")
    print(f"  Dask, 2 workers  {report['dask_2_workers']['runs_per_minute']:8.0f} runs/min "
          f"({report['speedup']:.2f}x; cluster start {startup:.1f} s, overhead "
          f"{report['dask_2_workers']['overhead_per_task_ms']:.0f} ms per task)")


if __name__ == "__main__":
    main()
