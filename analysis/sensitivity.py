"""Global sensitivity of campaign KPIs to uncertain scenario parameters (Sobol', Morris).

An ``Uncertainty`` is a dotted scenario path and the range it may take. Each method samples
the unit box of the uncertainties, runs the campaign at every sample point and summarises
how much of a KPI's variation each parameter explains:

- ``sobol``: variance-based indices with Saltelli's sampling (Saltelli 2002; Saltelli et al.
  2010, "Variance based sensitivity analysis of model output", Comput. Phys. Commun. 181).
  With ``V = Var(Y)``, the first-order index ``S1_i = Var(E[Y | X_i]) / V`` is the share
  of variance explained by ``X_i`` alone, the total index ``ST_i = E[Var(Y | X_~i)] / V``
  the share that involves ``X_i`` in any interaction (Homma & Saltelli 1996). ``N (d + 2)``
  runs for ``d`` uncertainties; confidence intervals are bootstrap intervals from SALib.
- ``morris``: elementary effects on ``n`` one-at-a-time trajectories (Morris 1991;
  Campolongo, Cariboni & Saltelli 2007): ``mu_star`` is the mean absolute effect (a
  screening measure of importance), ``sigma`` the spread of effects (non-linearity or
  interaction). ``n (d + 1)`` runs.

Both use common random numbers: every sample point is run with the same seeds (one per
replication, spawned from ``seed`` with ``SeedSequence``), so KPI differences between points
come from the parameters, not from sampling noise; with ``replications > 1`` the KPI at a
point is the mean over the replications. The sampling and the bootstrap draw their own
streams from the same seed. The numerical core (``sobol_indices``, ``morris_indices``)
takes any vectorised model of a parameter matrix, which is how the tests hold it against the
Ishigami function's analytic indices. Runs go through ``evaluate(scenarios, seeds)``; the
default runs them one after another with a progress bar, and another module can pass a
parallel runner instead.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from tqdm.auto import tqdm

import simulation
from scenarios import Scenario, ScenarioError, with_overrides
from simulation.io import write_atomic

from .seeds import replication_seeds

Evaluate = Callable[[list[Scenario], list[int]], list[dict]]
"""Runs scenarios with seeds (same length) and returns one KPI summary dict per run."""

Model = Callable[[np.ndarray], Mapping[str, np.ndarray]]
"""Maps a parameter matrix of shape (points, parameters) to ``{kpi: values (points,)}``."""


@dataclass(frozen=True)
class Uncertainty:
    """A scenario field (dotted path, e.g. ``"channels.search.budget"``) and its range."""

    path: str
    low: float
    high: float

    def __post_init__(self) -> None:
        if not isinstance(self.path, str) or not self.path.strip():
            raise ValueError(f"an uncertainty needs a dotted scenario path, got {self.path!r}")
        for bound in (self.low, self.high):
            if not isinstance(bound, int | float) or not math.isfinite(bound):
                raise ValueError(f"uncertainty {self.path!r}: bounds must be finite numbers, "
                                 f"got low={self.low!r}, high={self.high!r}")
        if self.low >= self.high:
            raise ValueError(f"uncertainty {self.path!r}: low ({self.low}) must be below "
                             f"high ({self.high})")


@dataclass(frozen=True)
class SensitivityResult:
    """Indices of one method, the runs behind them and the settings that produced them.

    ``indices`` is tidy: one row per (kpi, parameter, index) with its ``value`` and ``conf``
    (half-width of the bootstrap confidence interval; NaN where SALib gives none).
    ``samples`` holds one row per sample point: the parameter values, then each KPI.
    """

    method: str
    indices: pd.DataFrame
    samples: pd.DataFrame
    settings: dict[str, Any]

    def to_json(self, path: str | Path) -> None:
        """Write method, settings and indices as JSON, atomically (temp file, then rename)."""
        payload = {"method": self.method, "settings": self.settings,
                   "indices": json_records(self.indices)}
        text = json.dumps(payload, indent=2)
        write_atomic(Path(path), lambda p: p.write_text(text, encoding="utf-8"))

    def plot(self) -> Figure:
        """Bar chart of the indices per KPI (one panel each), with confidence error bars."""
        kpis = list(dict.fromkeys(self.indices["kpi"]))
        names = list(dict.fromkeys(self.indices["parameter"]))
        shown = ["S1", "ST"] if self.method == "sobol" else ["mu_star", "sigma"]
        fig = Figure(figsize=(4.5 * len(kpis), 3.0 + 0.15 * len(names)), layout="constrained")
        axes = fig.subplots(1, len(kpis), squeeze=False)[0]
        x = np.arange(len(names))
        width = 0.8 / len(shown)
        for ax, kpi in zip(axes, kpis, strict=True):
            table = self.indices[self.indices["kpi"] == kpi].set_index(["index", "parameter"])
            for j, index in enumerate(shown):
                rows = table.loc[index].reindex(names)
                conf = rows["conf"].to_numpy(dtype=float)
                ax.bar(x + (j - (len(shown) - 1) / 2) * width, rows["value"], width,
                       yerr=None if np.isnan(conf).all() else conf, capsize=3, label=index)
            ax.set_xticks(x, names, rotation=30, ha="right")
            ax.set_title(kpi)
            ax.axhline(0.0, color="black", linewidth=0.6)
            ax.legend()
        fig.suptitle(f"{self.method} sensitivity")
        return fig


def sobol(scenario: Scenario, uncertainties: Sequence[Uncertainty],
          kpis: Sequence[str] = ("gmv", "profit"), n: int = 64, replications: int = 1,
          seed: int = 0, population: int | None = None, evaluate: Evaluate | None = None,
          progress: bool = True) -> SensitivityResult:
    """Sobol' first-order and total indices of ``kpis`` over ``uncertainties``.

    Runs ``n (d + 2) * replications`` campaigns (``n`` a power of two, as the Sobol'
    sequence needs). ``population`` runs a rescaled market (``simulation.rescale``); the
    uncertainty ranges stay in the scenario's own units.
    """
    model = _simulator(scenario, uncertainties, kpis, replications, seed, population,
                       evaluate, progress)
    result = sobol_indices([u.path for u in uncertainties],
                           [(u.low, u.high) for u in uncertainties], model, n=n, seed=seed)
    return _with_settings(result, uncertainties, replications=replications,
                          population=population, scenario=scenario.name)


def morris(scenario: Scenario, uncertainties: Sequence[Uncertainty],
           kpis: Sequence[str] = ("gmv", "profit"), n: int = 20, num_levels: int = 4,
           replications: int = 1, seed: int = 0, population: int | None = None,
           evaluate: Evaluate | None = None, progress: bool = True) -> SensitivityResult:
    """Morris elementary effects (``mu_star``, ``sigma``, ``mu``) on ``n`` trajectories.

    Runs ``n (d + 1) * replications`` campaigns on a ``num_levels`` grid.
    """
    model = _simulator(scenario, uncertainties, kpis, replications, seed, population,
                       evaluate, progress)
    result = morris_indices([u.path for u in uncertainties],
                            [(u.low, u.high) for u in uncertainties], model, n=n,
                            num_levels=num_levels, seed=seed)
    return _with_settings(result, uncertainties, replications=replications,
                          population=population, scenario=scenario.name)


def sobol_indices(names: Sequence[str], bounds: Sequence[tuple[float, float]], model: Model,
                  *, n: int = 64, seed: int = 0, conf_level: float = 0.95,
                  num_resamples: int = 200) -> SensitivityResult:
    """Sobol' indices of a vectorised ``model`` (SALib ``sample.sobol`` + ``analyze.sobol``)."""
    from SALib.analyze import sobol as analyze
    from SALib.sample import sobol as sample

    if n < 2 or n & (n - 1):
        raise ValueError(f"n must be a power of two >= 2 for Sobol' sampling, got {n}")
    problem = _problem(names, bounds)
    x = sample.sample(problem, n, calc_second_order=False, seed=child_seed(seed, 0))
    outputs = _outputs(model, x)
    rows = []
    for kpi, y in outputs.items():
        with np.errstate(divide="ignore", invalid="ignore"):
            si = analyze.analyze(problem, y, calc_second_order=False,
                                 num_resamples=num_resamples, conf_level=conf_level,
                                 seed=child_seed(seed, 1))
        for index in ("S1", "ST"):
            rows += [(kpi, name, index, float(si[index][i]), float(si[f"{index}_conf"][i]))
                     for i, name in enumerate(problem["names"])]
    return SensitivityResult("sobol", _table(rows), _samples(problem, x, outputs),
                             {"n": n, "seed": seed, "conf_level": conf_level,
                              "num_resamples": num_resamples})


