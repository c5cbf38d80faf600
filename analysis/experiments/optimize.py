"""Budget optimization on the simulator: the allocation of a paid media budget over channels,
and optionally over the calendar's periods (flighting), that maximizes expected GMV, profit
or ROAS (GMV / spend) under the total, per-channel floors and caps, a per-period pacing limit
and optionally a risk limit.

Levers are the paid (CPM and CPC) channels (``scenarios.budget_levers``); commission
channels stay as the scenario has them. With ``by_period`` a lever is a channel's spend in
one phase, so the search also decides *when* to spend, with everything the simulation
carries over between periods (ad-stock, presale deposits, repurchase) taken into account.

The search is Bayesian optimization in rounds:

1. each round's candidates are simulated in batched passes of the many-worlds engine, four
   candidates x ``replications`` worlds a pass, spread over ``workers`` processes, at
   ``search_population`` consumers (budgets scaled per consumer, so shares mean the same);
2. a Gaussian process (scikit-learn; Matern 5/2 with a learned noise level) is fitted to the
   candidates' mean objective;
3. the next round's candidates maximize its upper confidence bound over thousands of random
   feasible allocations (kept apart from each other so a round explores several regions).

The recommendation is the evaluated allocation with the highest surrogate mean (robust to
one lucky replication). It is then run against the input plan on fresh seeds at the full
population, paired (``compare.summarise``), for the gain and its interval; response curves
are read off the surrogate with its uncertainty. Every evaluated candidate is appended to a
resumable log (:mod:`analysis.resumable`) under the key of the search (scenario, seeds and the
source fingerprint), so an interrupted optimization resumes without re-running finished
simulations, and a search after a code change simulates anew.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scenarios import Scenario, ScenarioError, budget_levers
from simulation import pacing
from simulation.fingerprint import input_fingerprint, work_key

from ..errors import UsageError
from ..parallel import ordered_map
from ..resumable import ResumableLog
from ..seeds import replication_seeds, stream_of
from .compare import summarise
from .plans import BudgetPlan
from .runner import run_tasks
from .store import RunStore
from .tasks import RunTask

OBJECTIVES = ("gmv", "profit", "roas")  # roas = GMV / spend
RENAMED_OBJECTIVES = {"roi": "roas"}  # GMV / spend was called "roi"; refused with the new name
SEARCH, FINAL, PROPOSALS = 0, 1, 2  # seed streams (analysis.seeds)
CANDIDATES_PER_BATCH = 4  # allocations simulated in one batched pass (a round has 8)
PENALTY = 1e3  # per unit of risk above the limit, relative to the objective's scale


@dataclass(frozen=True)
class Constraints:
    """Shares of the total ``budget``: per-channel floors and caps, and at most
    ``max_period_share`` of it in any one period (flighting)."""

    budget: float
    floors: dict[str, float] = field(default_factory=dict)
    caps: dict[str, float] = field(default_factory=dict)
    max_period_share: float | None = None

    def bounds(self, channels: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(floor, cap) share per channel; refuses infeasible or unknown constraints."""
        for what, given in (("floor", self.floors), ("cap", self.caps)):
            for c, v in given.items():
                if c not in channels:
                    raise UsageError("--" + what, c, "unknown channel, or one without a "
                                        f"budget to plan; budget levers: {channels}")
                if not 0 <= v <= 1:
                    raise UsageError("--" + what, c, "a share must be in [0, 1]", v)
        if not self.budget > 0:
            raise UsageError("--budget", "budget", "must be > 0", self.budget)
        lo = np.array([self.floors.get(c, 0.0) for c in channels])
        hi = np.array([self.caps.get(c, 1.0) for c in channels])
        if (lo > hi).any():
            c = channels[int(np.argmax(lo > hi))]
            raise UsageError("--floor/--cap", c, f"floor {lo[channels.index(c)]} is above "
                                f"cap {hi[channels.index(c)]}")
        if lo.sum() > 1 + 1e-9:
            raise UsageError("--floor", "floors", f"floors sum to {lo.sum():.3f} of the "
                                f"budget, more than all of it: infeasible")
        if hi.sum() < 1 - 1e-9:
            raise UsageError("--cap", "caps", f"caps sum to {hi.sum():.3f} of the budget: "
                                "the budget cannot be spent")
        return lo, hi

    def period_cap(self, periods: list[str]) -> float:
        """The per-period limit as a share (1 without one); refuses an infeasible one."""
        if self.max_period_share is None:
            return 1.0
        limit = self.max_period_share
        if not 0 < limit <= 1 or limit * len(periods) < 1 - 1e-9:
            raise UsageError("--max-period-share", "max_period_share", f"must be in "
                                f"(0, 1] and at least 1/{len(periods)} = "
                                f"{1 / len(periods):.3f} so {len(periods)} periods can hold "
                                "the budget", limit)
        return limit


