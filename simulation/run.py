"""``run(scenario, seed=...)``: one campaign from a validated scenario to a ``RunResult``."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from scenarios import Scenario, with_overrides
from scenarios.schema import GENERATIONS, TIERS, KocSeeding, KolPost

from . import pacing
from .model import CampaignModel, Holdout
from .network import ROLE_KOC, ROLE_KOL
from .population import Population
from .result import RunResult
from .social import SocialProof


def consumer_table(population: Population) -> pd.DataFrame:
    return pd.DataFrame({
        "generation": pd.Categorical.from_codes(population.generation, categories=GENERATIONS),
        "tier": pd.Categorical.from_codes(population.tier, categories=TIERS),
        "consent": population.consent,
        "existing_customer": population.existing_customer,
    })


def rescale(scenario: Scenario, population: int) -> Scenario:
    """The same market with ``population`` consumers: budgets and capacities scale with it.

    A scenario's budgets are for its own population; a run at another size keeps spend per
    consumer, so KPIs per consumer are comparable across sizes. KOL audiences and the number
    of seeded KOCs scale too, so a post reaches the same share of the market.
    """
    factor = population / scenario.market.population
    changes: dict = {"market.population": population}
    for ch in scenario.channels:
        changes[f"channels.{ch.name}.budget"] = ch.budget * factor
        if ch.daily_impressions is not None:
            changes[f"channels.{ch.name}.daily_impressions"] = ch.daily_impressions * factor
    if scenario.network is not None:
        changes["network.kol_mean_followers"] = max(
            1.0, scenario.network.kol_mean_followers * factor)
    for e in scenario.calendar.events:
        if isinstance(e, KolPost) and e.budget is not None:
            changes[f"calendar.events.{e.name}.budget"] = e.budget * factor
        if isinstance(e, KocSeeding):
            changes[f"calendar.events.{e.name}.accounts"] = max(1, round(e.accounts * factor))
    return with_overrides(scenario, changes)


def run(scenario: Scenario, seed: int | None = None, *, population: int | None = None,
        engine: str = "array", social: SocialProof | None = None,
        log_touchpoints: bool = True, holdouts: Sequence[Holdout] = ()) -> RunResult:
    """Simulate ``scenario`` once.

    Parameters
    ----------
    scenario
        A validated scenario (``scenarios.load``).
    seed
        Seed of every random stream of the run; default: the scenario's ``seed``.
    population
        Simulate this many consumers instead, scaling budgets and capacities to match.
    engine
        ``"array"`` (column arrays, fast) or ``"agents"`` (one Mesa agent per consumer, the
        reference; small populations only).
    holdouts
        Consumers withheld from channels for a time (``simulation.model.Holdout``).
    """
    if population is not None and population != scenario.market.population:
        scenario = rescale(scenario, population)
    seed = scenario.seed if seed is None else int(seed)
    started = time.perf_counter()
    model = CampaignModel(scenario, seed, engine=engine, social=social,
                          log_touchpoints=log_touchpoints, holdouts=holdouts)
    model.run()
    return world_result(model, 0, wall_seconds=time.perf_counter() - started)


def run_batch(scenarios: Sequence[Scenario], seeds: Sequence[int], *,
              population: int | None = None, record_every: int = 24,
              holdouts: Sequence[Holdout] = (), paired: bool = False,
              log_touchpoints: bool = False) -> Batch:
    """Simulate K worlds in one pass: world ``w`` is ``scenarios[w]`` with ``seeds[w]``.

    Each world is statistically the run ``run(scenarios[w], seeds[w])`` would give
    (``simulation.worlds``); with ``paired`` each world draws from its own run's streams,
    so it is exactly that run (``Batch.result(w)`` equals ``run(...)``'s result with
    ``record_every=1`` and the same ``log_touchpoints``): plans compared on one seed keep
    their common random numbers in any grouping. The batch records by ``record_every``
    hours (a day by default) and keeps no touchpoint log unless asked. ``Batch.daily`` gives (K, days) arrays, and
    ``Batch.daily_by_product`` (K, products, days) ones for orders and GMV;
    ``Batch.result(w)`` one world's ``RunResult``. ``holdouts`` masks cover the batch's
    consumers, world by world.
    """
    scenarios = [rescale(s, population) if population is not None
                 and population != s.market.population else s for s in scenarios]
    started = time.perf_counter()
    model = CampaignModel(scenarios=list(scenarios), seeds=[int(s) for s in seeds],
                          log_touchpoints=log_touchpoints, record_every=record_every,
                          holdouts=holdouts, paired=paired)
    model.run()
    return Batch(model, time.perf_counter() - started)


@dataclass(frozen=True)
class Batch:
    """The outcome of ``run_batch``: K worlds' metrics with a world axis."""

    model: CampaignModel
    wall_seconds: float

    @property
    def k(self) -> int:
        return self.model.worlds.k

    def metric(self, name: str) -> np.ndarray:
        """(K, slots, sources) totals of metric ``name`` (``metrics.METRICS``)."""
        values = self.model.recorder.values[name]
        slots, sources, _ = values.shape
        return values.reshape(slots, sources, self.k, -1).sum(axis=3).transpose(2, 0, 1)

    def daily(self, name: str) -> np.ndarray:
        """(K, days) daily totals of metric ``name`` over every source."""
        per_slot = self.metric(name).sum(axis=2)
        every = self.model.recorder.every
        days = self.model.scenario.calendar.days
        if every == 24:
            return per_slot
        day_of_slot = np.arange(per_slot.shape[1]) * every // 24
        return np.stack([np.bincount(day_of_slot, weights=row, minlength=days)
                         for row in per_slot])

    def daily_by_product(self, name: str) -> np.ndarray:
        """(K, products, days) daily ``"orders"`` or ``"gmv"`` of each of the scenario's own
        products (``Scenario.own_products``), from the order log.

        An order is logged exactly where the metric counts it (a presale deposit when its
        balance is paid, a forfeited one never), so the sum over products is
        ``daily(name)``.
        """
        if name not in ("orders", "gmv"):
            raise ValueError(f"per-product series exist for 'orders' and 'gmv', not {name!r}")
        consumer, hour, _, product, price, units, *_ = self.model.recorder.order_log()
        scenario = self.model.scenario
        own = np.cumsum([not p.competitor for p in scenario.products]) - 1
        product = own[product]  # competitors' sales are never logged
        products = len(scenario.own_products)
        days = self.model.scenario.calendar.days
        cell = (self.model.worlds.world[consumer] * products + product) * days + hour // 24
        weights = None if name == "orders" else price * units
        counts = np.bincount(cell, weights=weights, minlength=self.k * products * days)
        return counts.astype(np.float64).reshape(self.k, products, days)

    def totals(self, name: str) -> np.ndarray:
        """(K,) campaign totals of metric ``name``."""
        return self.daily(name).sum(axis=1)

    def result(self, w: int) -> RunResult:
        """World ``w`` as a ``RunResult`` (its tables at the batch's recording step)."""
        return world_result(self.model, w, wall_seconds=self.wall_seconds / self.k)


