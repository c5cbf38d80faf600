"""Ground truth: each channel's incremental conversions and GMV, by paired counterfactual runs.

For replication seed ``s`` and channel ``c``, with ``Y(scenario, s)`` the orders (or GMV) of
one run,

    incremental_c(s) = Y(scenario, s) - Y(scenario without c, s)
    marginal_c(s)    = (Y(lever_c x (1 + d), s) - Y(lever_c x (1 - d), s)) / 2

where "without ``c``" sets the channel's budget to 0 (a channel with no budget serves
nothing, draws nothing from its random streams and triggers no decision, so it is the same
as removing it), and the lever is the channel's budget, or its ``daily_impressions`` for a
commission channel (whose budget only caps commissions). ``marginal_c`` is the effect of a
``d`` (default 10%) larger lever by a central difference. Every run of a replication uses
the same seed; the simulator keys its random streams by name (``simulation.streams``), so
the runs share common random numbers and the difference measures the channel's effect, not
sampling noise. Reported per channel: the mean over the ``R`` replications, and the 5% and
95% quantiles of the per-seed effects (a 90% interval of the effect in one campaign), with
the standard error of the mean.

Replication seeds are ``analysis.seeds.replication_seeds`` of one seed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

import scenarios
from scenarios import Scenario, is_budget_lever

from ..experiments.runner import batches
from ..experiments.tasks import RunTask, simulate_batch

from ..seeds import replication_seeds as spawn_seeds
from .journeys import AttributionError

VARIANTS = ("base", "without", "minus", "plus")
QUANTILES = (0.05, 0.95)


def replication_seeds(seed: int, replications: int) -> tuple[int, ...]:
    """``replications`` run seeds spawned from ``seed`` (``SeedSequence.spawn``)."""
    try:
        return tuple(spawn_seeds(seed, replications))
    except ValueError as exc:
        raise AttributionError(str(exc)) from None


def lever(scenario: Scenario, channel: str) -> str:
    """The field that scales a channel's activity: budget, or daily_impressions (commission)."""
    ch = next(c for c in scenario.channels if c.name == channel)
    return "budget" if is_budget_lever(ch) else "daily_impressions"


def variant(scenario: Scenario, channel: str, kind: str, step: float = 0.1) -> Scenario:
    """The scenario of one counterfactual: ``without`` the channel, or its lever ± ``step``."""
    ch = next(c for c in scenario.channels if c.name == channel)
    if kind == "without":
        return scenarios.with_overrides(scenario, {f"channels.{channel}.budget": 0.0})
    field = lever(scenario, channel)
    factor = {"minus": 1.0 - step, "plus": 1.0 + step}[kind]
    return scenarios.with_overrides(
        scenario, {f"channels.{channel}.{field}": getattr(ch, field) * factor})


def outcome(result) -> tuple[float, float]:
    """(orders, GMV) of a run."""
    return float(len(result.orders)), float(result.orders["gmv"].sum())


@dataclass(frozen=True)
class GroundTruth:
    """Paired counterfactual runs and each channel's measured effect.

    Attributes
    ----------
    runs
        One row per seed x channel x variant (``base`` rows have channel ``""``):
        ``seed``, ``channel``, ``variant``, ``conversions``, ``gmv``.
    effects
        One row per seed x channel: ``incremental_conversions``, ``incremental_gmv``,
        ``marginal_conversions``, ``marginal_gmv``.
    table
        Per channel: for every effect its ``mean``, ``lo``, ``hi`` (5%/95% quantiles over
        seeds) and ``se`` (standard error of the mean), as ``<effect>_<stat>`` columns.
    """

    scenario: str
    seeds: tuple[int, ...]
    step: float
    runs: pd.DataFrame
    effects: pd.DataFrame
    table: pd.DataFrame


def ground_truth(scenario: Scenario, seeds: tuple[int, ...] | int, *, step: float = 0.1,
                 channels: list[str] | None = None, run: Callable | None = None,
                 progress: Callable[[int, int], None] | None = None) -> GroundTruth:
    """Measure every channel's incremental and marginal effect on paired runs.

    Parameters
    ----------
    scenario
        The campaign.
    seeds
        Run seeds, one per replication, or a number of replications (seeds spawned from the
        scenario's seed).
    step
        Relative lever change of the marginal effect (0 < step < 1).
    channels
        Channels to measure (default: all).
    run
        ``run(scenario, seed) -> RunResult``, one run at a time; default: the runs as
        paired batches of worlds (``analysis.experiments.runner.batches``; each world is
        exactly ``simulation.run`` of its scenario and seed, without touchpoints).
    progress
        Called with (runs done, runs total) after every run (or batch).
    """
    if isinstance(seeds, int):
        seeds = replication_seeds(scenario.seed, seeds)
    if not 0 < step < 1:
        raise AttributionError(f"step must be in (0, 1), got {step}")
    names = [c.name for c in scenario.channels]
    channels = names if channels is None else list(channels)
    unknown = sorted(set(channels) - set(names))
    if unknown:
        raise AttributionError(f"unknown channels {unknown}; scenario has {names}")
    plans = [("", "base", scenario)]
    plans += [(c, k, variant(scenario, c, k, step)) for c in channels for k in VARIANTS[1:]]
    work = [(seed, channel, kind, RunTask(f"{channel}:{kind}", s, int(seed)))
            for seed in seeds for channel, kind, s in plans]
    rows = []
    for results in _results([w[3] for w in work], run):
        rows += [(*work[len(rows) + i][:3], *outcome(r)) for i, r in enumerate(results)]
        if progress is not None:
            progress(len(rows), len(work))
    runs = pd.DataFrame(rows, columns=["seed", "channel", "variant", "conversions", "gmv"])
    effects = _effects(runs, channels)
    return GroundTruth(scenario=scenario.name, seeds=tuple(seeds), step=step, runs=runs,
                       effects=effects, table=_summarise(effects, channels))


def _results(tasks: list[RunTask], run: Callable | None):
    """The results of ``tasks``, batch by batch in order: paired batches, or one
    ``run(scenario, seed)`` at a time when given."""
    if run is not None:
        for t in tasks:
            yield [run(t.scenario, t.seed)]
        return
    for group in batches(tasks):
        yield simulate_batch(group)


def _effects(runs: pd.DataFrame, channels: list[str]) -> pd.DataFrame:
    base = runs[runs["variant"] == "base"].set_index("seed")[["conversions", "gmv"]]
    wide = runs[runs["variant"] != "base"].pivot_table(
        index=["seed", "channel"], columns="variant", values=["conversions", "gmv"])
    out = pd.DataFrame(index=wide.index)
    seed = wide.index.get_level_values("seed")
    for metric in ("conversions", "gmv"):
        out[f"incremental_{metric}"] = (base[metric].reindex(seed).to_numpy()
                                        - wide[(metric, "without")].to_numpy())
        out[f"marginal_{metric}"] = (wide[(metric, "plus")] - wide[(metric, "minus")]) / 2
    return out.reset_index()


def _summarise(effects: pd.DataFrame, channels: list[str]) -> pd.DataFrame:
    grouped = effects.groupby("channel")
    cols = [c for c in effects.columns if c not in ("seed", "channel")]
    parts = {}
    for col in cols:
        g = grouped[col]
        parts[f"{col}_mean"] = g.mean()
        parts[f"{col}_lo"] = g.quantile(QUANTILES[0])
        parts[f"{col}_hi"] = g.quantile(QUANTILES[1])
        parts[f"{col}_se"] = g.std(ddof=1) / np.sqrt(g.count())
    table = pd.DataFrame(parts).reindex(channels)
    table.index.name = "channel"
    return table
