"""Runner glue: a variant against its baseline on common random numbers, fast enough to feel live.

The comparison is ``analysis.experiments.compare``'s: the tasks come from ``paired_tasks``
(the same replication seeds and posterior draws for both plans), each run is flattened
by ``kpi_row`` and the table of means, paired differences, 90% intervals and P(better) is
``summarise``'s. What the app adds:

- the runs go to a pool of worker processes that lives as long as the app (started and
  warmed once, so a click does not pay for imports and compilation), or run in this
  process with ``workers=1``; the runs a click needs go as paired batches of worlds
  (``analysis.experiments.runner.batches``, one share per worker), each world exactly its
  own run, so a result does not depend on what shared its batch;
- each run also returns a small ``detail`` (hourly orders, GMV and spend; funnel and
  spend by channel; conversions by influence source) for the side-by-side plots;
- finished runs are kept in memory by what they computed (scenario, seed, population,
  draw), not by plan name, so an unchanged baseline, or any variant of the history,
  is never run twice;
- progress is reported after every batch and a comparison can be cancelled between
  batches.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from analysis.experiments.compare import Comparison, order_runs, paired_tasks, summarise
from analysis.experiments.runner import batches
from analysis.experiments.tasks import RunTask, kpi_row, simulate_batch
from analysis.parallel import available_cores, end_with_parent
from scenarios import Scenario

KPIS = ("gmv", "orders", "roas", "cac", "new_customers", "complaint_rate", "spend", "profit")
FUNNEL = ("spend", "impressions", "clicks", "orders", "gmv")


@dataclass(frozen=True, eq=False)  # compared by identity: it holds tables
class Outcome:
    """A comparison of two plans, with what the plots need.

    ``comparison`` is an ``analysis.experiments.compare.Comparison`` (runs and KPI table);
    ``details`` maps plan name -> the mean over replications of each run's detail.
    """

    comparison: Comparison
    details: dict[str, dict[str, Any]]
    scenarios: dict[str, Scenario]
    population: int | None
    wall_seconds: float

    @property
    def baseline(self) -> str:
        return self.comparison.baseline

    @property
    def variant(self) -> str:
        return next(s for s in self.scenarios if s != self.baseline)


def run_details(tasks: list[RunTask]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Run tasks as one paired batch (in a worker): each one's KPI row and its detail for
    the plots."""
    return [(kpi_row(t, r), detail_of(r))
            for t, r in zip(tasks, simulate_batch(tasks), strict=True)]


def detail_of(result) -> dict[str, Any]:
    """A run's hourly orders, GMV and spend, funnel by channel and conversions by source."""
    hourly = result.hourly()
    summary = result.summary
    return {
        "hourly": {k: hourly[k].to_numpy(dtype=np.float64) for k in ("orders", "gmv",
                                                                       "spend")},
        "by_channel": {c: {k: float(v[k]) for k in FUNNEL}
                       for c, v in summary["by_channel"].items()},
        "by_source": {s: {"conversions": float(v["conversions"]), "spend": float(v["spend"]),
                          "reach": float(v["reach"])}
                      for s, v in summary["by_source"].items()},
    }


def _warm() -> int:
    """Import the engine and compile its kernels in a fresh worker (a tiny run)."""
    import scenarios

    s = scenarios.load(scenarios.preset_names()[0])
    run_details([RunTask("warm", s, 0, population=200), RunTask("warm", s, 1, population=200)])
    return os.getpid()


