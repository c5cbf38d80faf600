"""One run of an experiment as a picklable task, and what it returns (a flat KPI row).

A task is a scenario, a seed and (optionally) a posterior draw's overrides. Its key hashes
all three with the population and the package version, so a stored run is reused only for
exactly the same work. Strategies compared in one experiment share seeds (and draws): the
same seed gives every component the same random stream, so differences between strategies
are the strategies', not noise (common random numbers).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from scenarios import Scenario, with_overrides
from simulation.result import package_version

KPIS = ("gmv", "orders", "spend", "margin", "profit", "roi", "profit_roi", "cac",
        "new_customers", "repeat_customers", "buyers", "reach", "complaints", "complaint_rate",
        "optouts")


@dataclass(frozen=True)
class RunTask:
    strategy: str
    scenario: Scenario
    seed: int
    population: int | None = None
    draw: int | None = None  # posterior draw index, if the run uses one
    overrides: dict[str, Any] = field(default_factory=dict)  # the draw's parameters

    @property
    def key(self) -> str:
        payload = json.dumps({
            "scenario": self.scenario.model_dump(mode="json"),
            "seed": self.seed, "population": self.population, "draw": self.draw,
            "overrides": self.overrides, "version": package_version(),
        }, sort_keys=True, default=str)
        return f"{self.strategy}-{self.seed}-{hashlib.sha256(payload.encode()).hexdigest()[:16]}"


def execute(task: RunTask) -> dict[str, Any]:
    """Run one task and flatten its summary into a row (runs on a worker)."""
    return kpi_row(task, simulate(task))


def simulate(task: RunTask):
    """The task's ``RunResult`` (its draw's overrides applied, no touchpoint log)."""
    import simulation

    scenario = with_overrides(task.scenario, task.overrides) if task.overrides else task.scenario
    return simulation.run(scenario, seed=task.seed, population=task.population,
                          log_touchpoints=False)


def kpi_row(task: RunTask, result) -> dict[str, Any]:
    """The task's result as one flat row: identity, ``KPIS`` and spend/GMV/orders by source."""
    s = result.summary
    row: dict[str, Any] = {"key": task.key, "strategy": task.strategy, "seed": task.seed,
                           "draw": -1 if task.draw is None else task.draw,
                           "population": s["population"], "wall_seconds": result.wall_seconds}
    for k in KPIS:
        row[k] = float("nan") if s.get(k) is None else float(s[k])
    for source, kpis in s["by_channel"].items():
        for k in ("spend", "gmv", "orders"):
            row[f"{k}[{source}]"] = float(kpis[k])
    return row
