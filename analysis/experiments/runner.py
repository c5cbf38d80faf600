"""Running tasks: in this process, on a local Dask cluster, or on an existing Dask cluster.

Every finished run is stored as soon as it arrives (the client writes, workers only
compute), so an interrupted sweep keeps what it finished and a rerun skips it. Results do
not depend on where a task ran: a task carries its own seed. A worker that dies mid-sweep
has its tasks rescheduled on the remaining workers by Dask.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
from tqdm.auto import tqdm

from .store import RunStore
from .tasks import RunTask, execute


def run_tasks(tasks: Iterable[RunTask], store: RunStore, *, workers: int = 1,
              scheduler: str | None = None, progress: bool = True) -> pd.DataFrame:
    """Run the tasks not yet in ``store``; return the stored rows of all ``tasks``.

    ``workers`` > 1 starts a local Dask cluster of that many processes; ``scheduler`` (an
    address such as ``tcp://10.0.0.5:8786``) sends the work to an existing cluster instead.
    """
    tasks = list(tasks)
    keys = [t.key for t in tasks]
    if len(set(keys)) != len(keys):
        raise ValueError("two tasks are the same run (same plan, scenario and seed)")
    done = store.done()
    todo = [t for t in tasks if t.key not in done]
    bar = tqdm(total=len(tasks), initial=len(tasks) - len(todo), disable=not progress,
               desc="runs", unit="run")
    try:
        if todo and scheduler is None and workers <= 1:
            for task in todo:
                store.write(task.key, execute(task))
                bar.update()
        elif todo:
            _run_on_dask(todo, store, bar, workers=workers, scheduler=scheduler)
    finally:
        bar.close()
    wanted = set(keys)
    table = store.table()
    return table[table["key"].isin(wanted)].reset_index(drop=True)


def _run_on_dask(todo: list[RunTask], store: RunStore, bar, *, workers: int,
                 scheduler: str | None) -> None:
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler is None:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
    client = Client(scheduler or cluster)
    try:
        futures = client.map(execute, todo, key=[f"run-{t.key}" for t in todo], retries=2)
        for future in as_completed(futures):
            row = future.result()
            store.write(row["key"], row)
            bar.update()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def evaluator(store: RunStore, *, workers: int = 1, scheduler: str | None = None,
              progress: bool = True, plan: str = "point"):
    """An ``evaluate(scenarios, seeds) -> [row]`` for sensitivity and discovery sweeps that
    runs on this module's store and workers (rows hold the KPIs of ``tasks.KPIS``)."""

    def evaluate(scenarios: list, seeds: list[int]) -> list[dict]:
        tasks = [RunTask(f"{plan}{i}", s, int(seed))
                 for i, (s, seed) in enumerate(zip(scenarios, seeds, strict=True))]
        rows = run_tasks(tasks, store, workers=workers, scheduler=scheduler,
                         progress=progress).set_index("key")
        return [rows.loc[t.key].to_dict() for t in tasks]

    return evaluate
