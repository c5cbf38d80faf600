"""Comparing plans with a baseline on common random numbers (and posterior draws).

Every plan runs on the same seeds (and the same posterior draws), so the difference
from the baseline is taken run by run, pairing seed with seed: the noise the plans
share cancels. Per KPI and plan the table gives the mean and 90% interval over runs, the
mean paired difference from the baseline with its 90% interval, and P(better than the
baseline): the share of paired runs in which the plan did better (higher is better for
every KPI but spend, CAC, complaints and opt-outs), a tie counting one half,

    P(better) = (#{d > 0} + #{d = 0} / 2) / #{pairs},   d = paired difference, signed,

so that a plan no different from the baseline gets 0.5 (no evidence either way), not 0,
and P(better) of B over A is 1 - P(better) of A over B. Pairs where the KPI is undefined
(ROAS, ROI or CAC of a run with no spend or no new customer) are left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from scenarios import Scenario
from simulation.io import write_atomic

from ..seeds import replication_seeds
from .runner import run_tasks
from .store import RunStore
from .tasks import RunTask, check_kpis

LOWER_IS_BETTER = {"spend", "cac", "complaints", "complaint_rate", "optouts"}
DEFAULT_KPIS = ("gmv", "profit", "roas", "orders", "new_customers", "cac", "spend")
LEVEL = 0.90


@dataclass(frozen=True)
class Comparison:
    baseline: str
    runs: pd.DataFrame  # one row per run: plan, seed, draw, KPIs
    table: pd.DataFrame  # one row per plan x KPI

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"baseline": self.baseline, "level": LEVEL,
                               "replications": int(self.runs.groupby("plan").size().min()),
                               "plans": {}}
        for (plan, kpi), row in self.table.set_index(["plan", "kpi"]).iterrows():
            out["plans"].setdefault(plan, {})[kpi] = {
                k: (None if pd.isna(v) else float(v)) for k, v in row.items()}
        return out

    def save(self, folder: str | Path) -> Path:
        import json

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        write_atomic(folder / "comparison.json",
                     lambda p: p.write_text(json.dumps(self.to_dict(), indent=2)))
        write_atomic(folder / "comparison.csv", lambda p: self.table.to_csv(p, index=False))
        for name, make in (("forest.png", self.plot_forest),
                           ("distributions.png", self.plot_distributions)):
            fig = make()
            write_atomic(folder / name, lambda p, fig=fig: fig.savefig(p, dpi=110, format="png"))
            plt.close(fig)
        return folder

    def plot_forest(self, kpis: tuple[str, ...] | None = None):
        """Paired difference from the baseline with its 90% interval, per KPI (a Figure)."""
        table = self.table[self.table["plan"] != self.baseline]
        kpis = kpis or tuple(dict.fromkeys(table["kpi"]))
        fig, axes = plt.subplots(1, len(kpis), figsize=(3.2 * len(kpis), 0.6 + 0.5 * max(
            1, table["plan"].nunique())), squeeze=False)
        for ax, kpi in zip(axes[0], kpis, strict=True):
            rows = table[table["kpi"] == kpi]
            y = np.arange(len(rows))
            ax.errorbar(rows["diff"], y, xerr=[rows["diff"] - rows["diff_lo"],
                                                rows["diff_hi"] - rows["diff"]],
                        fmt="o", capsize=3)
            ax.axvline(0, color="grey", lw=0.8)
            ax.set_yticks(y, rows["plan"])
            ax.set_title(f"{kpi} vs {self.baseline}", fontsize=9)
        fig.tight_layout()
        return fig

    def plot_distributions(self, kpi: str = "gmv"):
        """The KPI's distribution over runs, one box per plan (a Figure)."""
        fig, ax = plt.subplots(figsize=(6, 3.5))
        names = list(dict.fromkeys(self.runs["plan"]))
        ax.boxplot([self.runs.loc[self.runs["plan"] == n, kpi] for n in names],
                   tick_labels=names)
        ax.set_ylabel(kpi)
        fig.tight_layout()
        return fig


