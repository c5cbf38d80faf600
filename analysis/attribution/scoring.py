"""Scoring attribution models against the simulation's ground truth.

``attribute(scenario, replications, lookback)`` runs the campaign on ``R`` replication seeds,
builds each run's journeys (``journeys.from_run``), applies every model of ``MODELS`` and
averages their credit over the runs; it measures the ground truth on the same seeds
(``ground_truth``). Credits and truth are compared as *shares over channels*:

    share_m(c) = credit_m(c) / sum_d credit_m(d),
    share_truth(c) = incremental(c) / sum_d incremental(d),
    error_m = sum_c |share_m(c) - share_truth(c)|        (total absolute share error, 0..2)

Shares, not counts, because a model distributes the conversions that have touches, while
the incremental conversions of all channels need not add up to that number (orders that
would have happened anyway, spill-over of awareness into organic orders, cannibalisation).
Both counts are kept in the table. The report is written atomically (``attribution.json``,
``attribution.csv``, ``attribution.png``); ``plot`` returns the matplotlib ``Figure``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from scenarios import Scenario
from simulation.io import write_atomic

from ..experiments.runner import batches
from ..experiments.tasks import RunTask, simulate_batch
from . import heuristics
from .ground_truth import GroundTruth, ground_truth, replication_seeds
from .journeys import Journeys, from_run
from .markov import markov_credit
from .shapley import shapley

Model = Callable[[Journeys], pd.DataFrame]


def models(half_life: float = 24.0, first: float = 0.4, last: float = 0.4,
           orders: tuple[int, ...] = (1, 2)) -> dict[str, Model]:
    """The models scored by ``attribute``, by name (each maps journeys to a credit table)."""
    out: dict[str, Model] = {
        "last_click": heuristics.last_click,
        "first_click": heuristics.first_click,
        "linear": heuristics.linear,
        "time_decay": partial(heuristics.time_decay, half_life=half_life),
        "position_based": partial(heuristics.position_based, first=first, last=last),
    }
    for k in orders:
        out[f"markov_{k}"] = partial(markov_credit, order=k)
    out["shapley"] = shapley
    return out


MODELS = models()


@dataclass(frozen=True)
class AttributionReport:
    """Every model's credit next to the ground truth, per channel.

    Attributes
    ----------
    table
        Per channel: ``truth`` (mean incremental conversions), ``truth_lo``/``truth_hi``
        (90% interval over seeds), ``truth_share``, and per model ``<model>`` (credited
        conversions, mean over runs) and ``<model>_share``.
    errors
        Per model: total absolute share error against ``truth_share``.
    ground_truth
        The paired runs behind ``truth``.
    """

    scenario: str
    seeds: tuple[int, ...]
    lookback: float
    touches: str
    table: pd.DataFrame
    errors: pd.Series
    ground_truth: GroundTruth
    meta: dict = field(default_factory=dict)

    @property
    def model_names(self) -> list[str]:
        return list(self.errors.index)

    def to_json(self) -> dict:
        """JSON-ready dictionary of the report."""
        return {
            "scenario": self.scenario,
            "seeds": list(self.seeds),
            "lookback_hours": self.lookback,
            "touches": self.touches,
            "errors": {k: _num(v) for k, v in self.errors.items()},
            "channels": {ch: {k: _num(v) for k, v in row.items()}
                         for ch, row in self.table.to_dict(orient="index").items()},
            **self.meta,
        }

    def plot(self):
        """Grouped bars: each model's share per channel, the ground truth with its interval."""
        from matplotlib.figure import Figure

        names = ["truth", *self.model_names]
        channels = list(self.table.index)
        fig = Figure(figsize=(2.2 + 1.6 * len(channels), 4.5))
        ax = fig.add_subplot()
        width = 0.8 / len(names)
        x = np.arange(len(channels))
        total = self.table["truth"].sum()
        for i, name in enumerate(names):
            share = self.table[f"{name}_share"].to_numpy()
            kwargs = {}
            if name == "truth" and total > 0:
                lo = self.table["truth_lo"].to_numpy() / total
                hi = self.table["truth_hi"].to_numpy() / total
                kwargs = {"yerr": [np.maximum(share - lo, 0), np.maximum(hi - share, 0)],
                          "capsize": 3, "color": "black"}
            label = name if name == "truth" else f"{name} (err {self.errors[name]:.2f})"
            ax.bar(x + (i - (len(names) - 1) / 2) * width, share, width, label=label, **kwargs)
        ax.set_xticks(x, channels)
        ax.set_ylabel("share over channels")
        ax.set_title(f"Attribution vs ground truth: {self.scenario} "
                     f"({len(self.seeds)} seeds, lookback {self.lookback:g} h)")
        ax.axhline(0, color="grey", lw=0.5)
        ax.legend(fontsize=7, ncols=2)
        fig.tight_layout()
        return fig

    def save(self, out_dir: str | Path) -> Path:
        """Write attribution.json, attribution.csv and attribution.png atomically."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.to_json(), indent=2)
        write_atomic(out / "attribution.json", lambda p: p.write_text(text))
        write_atomic(out / "attribution.csv", lambda p: self.table.to_csv(p))
        fig = self.plot()
        write_atomic(out / "attribution.png", lambda p: fig.savefig(p, dpi=110, format="png"))
        return out


def _num(value):
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def shares(credit: pd.Series) -> pd.Series:
    """``credit / sum(credit)``; NaN everywhere when the total is not positive."""
    total = credit.sum()
    return credit / total if total > 0 else credit * np.nan


def score(credits: dict[str, pd.Series], truth: GroundTruth) -> tuple[pd.DataFrame, pd.Series]:
    """The comparison table and each model's total absolute share error."""
    gt = truth.table
    table = pd.DataFrame({
        "truth": gt["incremental_conversions_mean"],
        "truth_lo": gt["incremental_conversions_lo"],
        "truth_hi": gt["incremental_conversions_hi"],
        "truth_gmv": gt["incremental_gmv_mean"],
        "marginal": gt["marginal_conversions_mean"],
    })
    table["truth_share"] = shares(table["truth"])
    errors = {}
    for name, credit in credits.items():
        table[name] = credit.reindex(table.index)
        table[f"{name}_share"] = shares(table[name])
        errors[name] = float((table[f"{name}_share"] - table["truth_share"]).abs().sum())
    return table, pd.Series(errors, name="total_absolute_share_error")