class Workers:
    """A process pool shared by every session of the app; ``workers=1`` runs in-process."""

    def __init__(self, workers: int | None = None):
        self.workers = max(1, workers if workers is not None else min(2, available_cores()))
        self._pool: cf.ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, tuple[dict, dict]] = OrderedDict()
        self._running: dict[str, cf.Future] = {}  # submitted, not finished, by cache key

    def pool(self) -> cf.ProcessPoolExecutor | None:
        if self.workers == 1:
            return None
        with self._lock:
            if self._pool is None:
                # spawn: the server has threads, and a forked child would inherit their locks
                self._pool = cf.ProcessPoolExecutor(
                    self.workers, mp_context=multiprocessing.get_context("spawn"),
                    initializer=end_with_parent)  # even when the app is killed
            return self._pool

    def warm(self) -> list[cf.Future]:
        """Start the workers and compile the engine in each, without waiting."""
        pool = self.pool()
        return [] if pool is None else [pool.submit(_warm) for _ in range(self.workers)]

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:  # shut down without the lock, which the runs' callbacks take
            # queued runs are dropped and running ones stopped, so that stopping the app
            # does not wait for a large run nobody will see (as Python 3.14's
            # ``terminate_workers`` does)
            for process in list(pool._processes.values()):
                process.terminate()
            pool.shutdown(wait=True, cancel_futures=True)

    # -- the cache of finished runs ------------------------------------------------------
    CACHE_SIZE = 2_000

    @staticmethod
    def _key(task: RunTask) -> str:
        return replace(task, plan="run").key  # what was computed, not its label

    def _remember(self, task: RunTask, row: dict, detail: dict) -> None:
        with self._lock:
            self._cache[self._key(task)] = (row, detail)
            while len(self._cache) > self.CACHE_SIZE:
                self._cache.popitem(last=False)

    def _recall(self, task: RunTask) -> tuple[dict, dict] | None:
        with self._lock:
            hit = self._cache.get(self._key(task))
        if hit is None:
            return None
        row, detail = hit
        return {**row, "key": task.key, "plan": task.plan}, detail

    # -- running ---------------------------------------------------------------------------
    def _submit(self, pool: cf.ProcessPoolExecutor, tasks: list[RunTask]
                ) -> list[tuple[cf.Future, cf.Future | None]]:
        """Each task's future (one already running for the same work, or a new one) and the
        batch future behind a new one (``None`` for one already running). The new ones run
        as paired batches, one share of them per worker."""
        out: list[tuple[cf.Future, cf.Future | None]] = []
        new: list[tuple[RunTask, str, cf.Future]] = []
        with self._lock:
            for task in tasks:
                key = self._key(task)
                running = self._running.get(key)
                if running is not None and not running.cancelled():
                    out.append((running, None))
                    continue
                future: cf.Future = cf.Future()
                self._running[key] = future
                new.append((task, key, future))
                out.append((future, None))
        place = {id(f): i for i, (f, _) in enumerate(out)}
        for group in batches([t for t, _, _ in new], workers=self.workers):
            mine = [entry for entry in new if any(entry[0] is t for t in group)]
            batch = pool.submit(run_details, group)
            batch.add_done_callback(lambda b, mine=mine: self._finished(b, mine))
            for _, _, future in mine:
                out[place[id(future)]] = (future, batch)
        return out

    def _finished(self, batch: cf.Future, mine: list[tuple[RunTask, str, cf.Future]]) -> None:
        """A batch is done: its results are remembered (even for a cancelled comparison)
        and handed to the tasks' futures."""
        failed = batch.cancelled() or batch.exception() is not None
        results = [None] * len(mine) if failed else batch.result()
        for (task, key, future), result in zip(mine, results, strict=True):
            with self._lock:
                if self._running.get(key) is future:
                    del self._running[key]
            if result is not None:
                self._remember(task, *result)
            try:
                if batch.cancelled():
                    future.cancel()
                elif failed:
                    future.set_exception(batch.exception())
                else:
                    future.set_result(result)
            except cf.InvalidStateError:  # cancelled by its comparison meanwhile
                pass

    def prefetch(self, tasks: list[RunTask]) -> None:
        """Start runs that a comparison is likely to ask for soon (the baseline's), if there
        is a pool; a comparison that needs them waits for them instead of starting them."""
        pool = self.pool()
        if pool is None:
            return
        self._submit(pool, [t for t in tasks if self._recall(t) is None])

    def run(self, tasks: list[RunTask], *, progress: Callable[[int, int], None] | None = None,
            cancelled: Callable[[], bool] | None = None) -> list[tuple[dict, dict]] | None:
        """Every task's (row, detail), in order; ``None`` if cancelled on the way."""
        progress = progress or (lambda done, total: None)
        cancelled = cancelled or (lambda: False)
        results: dict[int, tuple[dict, dict]] = {}
        for i, task in enumerate(tasks):
            hit = self._recall(task)
            if hit is not None:
                results[i] = hit
        todo = [i for i in range(len(tasks)) if i not in results]
        progress(len(results), len(tasks))
        pool = self.pool()
        if pool is None:
            where = {id(tasks[i]): i for i in todo}
            for group in batches([tasks[i] for i in todo], workers=1):
                if cancelled():
                    return None
                for task, (row, detail) in zip(group, run_details(group), strict=True):
                    self._remember(task, row, detail)
                    results[where[id(task)]] = {**row, "key": task.key, "plan": task.plan}, detail
                progress(len(results), len(tasks))
            return [results[i] for i in range(len(tasks))]
        submitted = self._submit(pool, [tasks[i] for i in todo])
        futures = {future: i for i, (future, _) in zip(todo, submitted, strict=True)}
        mine = {batch for _, batch in submitted if batch is not None}
        pending = set(futures)
        while pending:
            if cancelled():
                for batch in mine:  # a prefetched run goes on: it will be wanted
                    batch.cancel()
                return None
            done, pending = cf.wait(pending, timeout=0.1, return_when=cf.FIRST_COMPLETED)
            for f in done:
                row, detail = f.result()
                task = tasks[futures[f]]
                results[futures[f]] = {**row, "key": task.key, "plan": task.plan}, detail
            if done:
                progress(len(results), len(tasks))
        return [results[i] for i in range(len(tasks))]


