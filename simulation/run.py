"""``run(scenario, seed=...)``: one campaign from a validated scenario to a ``RunResult``."""

from __future__ import annotations

import time

import pandas as pd

from scenarios import Scenario, with_overrides
from scenarios.schema import GENERATIONS, TIERS, KocSeeding, KolPost

from . import pacing
from .model import CampaignModel
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
        log_touchpoints: bool = True) -> RunResult:
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
    """
    if population is not None and population != scenario.market.population:
        scenario = rescale(scenario, population)
    seed = scenario.seed if seed is None else int(seed)
    started = time.perf_counter()
    model = CampaignModel(scenario, seed, engine=engine, social=social,
                          log_touchpoints=log_touchpoints)
    model.run()
    rec = model.recorder
    network = cascades = None
    if model.graph is not None:
        g, social = model.graph, model.social
        cascades = social.cascade_table()
        network = {"nodes": g.n, "ties": g.n_edges, "kols": int((g.role == 1).sum()),
                   "kocs": int((g.role == 2).sum()), "influenced": int(social.influenced.sum()),
                   "group_buy_rewards": social.rewards, "warnings": social.warnings}
    phase_names = [p.name for p in scenario.calendar.phases]
    controller = model.budget_controller
    return RunResult(
        scenario=scenario,
        seed=seed,
        engine=engine,
        timeseries=rec.timeseries(phase_names, pacing.phase_index(scenario)),
        orders=rec.orders(model.sources, [p.name for p in scenario.products]),
        touchpoints=rec.touchpoints(model.sources),
        consumers=consumer_table(model.population),
        reached_consumers=int(model.reached.any(axis=1).sum()),
        wall_seconds=time.perf_counter() - started,
        cascades=cascades,
        network=network,
        budget_decisions=None if controller is None else controller.table(),
    )
