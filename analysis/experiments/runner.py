"""Running tasks: in this process, on local processes, or on an existing Dask cluster.

Every finished run is stored as soon as it arrives (the client writes, workers only
compute), so an interrupted sweep keeps what it finished and a rerun skips it. Results do
not depend on where a task ran: a task carries its own seed. A worker that dies mid-sweep
has its tasks rescheduled on the remaining workers by Dask.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
from tqdm.auto import tqdm

from ..parallel import ordered_map
from .store import RunStore
from .tasks import RunTask, execute


def run_tasks(tasks: Iterable[RunTask], store: RunStore, *, workers: int = 1,
              scheduler: str | None = None, progress: bool = True) -> pd.DataFrame:
    """Run the tasks not yet in ``store``; return the stored rows of all ``tasks``.

    ``workers`` > 1 runs on that many local processes (``analysis.parallel``); ``scheduler``
    (an address such as ``tcp://10.0.0.5:8786``) sends the work to an existing Dask cluster
    instead, for work that outgrows one machine. Each finished run is stored at once.
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
        if todo and scheduler is None:
            for task, row in zip(todo, ordered_map(execute, [(t,) for t in todo],
                                                   cores=workers), strict=True):
                store.write(task.key, row)
                bar.update()
        elif todo:
            _run_on_dask(todo, store, bar, scheduler=scheduler)
    finally:
        bar.close()
    wanted = set(keys)
    table = store.table()
    return table[table["key"].isin(wanted)].reset_index(drop=True)


def _run_on_dask(todo: list[RunTask], store: RunStore, bar, *, scheduler: str) -> None:
    from dask.distributed import Client, as_completed

    client = Client(scheduler)
    try:
        futures = client.map(execute, todo, key=[f"run-{t.key}" for t in todo], retries=2)
        for future in as_completed(futures):
            row = future.result()
            store.write(row["key"], row)
            bar.update()
    finally:
        client.close()


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