def compare_pair(workers: Workers, baseline: tuple[str, Scenario], variant: tuple[str, Scenario],
                 *, replications: int, population: int | None = None,
                 draws: list[dict[str, Any]] | None = None, seed: int = 0,
                 progress: Callable[[int, int], None] | None = None,
                 cancelled: Callable[[], bool] | None = None) -> Outcome | None:
    """Run ``variant`` against ``baseline`` (name, scenario) over paired replications.

    Returns ``None`` if ``cancelled()`` turned true before the runs finished.
    """
    import time

    started = time.perf_counter()
    plans = dict([baseline, variant])
    if len(plans) != 2:
        raise ValueError("the two plans need different names")
    tasks = paired_tasks(plans, replications=replications, seed=seed,
                         population=population, draws=draws)
    done = workers.run(tasks, progress=progress, cancelled=cancelled)
    if done is None:
        return None
    runs = order_runs(pd.DataFrame([row for row, _ in done]), list(plans))
    comparison = Comparison(baseline[0], runs, summarise(runs, baseline[0], KPIS))
    details = {name: mean_detail([d for t, (_, d) in zip(tasks, done, strict=True)
                                  if t.plan == name]) for name in plans}
    return Outcome(comparison, details, plans, population, time.perf_counter() - started)


def mean_detail(details: list[dict[str, Any]]) -> dict[str, Any]:
    """The mean over replications of the runs' details (and the hourly spread)."""
    hourly = {k: np.stack([d["hourly"][k] for d in details]) for k in details[0]["hourly"]}
    out: dict[str, Any] = {
        "hourly": {k: v.mean(axis=0) for k, v in hourly.items()},
        "hourly_lo": {k: np.quantile(v, 0.05, axis=0) for k, v in hourly.items()},
        "hourly_hi": {k: np.quantile(v, 0.95, axis=0) for k, v in hourly.items()},
    }
    for part in ("by_channel", "by_source"):
        names = list(dict.fromkeys(n for d in details for n in d[part]))
        out[part] = {n: {k: float(np.mean([d[part].get(n, {}).get(k, 0.0) for d in details]))
                         for k in next(d[part][n] for d in details if n in d[part])}
                     for n in names}
    return out


_SHARED: dict[int, Workers] = {}


def shared_workers(workers: int | None = None) -> Workers:
    """One ``Workers`` per size for the whole process, so every session shares its pool
    and its finished runs."""
    n = Workers(workers).workers
    return _SHARED.setdefault(n, Workers(n))
