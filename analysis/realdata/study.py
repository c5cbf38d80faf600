"""The held-out comparison on Dominick's orange juice: the agent model against the
regression a planner has (figures: docs/real_market.md).

Two tests, the same models and scores (:mod:`.metrics`):

- ``forecast``: fit weeks ``first..fit_last`` (40-120), forecast ``fit_last+1..last``
  (121-160) for the scored brands (5, 1 and 8) in every store;
- ``deals``: in a random 20% of the stores (seeded), hold out the scored brands' deal weeks
  and the week after each; fit on everything else.

Models: the fixed-effects log-log regression and the per-store mean (:mod:`.baselines`), and
the agent model (:mod:`.agent`) with its pooled price sensitivity and loss aversion fitted by
the log density of the training rows of the forecast test (a likelihood-free fit; reference
smoothing stays at its prior's centre): a coarse grid, a finer grid around the maximum of a
quadratic surface through it, and the maximum of the surface through both
(:mod:`.surface`); each store's grid is one batch of worlds.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from analysis.calibration.data import DataError

from .agent import AgentForecast, simulate_grid
from .baselines import fit_fixed_effects, fit_store_mean
from .metrics import elasticities, log_density, score
from .oj import OJPanel
from .stores import Pooled
from .surface import Point, Surface, refined_grid

SCORED = (5, 1, 8)


@dataclass(frozen=True)
class Design:
    first: int = 40
    fit_last: int = 120
    last: int = 160
    stores: int | None = None  # the first n stores (all: None)
    brands: tuple[int, ...] = SCORED
    deal_share: float = 0.2
    population: int = 500
    grid: tuple[float, ...] = (1.0, 3.0, 6.0)  # price sensitivities
    loss_grid: tuple[float, ...] = (0.1, 0.5, 1.0)  # loss aversions (2 and 3 fit worse: docs)
    refine: bool = True  # a finer grid and the surface's maximum after the coarse grid
    seed: int = 0
    cores: int | None = None  # processes for the store simulations (all available)

    def points(self) -> list[tuple[float, float]]:
        """The fit grid: (price sensitivity, loss aversion) pairs."""
        return [(p, la) for p in self.grid for la in self.loss_grid]


def restrict(panel: OJPanel, design: Design) -> OJPanel:
    t = panel.table
    t = t[t.week.between(design.first, design.last)]
    if design.stores is not None:
        t = t[t.store.isin(np.unique(t.store)[: design.stores])]
    fitted = t[t.week <= design.fit_last].store.unique()
    unfitted = np.setdiff1d(t.store.unique(), fitted)
    if len(unfitted):  # its base demand (the agent's offset, the store effect) is unknown
        first = t[t.store == unfitted[0]].week.min()
        raise DataError(panel.source, "week", None, f"store {unfitted[0]} has no weeks to "
                        f"fit ({design.first}-{design.fit_last}; its first is week {first}); "
                        "drop the store or fit later weeks")
    return OJPanel(panel.source, t.reset_index(drop=True), panel.demographics)


def forecast_split(table: pd.DataFrame, design: Design) -> tuple[pd.DataFrame, pd.DataFrame]:
    test = (table.week > design.fit_last) & table.brand.isin(design.brands)
    return table[table.week <= design.fit_last], table[test]


def deal_split(table: pd.DataFrame, design: Design) -> tuple[pd.DataFrame, pd.DataFrame]:
    stores = np.unique(table.store)
    rng = np.random.default_rng(design.seed)
    held = rng.choice(stores, max(1, round(design.deal_share * len(stores))), replace=False)
    test = (table.store.isin(held) & table.brand.isin(design.brands)
            & ((table.deal == 1) | (table.lag_deal == 1)))
    return table[~test], table[test]


@dataclass(frozen=True)
class Study:
    table: pd.DataFrame  # (test, model) x scores
    elasticities: dict[str, pd.DataFrame]  # model -> brand x price, on the forecast rows
    best: Point  # (price sensitivity, loss aversion) the forecasts use
    grid_lpd: dict[Point, float]  # training lpd of every point evaluated, in order
    stationary: bool  # best is the fitted surface's maximum (False: the best point evaluated)
    seconds: float
    simulated: pd.DataFrame  # the chosen parameters' simulated ``store, week, brand, z``


def run_study(panel: OJPanel, design: Design) -> Study:
    start = time.perf_counter()
    panel = restrict(panel, design)
    t = panel.table
    stores = np.unique(t.store)
    splits = {"forecast": forecast_split(t, design), "deals": deal_split(t, design)}
    fit_train = splits["forecast"][0]
    simulated: dict[Point, pd.DataFrame] = {}
    grid_lpd: dict[Point, float] = {}

    def evaluate(points: list[Point]) -> None:
        points = [p for p in points if p not in simulated]
        if not points:
            return
        runs = simulate_grid(panel, stores, [replace(Pooled(), price_sensitivity=p,
                                                     loss_aversion=la) for p, la in points],
                             population=design.population, seed=design.seed,
                             cores=design.cores)
        for point, sim in zip(points, runs, strict=True):
            simulated[point] = sim
            grid_lpd[point] = float(log_density(AgentForecast(sim, fit_train).predict(
                fit_train), fit_train.logmove.to_numpy()).mean())

    coarse = design.points()
    evaluate(coarse)
    best, stationary = max(grid_lpd, key=grid_lpd.get), False
    if design.refine and len(grid_lpd) >= 6:
        centre, _ = Surface.fit(grid_lpd).maximum()
        evaluate(refined_grid(centre, coarse))
        best, stationary = Surface.fit(grid_lpd).maximum()
        best = (round(best[0], 4), round(best[1], 4))
        evaluate([best])
    rows, slopes = [], {}
    for split, (train, test) in splits.items():
        models = {"agent": AgentForecast(simulated[best], train).predict,
                  "regression": fit_fixed_effects(train).predict,
                  "store_mean": fit_store_mean(train).predict}
        # deal lift and dip of the held-out deals against the same stores' ordinary weeks
        around = t[t.store.isin(test.store.unique()) & t.brand.isin(design.brands)]
        for name, predict in models.items():
            effects = (predict(around), around) if split == "deals" else None
            rows.append({"test": split, "model": name, "rows": len(test),
                         **score(predict(test), test, effects)})
            if split == "forecast" and name != "agent":
                slopes[name] = elasticities(predict, test, brands=design.brands)
    # the agent model's elasticities: the regression fitted to its own simulated series
    sim = t.merge(simulated[best], on=["store", "week", "brand"]).assign(
        logmove=lambda f: f.z).drop(columns="z")
    sim_train, sim_test = forecast_split(sim, design)
    slopes["agent"] = elasticities(fit_fixed_effects(sim_train).predict, sim_test,
                                   brands=design.brands)
    table = pd.DataFrame(rows).set_index(["test", "model"])
    return Study(table, slopes, best, grid_lpd, stationary, time.perf_counter() - start,
                 simulated[best])


def markdown(study: Study, design: Design) -> str:
    """The comparison table and the elasticities as Markdown (fixed-width tables in code
    blocks)."""
    cols = ["rows", "lpd", "interval_score", "coverage90", "rmse", "deal_lift_error",
            "after_dip_error", "deal_lift_observed", "after_dip_observed"]
    lines = [f"Design: {design}", "",
             f"Agent model (price sensitivity, loss aversion): {study.best} ("
             + ("maximum of the quadratic surface of the training lpd" if study.stationary
                else "best point evaluated") + f"); coarse grid {list(design.grid)} x "
             f"{list(design.loss_grid)}; training lpd per point: "
             + ", ".join(f"{k}: {v:.3f}" for k, v in study.grid_lpd.items()),
             f"Wall time: {study.seconds:.0f} s", "", _block(study.table[cols].round(3)),
             "", "Own- and cross-price elasticities (rows: brand, columns: price) on the "
             "forecast rows:"]
    for name, frame in study.elasticities.items():
        lines += ["", f"**{name}**", "", _block(frame.round(2))]
    return "\n".join(lines) + "\n"


def _block(frame: pd.DataFrame) -> str:
    return "```\n" + frame.to_string() + "\n```"