@dataclass(frozen=True)
class Levers:
    """What the search moves: paid channels, each whole or split over periods."""

    channels: list[str]
    periods: list[str] | None  # phases when flighting

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.channels), len(self.periods or [""])

    def plan(self, shares: np.ndarray, budget: float, name: str) -> BudgetPlan:
        amounts = np.asarray(shares).reshape(self.shape) * budget
        if self.periods is None:
            allocation = {c: float(amounts[i, 0]) for i, c in enumerate(self.channels)}
        else:
            allocation = {c: {p: float(amounts[i, j]) for j, p in enumerate(self.periods)}
                          for i, c in enumerate(self.channels)}
        return BudgetPlan(name, budget, allocation)

    def input_shares(self, scenario: Scenario) -> np.ndarray:
        """The scenario's own allocation (and timing) as shares of its paid budget."""
        plan = pacing.spend_plan(scenario)  # (channels, hours)
        names = [c.name for c in scenario.channels]
        rows = plan[[names.index(c) for c in self.channels]]
        if self.periods is None:
            out = rows.sum(axis=1, keepdims=True)
        else:
            phase = pacing.phase_index(scenario)
            out = np.stack([rows[:, phase == j].sum(axis=1)
                            for j in range(len(self.periods))], axis=1)
        total = out.sum()
        return out / total if total > 0 else np.full(self.shape, 1.0 / out.size)


def project(shares: np.ndarray, lo: np.ndarray, hi: np.ndarray,
            period_cap: float = 1.0) -> np.ndarray:
    """Shares (channels x periods) proportional to ``shares`` (>= 0), summing to 1, with
    channel totals in [lo, hi] and period totals at most ``period_cap`` (alternating
    projections; exact for channel totals, within 1e-9 for periods)."""
    shape = np.shape(shares)
    s = np.maximum(np.asarray(shares, dtype=np.float64), 0).reshape(len(lo), -1) + 1e-12
    s = s / s.sum()
    for _ in range(200):
        rows = _fit_totals(s.sum(axis=1), lo, hi)
        s = s * (rows / s.sum(axis=1))[:, None]
        cols = s.sum(axis=0)
        if cols.max() <= period_cap + 1e-9:
            break
        target = _fit_totals(cols, np.zeros_like(cols), np.full_like(cols, period_cap))
        s = s * (target / cols)[None, :]
    return (s / s.sum()).reshape(shape)