def morris_indices(names: Sequence[str], bounds: Sequence[tuple[float, float]], model: Model,
                   *, n: int = 20, num_levels: int = 4, seed: int = 0,
                   conf_level: float = 0.95, num_resamples: int = 200) -> SensitivityResult:
    """Morris indices of a vectorised ``model`` (SALib ``sample.morris`` + ``analyze.morris``)."""
    from SALib.analyze import morris as analyze
    from SALib.sample import morris as sample

    if n < 2:
        raise ValueError(f"n (Morris trajectories) must be >= 2, got {n}")
    if num_levels < 2 or num_levels % 2:
        raise ValueError(f"num_levels must be an even number >= 2, got {num_levels}")
    problem = _problem(names, bounds)
    x = sample.sample(problem, n, num_levels=num_levels, seed=child_seed(seed, 0))
    outputs = _outputs(model, x)
    rows = []
    for kpi, y in outputs.items():
        si = analyze.analyze(problem, x, y, num_resamples=num_resamples,
                             conf_level=conf_level, num_levels=num_levels,
                             seed=child_seed(seed, 1))
        for i, name in enumerate(problem["names"]):
            rows += [(kpi, name, "mu_star", float(si["mu_star"][i]),
                      float(si["mu_star_conf"][i])),
                     (kpi, name, "sigma", float(si["sigma"][i]), math.nan),
                     (kpi, name, "mu", float(si["mu"][i]), math.nan)]
    return SensitivityResult("morris", _table(rows), _samples(problem, x, outputs),
                             {"n": n, "num_levels": num_levels, "seed": seed,
                              "conf_level": conf_level, "num_resamples": num_resamples})