def world_result(model: CampaignModel, w: int, *, wall_seconds: float) -> RunResult:
    """World ``w`` of a finished model as a ``RunResult``."""
    worlds, rec = model.worlds, model.recorder
    scenario = worlds.scenarios[w]
    block = slice(int(worlds.offsets[w]), int(worlds.offsets[w + 1]))
    population = Population(**{f.name: getattr(worlds.population, f.name)[block]
                               for f in fields(Population)})
    network = cascades = None
    if model.graph is not None:
        g, social = model.graph, model.social
        table = social.cascade_table()
        mine = (table["root"] >= block.start) & (table["root"] < block.stop)
        cascades = table[mine]
        local = np.full(len(table) + 1, -1, dtype=np.int32)  # batch's cascade -> world's
        local[np.flatnonzero(mine)] = np.arange(len(cascades), dtype=np.int32)
        cascades = cascades.assign(cascade=local[cascades["cascade"]],
                                   root=cascades["root"] - block.start).reset_index(drop=True)
        lo, hi = g.indptr[block.start], g.indptr[block.stop]
        network = {"nodes": block.stop - block.start, "ties": int(hi - lo),
                   "kols": int((g.role[block] == ROLE_KOL).sum()),
                   "kocs": int((g.role[block] == ROLE_KOC).sum()),
                   "influenced": int(social.influenced[block].sum()),
                   "group_buy_rewards": int(social.rewards[w]), "warnings": [m for v, m in social.warnings if v == w]}
    phase_names = [p.name for p in scenario.calendar.phases]
    controller = model.budget_controller
    whole = worlds.k == 1
    orders = rec.orders(model.sources, [p.name for p in scenario.products],
                        block=None if whole else block)
    if cascades is not None and not whole:
        orders["cascade"] = local[orders["cascade"].to_numpy()]  # -1 stays -1 (the last)
    return RunResult(
        scenario=scenario,
        seed=worlds.seeds[w],
        engine=model.engine,
        timeseries=rec.timeseries(phase_names, pacing.phase_index(scenario), world=w),
        orders=orders,
        touchpoints=rec.touchpoints(model.sources, block=None if whole else block),
        consumers=consumer_table(population),
        reached_consumers=int(model.reached[block].any(axis=1).sum()),
        wall_seconds=wall_seconds,
        cascades=cascades,
        network=network,
        budget_decisions=None if controller is None else controller.table(),
    )