def _fit_totals(totals: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Totals proportional to ``totals``, clipped into [lo, hi], summing to 1."""
    w = np.maximum(totals, 1e-12)
    t = np.clip(w / w.sum(), lo, hi)
    for _ in range(4 * len(w)):
        gap = 1.0 - t.sum()
        if abs(gap) < 1e-12:
            break
        free = (t < hi - 1e-15) if gap > 0 else (t > lo + 1e-15)
        t[free] += gap * w[free] / w[free].sum()
        t = np.clip(t, lo, hi)
    return t


@dataclass(frozen=True)
class SearchOptions:
    """How the search runs; every default is the CLI's."""

    objective: str = "profit"
    evaluations: int = 40  # allocations simulated
    replications: int = 4  # worlds per allocation
    round_size: int = 8  # allocations per round
    final_replications: int = 10  # paired fresh-seed runs of recommended vs input
    search_population: int | None = 20_000  # consumers while searching (None: scenario's)
    population: int | None = None  # consumers of the final comparison (None: scenario's)
    by_period: bool = False
    max_gmv_below_spend_probability: float | None = None  # P(GMV < spend) at most this
    seed: int = 0
    workers: int = 2
    curve_points: int = 9
    progress: bool = True


@dataclass(frozen=True)
class Optimization:
    objective: str
    levers: Levers
    input_plan: BudgetPlan
    recommended: BudgetPlan
    comparison: pd.DataFrame  # recommended vs input plan, fresh seeds (summarise format)
    curves: pd.DataFrame  # channel, share, surrogate mean and sd of the objective
    history: pd.DataFrame  # every evaluated allocation: round, shares, mean, sd
    wall_seconds: float

    @property
    def channels(self) -> list[str]:
        return self.levers.channels

    def plot_curves(self):
        """Each channel's response curve on the surrogate: mean and 90% band (a Figure)."""
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6.5, 4))
        for channel, curve in self.curves.groupby("channel", sort=False):
            mean, sd = curve[self.objective], curve["sd"]
            line, = ax.plot(curve["share"], mean, marker="o", ms=3, label=channel)
            ax.fill_between(curve["share"], mean - 1.645 * sd, mean + 1.645 * sd,
                            color=line.get_color(), alpha=0.15)
        rec = self.recommended.channel_totals()
        for channel in self.channels:
            ax.axvline(rec[channel] / self.recommended.budget, lw=0.5, ls=":", color="grey")
        ax.set_xlabel("share of the budget")
        ax.set_ylabel(f"expected {self.objective} (surrogate)")
        ax.legend(fontsize=8)
        fig.tight_layout()
        return fig

    def plot_schedule(self):
        """Heat map of the recommended schedule: spend by channel and period (a Figure)."""
        import matplotlib.pyplot as plt

        periods = self.levers.periods or ["campaign"]
        amounts = np.array([[v] if not isinstance(v, dict) else [v[p] for p in periods]
                            for v in self.recommended.allocation.values()])
        fig, ax = plt.subplots(figsize=(1.6 + 1.3 * len(periods), 1.2 + 0.5 * len(amounts)))
        image = ax.imshow(amounts, cmap="Blues", aspect="auto")
        ax.set_xticks(range(len(periods)), periods)
        ax.set_yticks(range(len(self.channels)), self.channels)
        for (i, j), v in np.ndenumerate(amounts):
            ax.text(j, i, f"{v:,.0f}", ha="center", va="center", fontsize=8,
                    color="white" if v > amounts.max() / 2 else "black")
        fig.colorbar(image, ax=ax, label="spend")
        ax.set_title("recommended schedule")
        fig.tight_layout()
        return fig

    def to_dict(self) -> dict[str, Any]:
        cmp_ = self.comparison.set_index(["plan", "kpi"])
        gain = cmp_.loc[("recommended", self.objective)]
        return {
            "objective": self.objective,
            "budget": self.recommended.budget,
            "recommended": self.recommended.channel_totals(),
            "recommended_schedule": dict(self.recommended.allocation),
            "input_plan": self.input_plan.channel_totals(),
            "gain_over_input": {k: float(gain[k]) for k in ("diff", "diff_lo", "diff_hi",
                                                            "p_better")},
            "comparison": self.comparison.to_dict(orient="records"),
            "evaluations": len(self.history),
            "wall_seconds": self.wall_seconds,
        }


def simulate_allocations(scenarios: list[Scenario], seeds: list[int]) -> np.ndarray:
    """(K, 3) GMV, margin and spend of one world per scenario, in one batched pass."""
    import simulation

    batch = simulation.run_batch(scenarios, seeds)
    return np.column_stack([batch.totals(m) for m in ("gmv", "margin", "spend")])


def objective_problem(name: str) -> str:
    """Why ``name`` is not an objective (naming the new name of a renamed one)."""
    allowed = ", ".join(OBJECTIVES)
    if name in RENAMED_OBJECTIVES:
        return (f"{name!r} (GMV / spend) is now called {RENAMED_OBJECTIVES[name]!r}; "
                f"allowed: {allowed}")
    return f"must be one of {allowed}"


def objective_value(totals: np.ndarray, objective: str,
                    max_gmv_below_spend_probability: float | None) -> tuple[float, float]:
    """(mean objective, its standard error) over replications (rows of GMV, margin,
    spend), with the risk penalty when P(GMV < spend) exceeds the limit."""
    gmv, margin, spend = totals.T
    value = {"gmv": gmv, "profit": margin - spend,
             "roas": np.divide(gmv, spend, out=np.zeros_like(gmv), where=spend > 0)}[objective]
    mean = float(value.mean())
    se = float(value.std(ddof=1) / np.sqrt(len(value))) if len(value) > 1 else 0.0
    if max_gmv_below_spend_probability is not None:
        risk = float((gmv < spend).mean())
        mean -= PENALTY * abs(mean) * max(0.0, risk - max_gmv_below_spend_probability)
    return mean, se


