"""Budget optimization on the simulator: the allocation that maximizes expected GMV, profit or
ROI under the total budget, per-channel floors and caps, and optionally a risk limit.

The objective of an allocation is its KPI averaged over the same ``replications`` seeds for
every candidate (common random numbers), so candidates are compared on the same draws of
the market. The search is Nevergrad's ``NGOpt`` (a maintained optimizer that chooses its
algorithm for noisy, budgeted problems) over channel weights, projected onto the feasible
set {floor <= share <= cap, shares sum to 1}, started from the input plan. With common
random numbers the objective is a deterministic function of the allocation, so the best
allocation evaluated is the recommendation. A risk limit ``max_loss_probability`` turns
into a penalty on the share of replications with ROI below 1. The recommendation is then
re-run with fresh seeds against the input plan (paired) for its uncertainty, and each
channel's response curve (its share swept from floor to cap, the others in proportion).
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from scenarios import Scenario, ScenarioError, budget_levers

from .compare import summarise
from .plans import BudgetPlan, plan_of
from .runner import run_tasks
from .store import RunStore
from .tasks import RunTask

OBJECTIVES = ("gmv", "profit", "roi")
PENALTY = 1e3  # per unit of risk above the limit, relative to the objective's scale


@dataclass(frozen=True)
class Constraints:
    budget: float
    floors: dict[str, float] = field(default_factory=dict)  # channel -> minimum share
    caps: dict[str, float] = field(default_factory=dict)  # channel -> maximum share

    def bounds(self, channels: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(floor, cap) share per channel; refuses infeasible or unknown constraints."""
        for what, given in (("floor", self.floors), ("cap", self.caps)):
            for c, v in given.items():
                if c not in channels:
                    raise ScenarioError("--" + what, c, f"unknown channel; channels: {channels}")
                if not 0 <= v <= 1:
                    raise ScenarioError("--" + what, c, "a share must be in [0, 1]", v)
        if not self.budget > 0:
            raise ScenarioError("--budget", "budget", "must be > 0", self.budget)
        lo = np.array([self.floors.get(c, 0.0) for c in channels])
        hi = np.array([self.caps.get(c, 1.0) for c in channels])
        if (lo > hi).any():
            c = channels[int(np.argmax(lo > hi))]
            raise ScenarioError("--floor/--cap", c, f"floor {lo[channels.index(c)]} is above "
                                f"cap {hi[channels.index(c)]}")
        if lo.sum() > 1 + 1e-9:
            raise ScenarioError("--floor", "floors", f"floors sum to {lo.sum():.3f} of the "
                                f"budget, more than all of it: infeasible")
        if hi.sum() < 1 - 1e-9:
            raise ScenarioError("--cap", "caps", f"caps sum to {hi.sum():.3f} of the budget: "
                                "the budget cannot be spent")
        return lo, hi


def project(weights: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Shares proportional to ``weights`` (>= 0) clipped into [lo, hi], summing to 1."""
    w = np.maximum(np.asarray(weights, dtype=np.float64), 0) + 1e-12
    s = np.clip(w / w.sum(), lo, hi)
    for _ in range(4 * len(w)):
        gap = 1.0 - s.sum()
        if abs(gap) < 1e-12:
            break
        free = (s < hi - 1e-15) if gap > 0 else (s > lo + 1e-15)
        s[free] += gap * w[free] / w[free].sum()
        s = np.clip(s, lo, hi)
    return s


@dataclass(frozen=True)
class Optimization:
    objective: str
    channels: list[str]
    input_plan: BudgetPlan
    recommended: BudgetPlan
    comparison: pd.DataFrame  # recommended vs input plan, fresh seeds (summarise format)
    curves: pd.DataFrame  # channel, share, mean objective
    history: pd.DataFrame  # every evaluated candidate

    def plot_curves(self):
        """Each channel's response curve: the objective against its budget share (a Figure)."""
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6.5, 4))
        for channel, curve in self.curves.groupby("channel", sort=False):
            ax.plot(curve["share"], curve[self.objective], marker="o", label=channel)
        rec = self.recommended.channel_totals()
        for channel in self.channels:
            ax.axvline(rec[channel] / self.recommended.budget, lw=0.5, ls=":", color="grey")
        ax.set_xlabel("share of the budget")
        ax.set_ylabel(f"expected {self.objective}")
        ax.legend(fontsize=8)
        fig.tight_layout()
        return fig

    def to_dict(self) -> dict[str, Any]:
        rec = self.recommended.channel_totals()
        cmp_ = self.comparison.set_index(["plan", "kpi"])
        gain = cmp_.loc[("recommended", self.objective)]
        return {
            "objective": self.objective,
            "budget": self.recommended.budget,
            "recommended": rec,
            "input_plan": self.input_plan.channel_totals(),
            "gain_over_input": {k: float(gain[k]) for k in ("diff", "diff_lo", "diff_hi",
                                                            "p_better")},
            "comparison": self.comparison.to_dict(orient="records"),
            "evaluations": len(self.history),
        }


