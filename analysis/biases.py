"""What each behavioural bias does in a scenario: the campaign with one bias switched off.

``campaign-lab biases SCENARIO`` runs the scenario as it is and with each bias removed
(loss aversion: lambda = 1; anchoring: weight 0; framing: susceptibility 0; memory of prices
seen: only prices paid move references; social proof: weight 0), every variant on the same
replication seeds (common random numbers), all in one batch of worlds. It reports, per
variant, the change in orders and GMV against the scenario with its standard error over the
paired replications, and the scenario's shares of decisions facing a loss or an anchor.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

import scenarios
from scenarios import GENERATIONS, Scenario, ScenarioError
from simulation.io import write_atomic
from simulation.run import run_batch

from .attribution.ground_truth import replication_seeds


def _segments(field: str, value: float) -> dict:
    return {f"segments.{g}.{field}": {"mean": value, "sd": 0.0} for g in GENERATIONS}


SWITCHED_OFF = {
    "loss aversion (lambda = 1)": lambda s: _segments("loss_aversion", 1.0),
    "anchoring (weight 0)": lambda s: _segments("anchoring_weight", 0.0),
    "framing (susceptibility 0)": lambda s: _segments("framing_susceptibility", 0.0),
    "prices seen (only prices paid move references)":
        lambda s: {"behaviour.reference_smoothing_seen": 0.0},
    "social proof (weight 0)": lambda s: {"behaviour.social_weight": 0.0},
}


def bias_effects(scenario: Scenario, *, seeds: int = 4, seed: int = 0,
                 population: int | None = None) -> tuple[pd.DataFrame, dict]:
    """(table of each bias's effect, the scenario's bias shares) over ``seeds`` paired
    replications; effects are (variant - scenario) / scenario in orders and GMV."""
    variants = {"as scenario": scenario} | {
        name: scenarios.with_overrides(scenario, change(scenario))
        for name, change in SWITCHED_OFF.items()}
    reps = replication_seeds(seed, seeds)
    worlds = [s for s in variants.values() for _ in reps]
    batch = run_batch(worlds, [r for _ in variants for r in reps], population=population,
                      paired=True)
    shape = (len(variants), seeds)
    orders, gmv = (batch.totals(m).reshape(shape) for m in ("orders", "gmv"))
    decisions = batch.totals("decisions").reshape(shape)[0]
    shares = {"loss": float(batch.totals("decisions_loss").reshape(shape)[0].sum()
                            / max(decisions.sum(), 1)),
              "anchor": float(batch.totals("decisions_anchor").reshape(shape)[0].sum()
                              / max(decisions.sum(), 1))}
    rows = []
    for i, name in enumerate(list(variants)[1:], start=1):
        row = {"bias switched off": name}
        for label, kpi in (("orders", orders), ("gmv", gmv)):
            change = (kpi[i] - kpi[0]) / np.maximum(kpi[0], 1e-9)
            row[f"{label} change"] = float(change.mean())
            row[f"{label} change se"] = float(change.std(ddof=1) / np.sqrt(seeds)
                                              if seeds > 1 else np.nan)
        rows.append(row)
    return pd.DataFrame(rows), shares


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", help="preset name or TOML file")
    parser.add_argument("--seeds", type=int, default=4, help="paired replications (>= 2)")
    parser.add_argument("--seed", type=int, default=0, help="seed the replications come from")
    parser.add_argument("--population", type=int, default=20_000,
                        help="consumers simulated (budgets scale with it)")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="PATH=VALUE", help="override a field (repeatable)")
    parser.add_argument("--out", type=Path, default=None,
                        help="output folder (default: results/<scenario>)")


def main(args) -> int:
    if args.seeds < 2:
        raise ScenarioError("--seeds", "seeds", "must be >= 2 (a standard error needs two)",
                            args.seeds)
    if args.population < 1:
        raise ScenarioError("--population", "population", "must be >= 1", args.population)
    s = scenarios.load(args.scenario, args.overrides)
    table, shares = bias_effects(s, seeds=args.seeds, seed=args.seed,
                                 population=args.population)
    out = args.out or Path("results") / s.name
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / "biases.csv", lambda p: table.to_csv(p, index=False))
    print(f"{s.name}: decisions facing a loss {100 * shares['loss']:.1f}%, seeing an anchor "
          f"{100 * shares['anchor']:.1f}% ({args.seeds} replications x "
          f"{args.population:,} consumers)")
    shown = table.copy()
    for col in [c for c in table.columns if "change" in c]:
        shown[col] = [f"{100 * v:+.1f}%" if "se" not in col else f"{100 * v:.1f}%"
                      for v in table[col]]
    print(shown.to_string(index=False))
    print(f"\nwrote {out}/biases.csv")
    return 0