def optimize(scenario: Scenario, constraints: Constraints, store: RunStore, *,
             options: SearchOptions | None = None, log: Path | None = None) -> Optimization:
    """The best allocation of ``constraints.budget`` (see the module docstring)."""
    from tqdm.auto import tqdm

    import simulation

    opt = options or SearchOptions()
    started = time.perf_counter()
    if opt.objective not in OBJECTIVES:
        raise UsageError("--objective", "objective", objective_problem(opt.objective),
                         opt.objective)
    levers = Levers(budget_levers(scenario),
                    [p.name for p in scenario.calendar.phases] if opt.by_period else None)
    if not levers.channels:
        raise ScenarioError(scenario.name, "channels", "no CPM or CPC channel: nothing has a "
                            "budget to allocate")
    lo, hi = constraints.bounds(levers.channels)
    cap = constraints.period_cap(levers.periods or [""])
    input_plan = levers.plan(levers.input_shares(scenario), constraints.budget, "input")
    size = opt.search_population or scenario.market.population
    small = simulation.rescale(scenario, size) if size != scenario.market.population \
        else scenario
    seeds = replication_seeds(opt.seed, opt.replications, stream=SEARCH)
    search = ResumableLog(log or store.folder / "search.jsonl", search_key(small, seeds))
    done = {row["shares"]: np.asarray(row["totals"], dtype=np.float64)
            for row in search.rows()}

    def key(shares: np.ndarray) -> str:
        return ",".join(f"{x:.6f}" for x in shares.ravel())

    def evaluate(candidates: list[np.ndarray]) -> list[np.ndarray]:
        todo = [c for c in candidates if key(c) not in done]
        # batches of a fixed number of candidates, x replications worlds each: the totals
        # do not depend on the number of workers (a batch of 16 worlds at 20,000 consumers
        # costs 0.45 of 4 batches of 4: benchmarks/bench_search_batches.py)
        groups = [todo[i:i + CANDIDATES_PER_BATCH]
                  for i in range(0, len(todo), CANDIDATES_PER_BATCH)]
        arguments = [([levers.plan(c, constraints.budget * size / scenario.market.population,
                                   "c").apply(small) for c in group for _ in seeds],
                      seeds * len(group)) for group in groups]
        results = ordered_map(simulate_allocations, arguments, cores=opt.workers)
        for group, totals in zip(groups, results, strict=True):
            for i, c in enumerate(group):
                done[key(c)] = totals[i * len(seeds):(i + 1) * len(seeds)]
                search.append({"shares": key(c), "totals": done[key(c)].tolist()})
        return [done[key(c)] for c in candidates]

    rng = np.random.default_rng(stream_of(opt.seed, PROPOSALS))
    history: list[dict] = []
    start = project(levers.input_shares(scenario), lo, hi, cap)
    candidates = [start] + [project(rng.dirichlet(np.ones(start.size)).reshape(start.shape),
                                    lo, hi, cap)
                            for _ in range(min(opt.round_size, opt.evaluations) - 1)]
    with tqdm(total=opt.evaluations, disable=not opt.progress, desc="allocations") as bar:
        round_ = 0
        while candidates:
            for c, totals in zip(candidates, evaluate(candidates), strict=True):
                mean, se = objective_value(totals, opt.objective,
                                             opt.max_gmv_below_spend_probability)
                history.append({"round": round_, "shares": c, "mean": mean, "se": se})
            bar.update(len(candidates))
            bar.set_postfix(best=f"{max(h['mean'] for h in history):,.0f}")
            left = opt.evaluations - len(history)
            if left <= 0:
                break
            round_ += 1
            surrogate = _fit_surrogate(history, opt.seed)
            candidates = _propose(surrogate, history, min(opt.round_size, left), lo, hi, cap,
                                  rng, kappa=2.0 if left > opt.round_size else 0.5)

    surrogate = _fit_surrogate(history, opt.seed)
    evaluated = np.array([h["shares"].ravel() for h in history])
    best = history[int(np.argmax(surrogate.predict(evaluated)))]["shares"]
    recommended = levers.plan(best, constraints.budget, "recommended")

    final = replication_seeds(opt.seed, opt.final_replications, stream=FINAL)
    tasks = [RunTask(p.name, p.apply(scenario), int(sd), opt.population)
             for sd in final for p in (input_plan, recommended)]
    rows = run_tasks(tasks, store=store, workers=opt.workers, progress=opt.progress)
    comparison = summarise(rows, "input", ("gmv", "profit", "roas", "orders", "spend"))
    table = pd.DataFrame([{"round": h["round"], **{
        f"{c}|{p}" if levers.periods else c: v for (c, p), v in zip(
            [(c, p) for c in levers.channels for p in (levers.periods or [""])],
            h["shares"].ravel(), strict=True)}, opt.objective: h["mean"], "se": h["se"]}
        for h in history])
    return Optimization(opt.objective, levers, input_plan, recommended, comparison,
                        _curves(surrogate, best, lo, hi, cap, levers, opt), table,
                        time.perf_counter() - started)