def _quiet_cobyla(search):
    """Silence, for the call only, the warnings that SciPy's COBYLA gives about the options
    nevergrad passes it at small budgets (on nevergrad's background thread, which may start
    at the last ``tell``, hence the whole call); the caller's warning filters are restored."""

    @functools.wraps(search)
    def quiet(*args, **kwargs):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="COBYLA", category=UserWarning)
            return search(*args, **kwargs)

    return quiet


@_quiet_cobyla
def optimize(scenario: Scenario, constraints: Constraints, store: RunStore, *,
             objective: str = "profit", evaluations: int = 30, replications: int = 3,
             final_replications: int = 10, population: int | None = None,
             max_loss_probability: float | None = None, seed: int = 0,
             curve_points: int = 5, workers: int = 1, scheduler: str | None = None,
             progress: bool = True) -> Optimization:
    import nevergrad as ng

    if objective not in OBJECTIVES:
        raise ScenarioError("--objective", "objective", f"must be one of {OBJECTIVES}",
                            objective)
    channels = budget_levers(scenario)  # commission channels are not budget levers
    lo, hi = constraints.bounds(channels)
    base = plan_of(scenario, "input")
    scale = constraints.budget / base.budget
    input_plan = BudgetPlan("input", constraints.budget,
                            {c: v * scale for c, v in base.allocation.items()})
    seeds = _seeds(seed, replications)
    run = dict(store=store, workers=workers, scheduler=scheduler, progress=False)

    def evaluate(shares_list: list[np.ndarray], tag: str) -> list[float]:
        tasks, names = [], []
        for i, shares in enumerate(shares_list):
            name = f"{tag}{i}-" + "-".join(f"{x:.6f}" for x in shares)
            plan = BudgetPlan(name, constraints.budget,
                              dict(zip(channels, shares * constraints.budget, strict=True)))
            s = plan.apply(scenario)
            tasks += [RunTask(name, s, int(sd), population) for sd in seeds]
            names.append(name)
        rows = run_tasks(tasks, **run)
        out = []
        for name in names:
            r = rows[rows["plan"] == name]
            value = r[objective].mean()
            if max_loss_probability is not None:
                risk = (r["roi"] < 1).mean()
                value -= PENALTY * abs(value) * max(0.0, risk - max_loss_probability)
            out.append(float(value))
        return out

    start = project(np.array([input_plan.allocation[c] for c in channels]), lo, hi)
    param = ng.p.Array(init=start, lower=0.0, upper=1.0)
    param.random_state = np.random.RandomState(seed)
    optimizer = ng.optimizers.NGOpt(parametrization=param, budget=evaluations,
                                    num_workers=max(1, workers))
    optimizer.suggest(start)
    history = []
    from tqdm.auto import tqdm

    with tqdm(total=evaluations, disable=not progress, desc="allocations") as bar:
        while optimizer.num_ask < evaluations:
            batch = [optimizer.ask() for _ in range(min(max(1, workers),
                                                        evaluations - optimizer.num_ask))]
            shares = [project(c.value, lo, hi) for c in batch]
            values = evaluate(shares, "candidate")
            for cand, sh, v in zip(batch, shares, values, strict=True):
                optimizer.tell(cand, -v)
                history.append({**dict(zip(channels, sh, strict=True)), objective: v})
            bar.update(len(batch))
    scores = [h[objective] for h in history]
    best = np.array([history[int(np.argmax(scores))][c] for c in channels])
    recommended = BudgetPlan("recommended", constraints.budget,
                             dict(zip(channels, best * constraints.budget, strict=True)))

    final = _seeds(seed + 1, final_replications)
    tasks = [RunTask(p.name, p.apply(scenario), int(sd), population)
             for sd in final for p in (input_plan, recommended)]
    rows = run_tasks(tasks, **run)
    comparison = summarise(rows, "input", ("gmv", "profit", "roi", "orders", "spend"))

    curves = []
    for j, c in enumerate(channels):
        for share in np.linspace(lo[j], hi[j], curve_points):
            others = np.delete(best, j)
            rest = np.delete(lo, j), np.delete(hi, j)
            shares = np.insert(project(others, rest[0] * 0, rest[1]) * (1 - share), j, share)
            curves.append((c, float(share), shares))
    values = evaluate([s for _, _, s in curves], "curve")
    curve_table = pd.DataFrame({"channel": [c for c, _, _ in curves],
                                "share": [s for _, s, _ in curves], objective: values})
    return Optimization(objective, channels, input_plan, recommended, comparison,
                        curve_table, pd.DataFrame(history))


def _seeds(seed: int, n: int) -> list[int]:
    return np.random.SeedSequence(seed).generate_state(n, dtype=np.uint32).tolist()