def compare(plans: dict[str, Scenario], baseline: str, *, replications: int,
            store: RunStore, seed: int = 0, population: int | None = None,
            draws: list[dict[str, Any]] | None = None, kpis=DEFAULT_KPIS, workers: int = 1,
            scheduler: str | None = None, progress: bool = True) -> Comparison:
    """Run every plan on the same ``replications`` seeds (x ``draws``) and compare.

    ``draws`` are posterior draws as scenario overrides; each seed is paired with one
    draw in turn, the same for every plan.
    """
    kpis = check_kpis(kpis, "kpis")
    if baseline not in plans:
        raise ValueError(f"baseline {baseline!r} is not among the plans "
                         f"{sorted(plans)}")
    if replications < 2:
        raise ValueError(f"replications must be >= 2 for an interval, got {replications}")
    tasks = paired_tasks(plans, replications=replications, seed=seed, population=population,
                         draws=draws)
    runs = run_tasks(tasks, store, workers=workers, scheduler=scheduler, progress=progress)
    return Comparison(baseline, order_runs(runs, list(plans)), summarise(runs, baseline, kpis))


def paired_tasks(plans: dict[str, Scenario], *, replications: int, seed: int = 0,
                 population: int | None = None,
                 draws: list[dict[str, Any]] | None = None) -> list[RunTask]:
    """One task per plan and replication; every plan gets the same seeds and draws.

    The replication seeds are ``analysis.seeds.replication_seeds(seed, replications)``;
    replication ``i`` uses posterior draw ``i % len(draws)``.
    """
    seeds = replication_seeds(seed, replications)
    tasks = []
    for i, s in enumerate(seeds):
        draw = None if not draws else i % len(draws)
        overrides = {} if draw is None else draws[draw]
        tasks += [RunTask(name, scenario, int(s), population, draw, overrides)
                  for name, scenario in plans.items()]
    return tasks


def order_runs(runs: pd.DataFrame, plans: list[str]) -> pd.DataFrame:
    """Runs sorted by plan (in the given order), then seed."""
    order = {name: i for i, name in enumerate(plans)}
    return runs.sort_values(["plan", "seed"], key=lambda c: c.map(order)
                            if c.name == "plan" else c, kind="stable").reset_index(drop=True)


def summarise(runs: pd.DataFrame, baseline: str, kpis) -> pd.DataFrame:
    lo, hi = (1 - LEVEL) / 2, 1 - (1 - LEVEL) / 2
    wide = {k: runs.pivot_table(index=["seed", "draw"], columns="plan", values=k,
                                dropna=False) for k in kpis}
    rows = []
    for plan in dict.fromkeys(runs["plan"]):
        for k in kpis:
            values = wide[k][plan]
            diff = values - wide[k][baseline]
            sign = -1 if k in LOWER_IS_BETTER else 1
            rows.append({
                "plan": plan, "kpi": k, "mean": values.mean(),
                "lo": values.quantile(lo), "hi": values.quantile(hi),
                "diff": diff.mean(), "diff_lo": diff.quantile(lo), "diff_hi": diff.quantile(hi),
                "p_better": p_better(sign * diff) if plan != baseline else np.nan,
            })
    return pd.DataFrame(rows)


def p_better(diff: pd.Series) -> float:
    """Share of paired differences (signed so that > 0 is better) above 0, ties counting
    one half; NaN pairs are left out."""
    d = diff.dropna()
    return float(((d > 0).sum() + 0.5 * (d == 0).sum()) / len(d)) if len(d) else np.nan


def format_table(comparison: Comparison) -> str:
    t = comparison.table
    lines = [f"{'plan':<22}{'kpi':<15}{'mean':>14}{'90% interval':>28}"
             f"{'vs ' + comparison.baseline:>18}{'90% interval':>28}{'P(better)':>11}"]
    for row in t.itertuples():
        text = (f"{row.plan:<22}{row.kpi:<15}{row.mean:>14,.2f}"
                f"{f'[{row.lo:,.2f}, {row.hi:,.2f}]':>28}")
        if row.plan != comparison.baseline:
            interval = f"[{row.diff_lo:,.2f}, {row.diff_hi:,.2f}]"
            text += f"{row.diff:>+18,.2f}{interval:>28}{row.p_better:>11.2f}"
        lines.append(text)
    return "\n".join(lines)