def search_key(small: Scenario, seeds: list[int]) -> str:
    """The key of a search's simulations: the searched scenario, its seeds, the files it
    reads and the source of the engine and of this module."""
    return work_key({"scenario": small.model_dump(mode="json"), "seeds": seeds,
                     "inputs": input_fingerprint(small)}, Path(__file__))


def _fit_surrogate(history: list[dict], seed: int):
    """A Gaussian process of the objective over allocations (inputs: shares)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

    x = np.array([h["shares"].ravel() for h in history])
    y = np.array([h["mean"] for h in history])
    kernel = ConstantKernel(1.0, (1e-3, 1e3)) * Matern(
        length_scale=np.full(x.shape[1], 0.3), length_scale_bounds=(0.02, 10.0), nu=2.5) \
        + WhiteKernel(0.05, (1e-6, 1.0))
    gp = GaussianProcessRegressor(kernel, normalize_y=True, n_restarts_optimizer=2,
                                  random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return gp.fit(x, y)


def _propose(surrogate, history: list[dict], n: int, lo, hi, cap, rng, *,
             kappa: float) -> list[np.ndarray]:
    """``n`` allocations with the highest upper confidence bound, kept apart."""
    shape = history[0]["shares"].shape
    best = max(history, key=lambda h: h["mean"])["shares"].ravel()
    pool = [rng.dirichlet(np.ones(best.size)) for _ in range(3000)]
    pool += [rng.dirichlet(best * k + 1e-3) for k in (50, 200, 1000) for _ in range(700)]
    pool = np.array([project(p.reshape(shape), lo, hi, cap).ravel() for p in pool])
    mean, sd = surrogate.predict(pool, return_std=True)
    score = mean + kappa * sd
    chosen: list[np.ndarray] = []
    seen = np.array([h["shares"].ravel() for h in history])
    for i in np.argsort(-score):
        taken = np.vstack([seen, *chosen]) if chosen else seen
        if np.abs(taken - pool[i]).sum(axis=1).min() < 0.02:
            continue
        chosen.append(pool[i])
        if len(chosen) == n:
            break
    return [c.reshape(shape) for c in chosen]


def _curves(surrogate, best: np.ndarray, lo, hi, cap, levers: Levers,
            opt: SearchOptions) -> pd.DataFrame:
    """Each channel's total share swept from floor to cap, the rest in proportion."""
    rows = []
    for j, channel in enumerate(levers.channels):
        for share in np.linspace(lo[j], hi[j], opt.curve_points):
            s = best.copy().astype(np.float64)
            others = np.delete(np.arange(len(levers.channels)), j)
            rest = s[others].sum()
            s[others] *= (1 - share) / rest if rest > 0 else 0.0
            s[j] = s[j] * share / s[j].sum() if s[j].sum() > 0 else share / s.shape[1]
            mean, sd = surrogate.predict(s.ravel()[None, :], return_std=True)
            rows.append({"channel": channel, "share": float(share),
                         opt.objective: float(mean[0]), "sd": float(sd[0])})
    return pd.DataFrame(rows)
