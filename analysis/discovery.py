"""Scenario discovery: where in the space of uncertainties does plan A lose to plan B?

The uncertainties are sampled by a Latin hypercube (McKay, Beckman & Conover 1979; SciPy's
``qmc.LatinHypercube``, seeded). At every sample point both plans (each a dict of dotted
overrides: the levers) are run on the same seeds (common random numbers), so the outcome
``difference = KPI(A) - KPI(B)`` compares the plans, not two draws of noise; with
``replications > 1`` it is the mean over the replications. A point is "of interest" when A
loses (``difference < 0``).

PRIM, the patient rule induction method (Friedman & Fisher 1999), as implemented in the EMA
Workbench (Kwakkel 2017; ``ema_workbench.analysis.prim.Prim``), then peels the hypercube
down to boxes where A mostly loses, as in scenario discovery (Bryant & Lempert 2010). For a
box, ``coverage`` is the share of all losing points that fall inside it, ``density`` the
share of points inside it that lose, ``mass`` the share of all points inside it. From each
peeling trajectory the box reported is the one of largest coverage whose density reaches
``threshold`` (the usual trade-off choice, made here automatically); further boxes are
searched among the points left outside, up to ``max_boxes``.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy.stats import qmc

from scenarios import Scenario, ScenarioError, with_overrides
from simulation.io import write_atomic

from .sensitivity import (
    Evaluate,
    Uncertainty,
    build,
    check_uncertainties,
    child_seed,
    json_records,
    kpi_values,
    point_overrides,
    run_seeds,
    serial_evaluate,
)

PlanModel = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
"""Maps a parameter matrix (points, parameters) to the KPI of plan A and of plan B."""


@dataclass(frozen=True)
class DiscoveryResult:
    """The sampled points, the boxes PRIM found and their peeling trajectories.

    ``points``: one row per sample point, the parameter values, ``a`` and ``b`` (the KPI of
    each plan), ``difference`` (a - b) and ``a_loses``. ``boxes``: one row per (box,
    parameter) with the box's ``coverage``, ``density``, ``mass``, the parameter's range
    ``low``..``high`` inside the box and whether the box ``restricted`` it. ``trajectory``:
    each box's peeling and pasting steps, ``selected`` marking the reported one.
    """

    kpi: str
    points: pd.DataFrame
    boxes: pd.DataFrame
    trajectory: pd.DataFrame
    settings: dict[str, Any]

    @property
    def share_a_loses(self) -> float:
        """Share of sample points where plan A's KPI is below plan B's."""
        return float(self.points["a_loses"].mean())

    def restricted(self) -> pd.DataFrame:
        """Only the restricted ranges of each box (the box's definition)."""
        return self.boxes[self.boxes["restricted"]].reset_index(drop=True)

    def to_json(self, path: str | Path) -> None:
        """Write settings, base rate and boxes as JSON, atomically (temp file, then rename)."""
        payload = {"kpi": self.kpi, "settings": self.settings,
                   "share_a_loses": self.share_a_loses, "boxes": json_records(self.boxes)}
        text = json.dumps(payload, indent=2)
        write_atomic(Path(path), lambda p: p.write_text(text, encoding="utf-8"))

    def plot(self) -> Figure:
        """Peeling trajectories: density against coverage, the reported boxes circled."""
        fig = Figure(figsize=(5.5, 4.0), layout="constrained")
        ax = fig.subplots()
        for box, steps in self.trajectory.groupby("box"):
            ax.plot(steps["coverage"], steps["density"], marker=".", label=f"box {box}")
            chosen = steps[steps["selected"]]
            ax.scatter(chosen["coverage"], chosen["density"], s=120, facecolors="none",
                       edgecolors="black", zorder=3)
        ax.axhline(self.settings["threshold"], color="grey", linestyle="--",
                   label="density threshold")
        ax.set_xlabel("coverage")
        ax.set_ylabel("density")
        ax.set_xlim(0, 1.02)
        ax.set_ylim(0, 1.02)
        ax.set_title(f"where plan A loses on {self.kpi} (base rate {self.share_a_loses:.2f})")
        ax.legend(loc="lower left")
        return fig


def discover(scenario: Scenario, uncertainties: Sequence[Uncertainty],
             plan_a: Mapping[str, Any], plan_b: Mapping[str, Any], *, kpi: str = "profit",
             n: int = 200, seed: int = 0, population: int | None = None,
             threshold: float = 0.8, evaluate: Evaluate | None = None,
             replications: int = 1, max_boxes: int = 3, progress: bool = True
             ) -> DiscoveryResult:
    """Find the regions of ``uncertainties`` where ``plan_a`` loses to ``plan_b`` on ``kpi``.

    Runs ``2 n replications`` campaigns, all on the same ``replications`` seeds. Plans are
    dicts of dotted overrides (e.g. ``{"channels.video.budget": 300.0}``) and may not touch
    an uncertain path. ``population`` runs a rescaled market (``simulation.rescale``).
    """
    integer = check_uncertainties(scenario, uncertainties)
    for name, plan in (("plan_a", plan_a), ("plan_b", plan_b)):
        _check_plan(scenario, name, plan, uncertainties)
    if dict(plan_a) == dict(plan_b):
        raise ValueError("plan_a and plan_b are the same plan; nothing to compare")
    if not isinstance(kpi, str):
        raise ValueError(f"kpi must be one KPI name, got {kpi!r}")
    seeds = run_seeds(seed, replications)
    evaluate = evaluate or partial(serial_evaluate, progress=progress)

    def model(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        runs = []
        for row in x:
            point = point_overrides(uncertainties, integer, row)
            runs += [build(scenario, {**point, **plan}, population)
                     for plan in (plan_a, plan_b) for _ in seeds]
        summaries = evaluate(runs, seeds * (2 * len(x)))
        if len(summaries) != len(runs):
            raise ValueError(f"evaluate returned {len(summaries)} results for {len(runs)} runs")
        values = kpi_values(summaries, [kpi])[kpi].reshape(len(x), 2, len(seeds)).mean(axis=2)
        return values[:, 0], values[:, 1]

    def rounded(x: np.ndarray) -> np.ndarray:
        return np.where(integer, np.round(x), x)

    result = discover_function([u.path for u in uncertainties],
                               [(u.low, u.high) for u in uncertainties],
                               model, n=n, seed=seed,
                               threshold=threshold, max_boxes=max_boxes, kpi=kpi,
                               transform=rounded)
    ranges = [{"path": u.path, "low": u.low, "high": u.high} for u in uncertainties]
    settings = {**result.settings, "scenario": scenario.name, "plan_a": dict(plan_a),
                "plan_b": dict(plan_b), "replications": replications,
                "population": population, "uncertainties": ranges}
    return DiscoveryResult(kpi, result.points, result.boxes, result.trajectory, settings)


def discover_function(names: Sequence[str], bounds: Sequence[tuple[float, float]],
                      model: PlanModel, *, n: int = 200, seed: int = 0,
                      threshold: float = 0.8, max_boxes: int = 3, kpi: str = "outcome",
                      transform: Callable[[np.ndarray], np.ndarray] | None = None
                      ) -> DiscoveryResult:
    """The numerical core of ``discover``: Latin hypercube, ``model``, then PRIM.

    ``transform`` maps the sampled matrix to the values recorded (e.g. rounding integers).
    """
    if not isinstance(n, int) or n < 10:
        raise ValueError(f"n must be an integer >= 10 sample points, got {n!r}")
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold (minimum box density) must be in (0, 1], got {threshold}")
    if not isinstance(max_boxes, int) or max_boxes < 1:
        raise ValueError(f"max_boxes must be an integer >= 1, got {max_boxes!r}")
    if not names or len(names) != len(bounds):
        raise ValueError(f"need one (low, high) per parameter: {len(names)} names, "
                         f"{len(bounds)} bounds")
    lows, highs = np.array(bounds, dtype=float).T
    unit = qmc.LatinHypercube(d=len(names), rng=np.random.default_rng(child_seed(seed, 0)))
    x = qmc.scale(unit.random(n), lows, highs)
    a, b = (np.asarray(v, dtype=float) for v in model(x))
    if a.shape != (n,) or b.shape != (n,):
        raise ValueError(f"model returned shapes {a.shape} and {b.shape}, expected ({n},)")
    shown = transform(x) if transform is not None else x
    points = pd.DataFrame(shown.copy(), columns=list(names))
    points["a"], points["b"] = a, b
    points["difference"] = a - b
    points["a_loses"] = points["difference"] < 0
    boxes, trajectory = prim_boxes(points[list(names)], points["a_loses"].to_numpy(),
                                   threshold=threshold, max_boxes=max_boxes)
    settings = {"n": n, "seed": seed, "threshold": threshold, "max_boxes": max_boxes}
    return DiscoveryResult(kpi, points, boxes, trajectory, settings)


def prim_boxes(x: pd.DataFrame, interesting: np.ndarray, *, threshold: float = 0.8,
               max_boxes: int = 3, peel_alpha: float = 0.05, mass_min: float = 0.05
               ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """PRIM boxes of the points where ``interesting`` holds: (boxes, trajectory) tables."""
    box_columns = ["box", "coverage", "density", "mass", "parameter", "low", "high",
                   "restricted"]
    steps_columns = ["box", "step", "coverage", "density", "mass", "res_dim", "selected"]
    interesting = np.asarray(interesting, dtype=bool)
    x = x.astype(float).reset_index(drop=True)
    if not interesting.any():
        return pd.DataFrame(columns=box_columns), pd.DataFrame(columns=steps_columns)
    if interesting.all():  # PRIM needs both classes; the answer is the whole space
        whole = [(1, 1.0, 1.0, 1.0, name, float(x[name].min()), float(x[name].max()), False)
                 for name in x.columns]
        return (pd.DataFrame(whole, columns=box_columns),
                pd.DataFrame([(1, 0, 1.0, 1.0, 1.0, 0, True)], columns=steps_columns))
    with warnings.catch_warnings():  # the workbench warns about optional backends on import
        warnings.simplefilter("ignore")
        from ema_workbench.analysis.prim import Prim

    box_rows, step_rows = [], []
    with warnings.catch_warnings():  # the workbench's own pandas deprecations, not ours
        warnings.filterwarnings("ignore", message="The inplace keyword")
        prim = Prim(x, interesting.astype(int), threshold=threshold, peel_alpha=peel_alpha,
                    mass_min=mass_min)
    init = prim.box_init
    for number in range(1, max_boxes + 1):
        box = prim.find_box()
        if box is None or box.density < threshold:
            break  # PRIM returned its "dump box": no further box reaches the threshold
        steps = box.peeling_trajectory.reset_index(drop=True)
        ok = steps[steps["density"] >= threshold]
        chosen = int(ok.sort_values(["coverage", "density"], ascending=False).index[0])
        box.select(chosen)
        for i, step in steps.iterrows():
            step_rows.append((number, i, step["coverage"], step["density"], step["mass"],
                              int(step["res_dim"]), i == chosen))
        limits = box.box_lims[chosen]
        for name in x.columns:
            low, high = float(limits.at[0, name]), float(limits.at[1, name])
            restricted = low > init.at[0, name] or high < init.at[1, name]
            box_rows.append((number, float(box.coverage), float(box.density), float(box.mass),
                             name, low, high, bool(restricted)))
    return (pd.DataFrame(box_rows, columns=box_columns),
            pd.DataFrame(step_rows, columns=steps_columns))


def _check_plan(scenario: Scenario, name: str, plan: Mapping[str, Any],
                uncertainties: Sequence[Uncertainty]) -> None:
    if not isinstance(plan, Mapping):
        raise ValueError(f"{name} must be a dict of dotted overrides, got {plan!r}")
    overlap = sorted(set(plan) & {u.path for u in uncertainties})
    if overlap:
        raise ValueError(f"{name} sets uncertain paths {overlap}; a plan holds levers only")
    try:
        with_overrides(scenario, plan)
    except ScenarioError as exc:
        raise ValueError(f"{name}: {exc}") from None
