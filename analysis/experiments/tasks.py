"""One run of an experiment as a picklable task, and what it returns (a flat KPI row).

A task is a scenario, a seed and (optionally) a posterior draw's overrides. Its key hashes
all three with the population, the fingerprint of the code that runs it (the source of
``simulation`` and ``scenarios`` and of this module, which makes the row) and the contents of
the files the scenario reads, so a stored run is reused only for exactly the same work, and
any change to the model or to an edge list makes every run anew. Each row records its code
fingerprint in ``code``, so a store can tell runs of another version apart.

Plans compared in one experiment share seeds (and draws): the same seed gives every
component the same random stream, so differences between plans are the plans',
not noise (common random numbers).
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from scenarios import Scenario, with_overrides
from simulation.fingerprint import code_fingerprint, file_digest, input_fingerprint

from ..errors import UsageError

# roas = GMV / spend (return on ad spend), roi = profit / spend = (margin - spend) / spend
KPIS = ("gmv", "orders", "spend", "margin", "profit", "roas", "roi", "cac",
        "new_customers", "repeat_customers", "buyers", "reach", "complaints", "complaint_rate",
        "optouts")


def check_kpis(kpis: Sequence[str], source: str = "--kpi") -> tuple[str, ...]:
    """``kpis`` as a tuple, before any run; ``UsageError`` naming the allowed KPIs (and the
    nearest one) for a name a run's row does not have."""
    for kpi in kpis:
        if kpi not in KPIS:
            near = difflib.get_close_matches(kpi, KPIS, n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise UsageError(source, "", f"unknown KPI {kpi!r}{hint}; allowed: "
                                f"{', '.join(KPIS)}")
    return tuple(kpis)


@dataclass(frozen=True)
class RunTask:
    plan: str
    scenario: Scenario
    seed: int
    population: int | None = None
    draw: int | None = None  # posterior draw index, if the run uses one
    overrides: dict[str, Any] = field(default_factory=dict)  # the draw's parameters

    @cached_property
    def key(self) -> str:
        payload = json.dumps({
            "scenario": self.scenario.model_dump(mode="json"),
            "seed": self.seed, "population": self.population, "draw": self.draw,
            "overrides": self.overrides, "code": fingerprint(),
            "inputs": input_fingerprint(self.scenario),
        }, sort_keys=True, default=str)
        return f"{self.plan}-{self.seed}-{hashlib.sha256(payload.encode()).hexdigest()[:16]}"


@cache
def fingerprint() -> str:
    """The code a stored row depends on: the simulation's and this module's."""
    return code_fingerprint() + file_digest([("tasks.py", Path(__file__))])


def execute(task: RunTask) -> dict[str, Any]:
    """Run one task and flatten its summary into a row (runs on a worker)."""
    return kpi_row(task, simulate(task))


def execute_batch(tasks: Sequence[RunTask]) -> list[dict[str, Any]]:
    """Run tasks as one paired batch and flatten each world's summary into its row (runs
    on a worker)."""
    return [kpi_row(t, r) for t, r in zip(tasks, simulate_batch(tasks), strict=True)]


def simulate_batch(tasks: Sequence[RunTask], *, touchpoints: bool = False) -> list:
    """The tasks' ``RunResult``s from one paired batch of worlds (tasks at one population
    that share a structure, ``runner.batches``). Each world draws from its own run's
    streams (``simulation.run_batch(paired=True)``), so each result is the one ``simulate``
    gives, whatever else the batch held; only ``wall_seconds`` (the batch's share)
    differs. ``touchpoints``: keep the touchpoint logs (attribution's journeys)."""
    import simulation

    if len(tasks) == 1:
        return [simulate(tasks[0], touchpoints=touchpoints)]
    batch = simulation.run_batch([scenario_of(t) for t in tasks], [t.seed for t in tasks],
                                 population=tasks[0].population, record_every=1,
                                 paired=True, log_touchpoints=touchpoints)
    return [batch.result(w) for w in range(len(tasks))]


def simulate(task: RunTask, *, touchpoints: bool = False):
    """The task's ``RunResult`` (its draw's overrides applied; no touchpoint log unless
    ``touchpoints``)."""
    import simulation

    return simulation.run(scenario_of(task), seed=task.seed, population=task.population,
                          log_touchpoints=touchpoints)


def scenario_of(task: RunTask) -> Scenario:
    """The task's scenario with its draw's overrides applied."""
    return with_overrides(task.scenario, task.overrides) if task.overrides else task.scenario


def kpi_row(task: RunTask, result) -> dict[str, Any]:
    """The task's result as one flat row: identity, ``KPIS`` and spend/GMV/orders by source."""
    s = result.summary
    row: dict[str, Any] = {"key": task.key, "code": fingerprint(),
                           "plan": task.plan, "seed": task.seed,
                           "draw": -1 if task.draw is None else task.draw,
                           "population": s["population"], "wall_seconds": result.wall_seconds}
    for k in KPIS:
        row[k] = float("nan") if s.get(k) is None else float(s[k])
    for source, kpis in s["by_channel"].items():
        for k in ("spend", "gmv", "orders"):
            row[f"{k}[{source}]"] = float(kpis[k])
    return row