# Shared with ``analysis.discovery``: checking uncertainties, seeds, building and running.

def check_uncertainties(scenario: Scenario, uncertainties: Sequence[Uncertainty]) -> list[bool]:
    """Validate ``uncertainties`` against ``scenario``; return which fields are integers.

    Raises ``ValueError`` for an empty list, a non-``Uncertainty`` item, a repeated path, or a
    path or bound the scenario refuses (with the scenario's own message). Integer fields
    (e.g. ``frequency_cap``) get their sampled values rounded.
    """
    if isinstance(uncertainties, Uncertainty) or not isinstance(uncertainties, Sequence):
        raise ValueError("uncertainties must be a list of Uncertainty(path, low, high)")
    if not uncertainties:
        raise ValueError("no uncertainties given; pass at least one Uncertainty(path, low, "
                         "high)")
    paths = []
    for u in uncertainties:
        if not isinstance(u, Uncertainty):
            raise ValueError(f"expected Uncertainty(path, low, high), got {u!r}")
        paths.append(u.path)
    repeated = sorted({p for p in paths if paths.count(p) > 1})
    if repeated:
        raise ValueError(f"each uncertainty path may appear once; repeated: {repeated}")
    integer = []
    for u in uncertainties:
        for bound in (u.low, u.high):
            try:
                changed = with_overrides(scenario, {u.path: bound})
            except ScenarioError as exc:
                raise ValueError(f"uncertainty {u.path!r} (value {bound}): {exc}") from None
        value = _read_path(changed.model_dump(), u.path)
        integer.append(isinstance(value, int) and not isinstance(value, bool))
    return integer


def child_seed(seed: int, i: int) -> int:
    """A sampler's seed from stream ``i`` of ``seed`` (never 0: SALib treats a zero seed as
    "unseeded")."""
    return replication_seeds(seed, 1, stream=i)[0] + 1


def run_seeds(seed: int, replications: int) -> list[int]:
    """One run seed per replication, shared by every sample point (common random numbers):
    stream 2 of ``seed`` (streams 0 and 1 seed the samplers)."""
    return replication_seeds(seed, replications, stream=2)


def build(scenario: Scenario, overrides: Mapping[str, Any],
          population: int | None = None) -> Scenario:
    """``scenario`` with ``overrides``, rescaled to ``population`` consumers if given."""
    try:
        changed = with_overrides(scenario, overrides)
    except ScenarioError as exc:
        raise ValueError(f"the sample point {dict(overrides)} is not a valid scenario: "
                         f"{exc}") from None
    if population is not None and population != changed.market.population:
        changed = simulation.rescale(changed, population)
    return changed


def point_overrides(uncertainties: Sequence[Uncertainty], integer: Sequence[bool],
                    row: np.ndarray) -> dict[str, float | int]:
    """The overrides of one sample point (integer fields rounded)."""
    return {u.path: (round(float(v)) if is_int else float(v))
            for u, is_int, v in zip(uncertainties, integer, row, strict=True)}


