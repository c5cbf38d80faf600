"""Budget plans: how a total budget is allocated across channels (and phases).

A plan is data: a name, a total budget and per channel either an amount or amounts per
phase. From a TOML file::

    [plan]
    name = "search_heavy"
    budget = 200_000
    [plan.allocation]
    search = 80_000
    douyin_live = { presale = 30_000, peak = 50_000 }
    xiaohongshu = 40_000

or a CSV file with columns ``channel, phase, amount`` (``phase`` empty for a channel
total). A plan allocates the paid media budget: only channels whose budget is a lever
(CPM and CPC, ``scenarios.budget_levers``) may appear in it. Applied to a scenario, a plan
sets each listed channel's budget (and its ``phase_weights`` when phases are given); paid
channels the plan leaves out keep nothing (budget 0), so the plan is the whole paid media
budget. Commission channels (affiliates) are paid a share of the GMV they bring, not a
budget, so a plan leaves them as the scenario has them.
"""

from __future__ import annotations

import json
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from scenarios import Scenario, ScenarioError, budget_levers, with_overrides

TOLERANCE = 1e-6  # relative: allocations must sum to the budget within this


@dataclass(frozen=True)
class BudgetPlan:
    name: str
    budget: float
    allocation: Mapping[str, float | Mapping[str, float]]
    source: str = "<plan>"

    def to_toml(self) -> str:
        """The plan as a TOML file ``load_plan`` (and ``compare --plan``) reads back."""
        lines = ["[plan]", f"name = {json.dumps(self.name)}", f"budget = {self.budget!r}",
                 "", "[plan.allocation]"]
        for channel, amount in self.allocation.items():
            if isinstance(amount, Mapping):
                parts = ", ".join(f"{p} = {float(v)!r}" for p, v in amount.items())
                lines.append(f"{channel} = {{ {parts} }}")
            else:
                lines.append(f"{channel} = {float(amount)!r}")
        return "\n".join(lines) + "\n"

    def channel_totals(self) -> dict[str, float]:
        return {c: float(sum(a.values()) if isinstance(a, Mapping) else a)
                for c, a in self.allocation.items()}

    def check(self, scenario: Scenario) -> None:
        """Refuse a plan that does not fit ``scenario``: unknown channels or phases, negative
        or non-finite amounts, or amounts that do not sum to the budget."""
        channels = [c.name for c in scenario.channels]
        levers = budget_levers(scenario)
        phases = [p.name for p in scenario.calendar.phases]
        if not math.isfinite(self.budget) or self.budget <= 0:
            raise ScenarioError(self.source, "plan.budget", "must be a number > 0",
                                self.budget)
        for channel, amount in self.allocation.items():
            where = f"plan.allocation.{channel}"
            if channel not in channels:
                raise ScenarioError(self.source, where, f"unknown channel; the scenario "
                                    f"{scenario.name!r} has {channels}")
            if channel not in levers:
                raise ScenarioError(self.source, where, "a commission channel (paid a share "
                                    "of the GMV it brings) or an owned channel (no spend) has "
                                    "no budget to plan; "
                                    f"channels with a budget: {levers}")
            parts = amount if isinstance(amount, Mapping) else {"": amount}
            for phase, value in parts.items():
                at = f"{where}.{phase}" if phase else where
                if phase and phase not in phases:
                    raise ScenarioError(self.source, at, f"unknown phase; phases: {phases}")
                if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
                    raise ScenarioError(self.source, at, "must be an amount >= 0", value)
        total = sum(self.channel_totals().values())
        if abs(total - self.budget) > TOLERANCE * self.budget:
            raise ScenarioError(self.source, "plan.allocation", f"amounts sum to {total:,.2f}"
                                f", not the plan's budget {self.budget:,.2f}")

    def apply(self, scenario: Scenario) -> Scenario:
        """``scenario`` with this plan's budgets (and phase weights) on its paid channels;
        commission channels are left as they are."""
        self.check(scenario)
        changes: dict = {}
        for name in budget_levers(scenario):
            amount = self.allocation.get(name, 0.0)
            if isinstance(amount, Mapping):
                changes[f"channels.{name}.budget"] = float(sum(amount.values()))
                changes[f"channels.{name}.phase_weights"] = {p: float(v)
                                                              for p, v in amount.items()}
            else:
                changes[f"channels.{name}.budget"] = float(amount)
        return with_overrides(scenario, changes)


def plan_of(scenario: Scenario, name: str = "as_scenario") -> BudgetPlan:
    """The plan a scenario already holds: the budgets of its paid channels."""
    budgets = {c.name: c.budget for c in scenario.channels}
    allocation = {c: budgets[c] for c in budget_levers(scenario)}
    return BudgetPlan(name, float(sum(allocation.values())), allocation, f"scenario "
                      f"{scenario.name!r}")


def load_plan(path: str | Path) -> BudgetPlan:
    """A plan from a TOML or CSV file (see the module docstring)."""
    path = Path(path)
    where = str(path)
    if not path.is_file():
        raise ScenarioError(where, "", "no such plan file")
    if path.stat().st_size == 0:
        raise ScenarioError(where, "", "the plan file is empty")
    if path.suffix.lower() == ".csv":
        return _from_csv(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ScenarioError(where, "", f"not valid TOML: {exc}") from None
    plan = raw.get("plan")
    if not isinstance(plan, dict):
        raise ScenarioError(where, "plan", "a plan file needs a [plan] table with name, "
                            "budget and allocation")
    unknown = sorted(set(plan) - {"name", "budget", "allocation"})
    if unknown:
        raise ScenarioError(where, f"plan.{unknown[0]}", "unknown field; allowed: name, "
                            "budget, allocation")
    allocation = plan.get("allocation")
    if not isinstance(allocation, dict) or not allocation:
        raise ScenarioError(where, "plan.allocation", "needs at least one channel")
    budget = plan.get("budget", sum(
        sum(v.values()) if isinstance(v, dict) else v for v in allocation.values()
        if isinstance(v, int | float | dict)))
    if not isinstance(budget, int | float):
        raise ScenarioError(where, "plan.budget", "must be a number", budget)
    return BudgetPlan(str(plan.get("name", path.stem)), float(budget), allocation, where)


def _from_csv(path: Path) -> BudgetPlan:
    where = str(path)
    frame = pd.read_csv(path, dtype={"channel": str, "phase": str})
    missing = [c for c in ("channel", "amount") if c not in frame]
    if missing:
        raise ScenarioError(where, missing[0], "missing column; expected channel, phase "
                            "(optional), amount", list(frame.columns))
    amounts = pd.to_numeric(frame["amount"], errors="coerce")
    if amounts.isna().any():
        row = int(amounts.isna().to_numpy().argmax())
        raise ScenarioError(where, f"row {row + 2} (amount)", "must be a number",
                            frame["amount"].iloc[row])
    allocation: dict = {}
    phases = frame["phase"] if "phase" in frame else pd.Series([None] * len(frame))
    for channel, phase, amount in zip(frame["channel"], phases, amounts, strict=True):
        if isinstance(phase, str) and phase.strip():
            allocation.setdefault(channel, {})[phase.strip()] = float(amount)
        else:
            allocation[channel] = float(amount)
    return BudgetPlan(path.stem, float(amounts.sum()), allocation, where)