def attribute(scenario: Scenario, replications: int = 10, lookback: float = 72.0, *,
              seed: int | None = None, touches: str = "clicks",
              model_set: dict[str, Model] | None = None, step: float = 0.1,
              progress: Callable[[int, int], None] | None = None) -> AttributionReport:
    """Score attribution models against the ground truth of ``scenario``.

    Parameters
    ----------
    scenario
        The campaign (``scenarios.load``).
    replications
        Seeds ``R``; every seed gives one observed run and ``1 + 3 x channels`` paired runs.
    lookback
        Journey window in hours (``journeys.from_touchpoints``).
    seed
        Seed from which the replication seeds are spawned; default: the scenario's.
    touches
        ``"clicks"`` or ``"impressions"``.
    model_set
        Models to score (default ``MODELS``).
    """
    model_set = MODELS if model_set is None else model_set
    seeds = replication_seeds(scenario.seed if seed is None else seed, replications)
    sums: dict[str, pd.Series] = {}
    unattributed = attributable = 0.0
    observed = [RunTask("observed", scenario, int(s)) for s in seeds]
    for result in (r for group in batches(observed)
                   for r in simulate_batch(group, touchpoints=True)):
        journeys = from_run(result, lookback=lookback, touches=touches)
        unattributed += journeys.unattributed_conversions
        attributable += journeys.total_conversions
        for name, model in model_set.items():
            credit = model(journeys)["conversions"]
            sums[name] = credit if name not in sums else sums[name] + credit
    credits = {name: total / len(seeds) for name, total in sums.items()}
    truth = ground_truth(scenario, seeds, step=step, progress=progress)
    table, errors = score(credits, truth)
    meta = {
        "conversions_with_touches_per_run": attributable / len(seeds),
        "conversions_without_touches_per_run": unattributed / len(seeds),
        "share_rule": "credit / sum over channels; error = sum |model share - truth share|",
    }
    return AttributionReport(scenario=scenario.name, seeds=seeds, lookback=float(lookback),
                             touches=touches, table=table, errors=errors, ground_truth=truth,
                             meta=meta)