def serial_evaluate(scenarios: list[Scenario], seeds: list[int], *,
                    progress: bool = True) -> list[dict]:
    """The default ``evaluate``: each scenario run once in this process, as paired batches
    of worlds (each world exactly its own ``simulation.run``), with a progress bar."""
    from .experiments.runner import batches
    from .experiments.tasks import RunTask, simulate_batch

    tasks = [RunTask("point", s, int(seed)) for s, seed in zip(scenarios, seeds, strict=True)]
    summaries = []
    with tqdm(total=len(tasks), desc="runs", unit="run", disable=not progress) as bar:
        for group in batches(tasks):
            summaries += [r.summary for r in simulate_batch(group)]
            bar.update(len(group))
    return summaries


def kpi_values(summaries: list[dict], kpis: Sequence[str]) -> dict[str, np.ndarray]:
    """``{kpi: array over runs}`` from run summaries; ValueError naming the known KPIs."""
    known = sorted(k for k, v in summaries[0].items()
                   if isinstance(v, int | float) and not isinstance(v, bool))
    out = {}
    for kpi in kpis:
        if kpi not in known:
            raise ValueError(f"unknown KPI {kpi!r}; run summaries have: {', '.join(known)}")
        out[kpi] = np.array([np.nan if s[kpi] is None else s[kpi] for s in summaries],
                            dtype=float)
    return out


def _simulator(scenario: Scenario, uncertainties: Sequence[Uncertainty], kpis: Sequence[str],
               replications: int, seed: int, population: int | None,
               evaluate: Evaluate | None, progress: bool) -> Model:
    """The campaign as a ``Model``: a parameter matrix to KPI means over replications."""
    integer = check_uncertainties(scenario, uncertainties)
    if isinstance(kpis, str) or not kpis or len(set(kpis)) != len(kpis):
        raise ValueError(f"kpis must be a non-empty list of distinct KPI names, got {kpis!r}")
    seeds = run_seeds(seed, replications)
    evaluate = evaluate or partial(serial_evaluate, progress=progress)

    def model(x: np.ndarray) -> dict[str, np.ndarray]:
        points = [build(scenario, point_overrides(uncertainties, integer, row), population)
                  for row in x]
        runs = [s for s in points for _ in seeds]
        summaries = evaluate(runs, seeds * len(points))
        if len(summaries) != len(runs):
            raise ValueError(f"evaluate returned {len(summaries)} results for {len(runs)} runs")
        values = kpi_values(summaries, kpis)
        return {k: v.reshape(len(points), len(seeds)).mean(axis=1) for k, v in values.items()}

    return model


def _with_settings(result: SensitivityResult, uncertainties: Sequence[Uncertainty],
                   **settings: Any) -> SensitivityResult:
    ranges = [{"path": u.path, "low": u.low, "high": u.high} for u in uncertainties]
    return SensitivityResult(result.method, result.indices, result.samples,
                             {**result.settings, **settings, "uncertainties": ranges})


def _problem(names: Sequence[str], bounds: Sequence[tuple[float, float]]) -> dict[str, Any]:
    if not names or len(names) != len(bounds):
        raise ValueError(f"need one (low, high) per parameter: {len(names)} names, "
                         f"{len(bounds)} bounds")
    return {"num_vars": len(names), "names": list(names),
            "bounds": [[float(lo), float(hi)] for lo, hi in bounds]}


def _outputs(model: Model, x: np.ndarray) -> dict[str, np.ndarray]:
    outputs = {k: np.asarray(v, dtype=float) for k, v in model(x).items()}
    for kpi, y in outputs.items():
        if y.shape != (len(x),):
            raise ValueError(f"model output {kpi!r} has shape {y.shape}, expected ({len(x)},)")
    return outputs


def _table(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["kpi", "parameter", "index", "value", "conf"])


def _samples(problem: dict, x: np.ndarray, outputs: dict[str, np.ndarray]) -> pd.DataFrame:
    table = pd.DataFrame(x.copy(), columns=problem["names"])
    for kpi, y in outputs.items():
        table[kpi] = y.copy()
    return table


def json_records(table: pd.DataFrame) -> list[dict]:
    """Rows as JSON-ready dicts, NaN as null."""
    return [{k: (None if isinstance(v, float) and not math.isfinite(v) else
                 v.item() if isinstance(v, np.generic) else v) for k, v in row.items()}
            for row in table.to_dict(orient="records")]


def _read_path(raw: Any, dotted: str) -> Any:
    """The value at ``dotted`` in a dumped scenario (list items by ``name`` or index)."""
    node = raw
    for key in dotted.split("."):
        if isinstance(node, dict):
            node = node.get(key)
        elif isinstance(node, list | tuple):
            named = [it for it in node if isinstance(it, dict) and it.get("name") == key]
            node = named[0] if named else node[int(key)] if key.isdigit() else None
        else:
            return None
    return node
