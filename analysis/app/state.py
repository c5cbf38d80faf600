"""One user's session of the app: the baseline, the levers, the runs tried, the one shown.

A ``Session`` holds Solara reactive variables (each browser tab, or notebook cell, gets its
own session) and the actions the page calls. Every action leaves the state valid: a file
or a lever the schema refuses sets ``error`` and changes nothing else. Runs happen in
``run``, which the page calls from a worker thread; it reports progress through
``progress`` and stops between runs when ``cancel`` was pressed.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from typing import Any

import solara

import scenarios
from analysis.experiments.compare import paired_tasks
from scenarios import Scenario, ScenarioError

from . import figures
from . import levers as lv
from .runs import Outcome, Workers, compare_pair
from .scenario_io import load_upload

BASELINE = "baseline"


@dataclass(frozen=True, eq=False)  # compared by identity: it holds tables
class Trial:
    """A plan tried in the session: the baseline, or a variant with its comparison."""

    name: str
    scenario: Scenario
    changes: tuple[str, ...]
    outcome: Outcome | None = None


@dataclass(frozen=True, eq=False)
class Shown:
    """The comparison on screen and its plots, rendered once (PNG bytes by figure name)."""

    outcome: Outcome
    images: dict[str, bytes] | None = None  # None while they are drawn


@dataclass(frozen=True)
class Setup:
    """What the app was started with (the CLI's arguments, or the notebook's)."""

    scenario: str | Scenario = "double11_beauty"
    posterior: str | None = None
    workers: Workers | None = None
    population: int | None = None


class Session:
    def __init__(self, setup: Setup):
        self.workers = setup.workers or Workers(1)
        self.posterior = setup.posterior
        self._population = setup.population
        first = setup.scenario if isinstance(setup.scenario, Scenario) else \
            scenarios.load(setup.scenario)
        label = setup.scenario if isinstance(setup.scenario, str) else first.name
        self.source = solara.reactive(str(label))
        self.baseline = solara.reactive(first)
        self.levers = solara.reactive(lv.levers_of(first, population=self._population))
        self.keep_total = solara.reactive(False)
        self.error = solara.reactive(None)  # str | None: the last refusal, shown on the page
        self.notice = solara.reactive(None)  # str | None: the last success
        self.history = solara.reactive((Trial(BASELINE, first, ()),))
        self.shown = solara.reactive(None)  # Shown | None: the comparison on screen
        self.progress = solara.reactive(0.0)
        self.save_name = solara.reactive(f"{first.name}_variant")
        self._cancel = threading.Event()
        self.prefetch()

    def prefetch(self) -> None:
        """Start the baseline's runs in the background (with worker processes), so the first
        comparison only waits for the variant's."""
        levers = self.levers.value
        self.workers.prefetch(paired_tasks({BASELINE: self.baseline.value},
                                           replications=levers.replications,
                                           population=levers.population,
                                           draws=self.draws(levers.replications)))

    # -- scenario ----------------------------------------------------------------------------
    def open_preset(self, name: str) -> None:
        try:
            self._open(scenarios.load(name), name)
        except ScenarioError as exc:
            self.error.value = str(exc)

    def upload(self, file: dict[str, Any]) -> None:
        """A dropped file (Solara's FileInfo): validated; on refusal nothing changes."""
        data = file.get("data")
        if data is None:
            data = file["file_obj"].read()
        try:
            scenario = load_upload(file["name"], data)
        except ScenarioError as exc:
            self.error.value = str(exc)
            self.notice.value = None
            return
        self._open(scenario, file["name"])

    def _open(self, scenario: Scenario, label: str) -> None:
        old = self.levers.value
        self.error.value = None
        self.notice.value = f"opened {label}: scenario {scenario.name!r}"
        self.shown.value = None
        self.history.value = (Trial(BASELINE, scenario, ()),)
        self.levers.value = replace(lv.levers_of(scenario, population=self._population),
                                    population=old.population, replications=old.replications)
        self.save_name.value = f"{scenario.name}_variant"
        self.source.value = label
        self.baseline.value = scenario  # last: the page shows the new scenario when all is set
        self.prefetch()

    # -- levers --------------------------------------------------------------------------------
    def set_levers(self, **changes) -> None:
        self.levers.value = replace(self.levers.value, **changes)

    def set_budget(self, channel: str, value: float | None) -> None:
        if value is None:
            return
        self.levers.value = self.levers.value.with_budget(channel, value,
                                                          keep_total=self.keep_total.value)

    def set_item(self, field: str, key: str, value: Any) -> None:
        """One entry of a dict-valued lever (discounts, frames, livestreams, KOL/KOC spend)."""
        if value is None:
            return
        current = getattr(self.levers.value, field)
        self.set_levers(**{field: {**current, key: value}})

    def reset_levers(self) -> None:
        old = self.levers.value
        self.levers.value = replace(lv.levers_of(self.baseline.value),
                                    population=old.population, replications=old.replications)

    def try_variant(self) -> tuple[Scenario | None, str | None]:
        """The variant the levers describe and ``None``, or ``None`` and the refusal."""
        try:
            return lv.apply(self.baseline.value, self.levers.value), None
        except ScenarioError as exc:
            return None, str(exc)

    def run_levers(self) -> Outcome | None:
        """Run the variant of the levers against the baseline (or show why it is refused)."""
        variant, problem = self.try_variant()
        self.error.value = problem
        return None if variant is None else self.run(variant)

    # -- running -------------------------------------------------------------------------------
    def draws(self, replications: int) -> list[dict[str, Any]] | None:
        if self.posterior is None:
            return None
        from analysis.calibration.posterior import scenario_draws

        return scenario_draws(self.posterior, replications, seed=0)

    def cancel(self) -> None:
        self._cancel.set()

    def run(self, variant: Scenario, *, against: Trial | None = None) -> Outcome | None:
        """Compare ``variant`` with the baseline (or ``against``); record it in the history."""
        self._cancel.clear()
        self.progress.value = 0.0
        levers = self.levers.value
        base = against or self.history.value[0]
        trials = self.history.value
        known = next((t for t in trials if t.scenario == variant and t is not base), None)
        name = known.name if known else f"variant {sum(t.name != BASELINE for t in trials) + 1}"

        def progress(done: int, total: int) -> None:
            self.progress.value = 100.0 * done / max(total, 1)

        outcome = compare_pair(self.workers, (base.name, base.scenario), (name, variant),
                               replications=levers.replications,
                               population=levers.population,
                               draws=self.draws(levers.replications), progress=progress,
                               cancelled=self._cancel.is_set)
        if outcome is None:
            self.notice.value = "cancelled: the page shows the last finished comparison"
            return None
        if known is None:
            changes = tuple(lv.describe(self.baseline.value, levers))
            self.history.value = trials + (Trial(name, variant, changes, outcome),)
        self.shown.value = Shown(outcome)  # the table first, the plots when drawn
        self.shown.value = Shown(outcome, figures.render_png(outcome))
        self.notice.value = (f"{name} vs {base.name}: {levers.replications} paired "
                             f"replications of {levers.population:,} consumers in "
                             f"{outcome.wall_seconds:.1f} s")
        return outcome

    def compare_trials(self, first: str, second: str) -> Outcome | None:
        """Compare two strategies of the history (the first is the reference)."""
        trials = {t.name: t for t in self.history.value}
        if first == second or first not in trials or second not in trials:
            self.error.value = "choose two different strategies from the history"
            return None
        self.error.value = None
        return self.run(trials[second].scenario, against=trials[first])
