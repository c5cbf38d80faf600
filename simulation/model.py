"""The Mesa model of one campaign: consumers, channels and the calendar, hour by hour.

``CampaignModel`` owns the population, the random streams and the recorder. Each tick
(``step``; an hour unless ``calendar.tick_hours`` says otherwise) every channel buys
impressions with its paced budget under its cost model (commission and owned channels serve
their capacity instead) and delivers them to consumers drawn by affinity and targeting;
clicks and own-need visits then trigger purchase decisions. The consumers' rules run in
one of two interchangeable backends: ``ArrayConsumers`` (column arrays, the default) or
``AgentConsumers`` (one Mesa agent per consumer, the reference).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import mesa
import numpy as np
import simpy

from scenarios.schema import (
    GENERATIONS,
    TIERS,
    CostModel,
    CouponDrop,
    KocSeeding,
    KolPost,
    Presale,
    Scenario,
)
from scenarios.social import SOCIAL_SOURCES

from . import fused
from . import network as graphs
from . import pacing
from .budget_control import start_budget_control
from .calendar import CalendarHooks, CalendarState, Quote, quote, run_clock, start_calendar
from .diffusion import SocialNetwork
from .edgelist import load_edges
from .engine import ArrayConsumers
from .metrics import Recorder
from .outcomes import Alternative, Decision, Delivery, Offer, Purchases
from .population import grouped
from .reference import AgentConsumers
from .shelf import Shelf, category_members
from .social import NoNetwork, SocialProof
from .streams import BatchStreams, Draws, Streams
from .worlds import Worlds
from .worlds import build as build_worlds

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

ENGINES = {"array": ArrayConsumers, "agents": AgentConsumers}
ORGANIC = "organic"
MIN_OBSERVED_IMPRESSIONS = 1000  # before a CPC channel trusts its own observed CTR


@dataclass(frozen=True)
class Holdout:
    """Consumers a channel never serves during hours ``start_hour`` to ``end_hour`` (a lift
    test's control group): ``excluded`` is a bool per consumer of the run (or batch).

    The channel still draws its impressions as usual (the same random numbers as without the
    holdout); those that land on an excluded consumer are not delivered. ``paid``: they are
    bought all the same (a public-service ad in their place, so the budget's pacing and what
    the other consumers see do not change); else the channel saves their cost. The
    public-service ad fills only the slots the channel's ad would have: consent, opt-outs
    and the daily frequency cap apply to it and it counts against the cap
    (``ArrayConsumers.placeholder``). Charging every withheld impression instead, capped or
    not, overspends on the control and starves the treated of the carried-over budget (8%
    fewer impressions to them in silver_wechat_crm's members' days, docs/lift_tests.md).
    """

    channel: str
    excluded: np.ndarray
    start_hour: int
    end_hour: int
    paid: bool = True

    def keep(self, ids: np.ndarray, hour: int) -> np.ndarray:
        """Which of ``ids`` the channel may serve at ``hour``."""
        if not self.start_hour <= hour < self.end_hour:
            return np.ones(len(ids), dtype=bool)
        return ~self.excluded[ids]


class ChannelSampler:
    """Draws the consumers who receive a channel's impressions, by affinity x targeting,
    each world's impressions among its own consumers.

    A consumer's weight depends only on its cell (generation x tier), so a draw is two
    steps: impressions split over a world's cells multinomially (cell weight x cell size),
    then uniformly over the cell's members: no search over the population.
    """

    def __init__(self, worlds: Worlds):
        self.worlds = worlds
        pop = worlds.population
        n_cells = len(GENERATIONS) * len(TIERS)
        cell = worlds.world.astype(np.int64) * n_cells + pop.segment
        self._members, self._start, size = grouped(cell, worlds.k * n_cells)
        self._size = size.reshape(worlds.k, n_cells)
        self._scratch = np.zeros(len(self._members), dtype=np.int64)  # fused.unique_counts
        self._p, self._mean_weight = [], []
        for c in range(len(worlds.scenario.channels)):
            weight = np.array([[_cell_weight(s.channels[c], g, t)
                                for g in GENERATIONS for t in TIERS]
                               for s in worlds.scenarios]) * self._size
            total = weight.sum(axis=1, keepdims=True)
            self._p.append(np.divide(weight, total, out=np.zeros_like(weight),
                                     where=total > 0))
            self._mean_weight.append(total[:, 0] / np.maximum(self._size.sum(axis=1), 1))

    def mean_weight(self, channel: int) -> np.ndarray:
        """(K,) mean sampling weight per consumer of each world."""
        return self._mean_weight[channel]

    def sample(self, channel: int, n: np.ndarray, *, rng: Draws):
        """Unique consumer ids and impressions each, for ``n[w]`` impressions in world w."""
        p = self._p[channel]
        n = np.where(p.sum(axis=1) > 0, n, 0)
        if n.sum() <= 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        per_cell = rng.multinomial(n, p)
        ids = fused.draw_members(per_cell.ravel(), self._start, self._size.ravel(),
                                 rng.random_per_world(per_cell.sum(axis=1)), self._members)
        if len(ids) < len(self._members) // 4:  # a sort is the cheaper count
            return fused.radix_unique_counts(ids, len(self._members))
        return fused.unique_counts(ids, self._scratch)


def _cell_weight(channel, generation: str, tier: str) -> float:
    """A channel's sampling weight of one generation x tier cell (0 outside targeting)."""
    if generation not in channel.targeting.generations or tier not in channel.targeting.tiers:
        return 0.0
    return channel.affinity[generation] * channel.tier_affinity[tier]


class CampaignModel(mesa.Model):
    """One campaign run. ``run()`` drives it through the SimPy calendar."""

    def __init__(self, scenario: Scenario | None = None, seed: int | None = None, *,
                 engine: str = "array", social: SocialProof | None = None,
                 log_touchpoints: bool = True, scenarios: list[Scenario] | None = None,
                 seeds: list[int] | None = None, record_every: int = 1,
                 holdouts: Sequence[Holdout] = (), paired: bool = False):
        """One run (``scenario``, ``seed``), or a batch of worlds (``scenarios``, ``seeds``,
        one seed per world; ``simulation.worlds``); ``holdouts`` withhold channels from
        groups of consumers (lift tests). ``paired``: each world of the batch draws from its
        own run's streams (``streams.BatchStreams``)."""
        if scenarios is None:
            scenarios, seeds = [scenario], [seed]
        worlds = build_worlds(scenarios, seeds)
        self.streams = BatchStreams(worlds.batch_seed, worlds.seeds, worlds.world,
                                    worlds.offsets, paired=paired)
        super().__init__(rng=self.streams.shared("mesa"))
        self.worlds = worlds
        scenario = worlds.scenario
        self.scenario, self.seed, self.engine = scenario, worlds.batch_seed, engine
        self.population = worlds.population
        if engine not in ENGINES:
            raise ValueError(f"engine must be one of {sorted(ENGINES)}, got {engine!r}")
        self.consumers = ENGINES[engine](worlds, model=self)
        self.log_touchpoints = log_touchpoints

        self.channel_names = [c.name for c in scenario.channels]
        self.sources = self.channel_names + [ORGANIC]
        self.organic = len(self.channel_names)
        if scenario.network is not None:
            self.sources += list(SOCIAL_SOURCES)
        self.hours = scenario.calendar.hours
        self.recorder = Recorder(self.hours, self.sources, worlds.segment,
                                 n_worlds=worlds.k, every=record_every)
        self.graph = None
        if social is None and scenario.network is not None:
            self.graph = graphs.stack([follow_graph(s, worlds, w)
                                       for w, s in enumerate(worlds.scenarios)])
            social = SocialNetwork(worlds, self.graph, recorder=self.recorder,
                                   first_source=self.organic + 1, streams=self.streams)
        self.social = social or NoNetwork()
        self.sampler = ChannelSampler(worlds)
        self.holdouts = _holdouts_by_channel(holdouts, self.channel_names, worlds)
        self.tick = scenario.calendar.tick_hours
        self.hour_weight = pacing.per_tick(pacing.hour_weights(scenario), self.tick)
        # (worlds, channels, hours) plans: each world paces its own budgets; a step at hour h
        # reads its whole tick at index h
        self.spend_plan = pacing.per_tick(_per_world(pacing.spend_plan, worlds), self.tick)
        self.capacity = pacing.per_tick(_per_world(pacing.impression_capacity, worlds),
                                        self.tick)
        # Undelivered budget carries over, but no more than the last 24 hours' plan: an
        # audience capped out today does not get a day's worth of ads in one hour later.
        self.day_plan = pacing.trailing_day(self.spend_plan)
        n_ch, k = len(scenario.channels), worlds.k
        self.remaining = np.array([[c.budget for c in s.channels] for s in worlds.scenarios],
                                  dtype=np.float64)
        self.carry = np.zeros((k, n_ch))
        self.served = np.zeros((k, n_ch))
        self.clicks = np.zeros((k, n_ch))
        self.cost = [worlds.values(lambda s, c=c: s.channels[c].cost) for c in range(n_ch)]
        self.prior_ctr = [worlds.values(lambda s, c=c: s.channels[c].ctr) for c in range(n_ch)]
        self.reached = np.zeros((self.population.size, n_ch), dtype=bool)
        self.product_of = [scenario.channel_product(c) for c in scenario.channels]
        self.shelf = Shelf.of(worlds.scenarios)
        self.members = category_members(scenario)
        self.leads = sorted({int(m[0]) for m in self.members})
        self.promoted = promoted_products(scenario)
        self.deposits: dict[str, list] = {}
        self.deposit_state: dict[str, list] = {}  # each deposit's buyers before it

        self.env = simpy.Environment()
        self.calendar = CalendarState()
        hooks = CalendarHooks(coupon_drop=self._coupon_drop, deposits_due=self._deposits_due,
                              social_post=self._social_post)
        start_calendar(self.env, scenario, self.calendar, hooks)
        self.budget_controller = start_budget_control(self.env, self)
        self.hour = 0
        self._quotes: dict[int, Quote] = {}  # product: its quote this step

    # -- the hour --------------------------------------------------------------------
    def run(self) -> None:
        run_clock(self.env, self._tick, self.hours, self.tick)

    def _tick(self, hour: int) -> None:
        self.hour = hour
        self.step()

    def step(self) -> None:
        hour = self.hour
        self._quotes.clear()
        self.consumers.begin_hour(hour)
        clicked = []
        for c in range(len(self.channel_names)):
            delivery = self._serve(c, hour)
            if delivery is not None:
                clicked.append((c, delivery.ids[delivery.clicked]))
        for c, ids in clicked:
            self._decide(ids, self.product_of[c], c, hour)
        for p in self.leads:
            visits = self.consumers.own_need(p, hour, self.hour_weight[hour],
                                             rng=self.streams("need"))
            alone = len(self.members[p]) == 1  # a visit to a lone product's category is for it
            self._decide(visits, p, self.organic, hour, promoted=alone or self.promoted[p])
        for trigger in self.social.due(hour):
            self._decide(trigger.ids, trigger.product, trigger.source, hour,
                         discount=trigger.discount, certain=trigger.certain)

    # -- channels ------------------------------------------------------------------------
    def _serve(self, c: int, hour: int) -> Delivery | None:
        """Channel ``c``'s impressions this hour in every world that still has budget (or
        that owns it)."""
        ch = self.scenario.channels[c]
        rng = self.streams(f"channel:{ch.name}")
        # an owned channel has no budget to run out of
        active = (self.remaining[:, c] > 0) | (ch.cost_model is CostModel.owned)
        if not active.any():
            return None
        carry = self.carry[:, c]
        if not ch.reach_bought:
            wanted = self.capacity[:, c, hour] + carry
            n = np.where(active, wanted.astype(np.int64), 0)
            carry[active] = (wanted - n)[active]
            affordable = np.zeros(self.worlds.k)
        else:
            affordable = np.minimum(self.spend_plan[:, c, hour] + carry, self.remaining[:, c])
            unit = (self.cost[c] / 1000 if ch.cost_model is CostModel.cpm
                    else self.cost[c] * self._ctr(c))
            n = np.where(active, (affordable / unit).astype(np.int64), 0)
            idle = active & (n == 0)
            carry[idle] = np.minimum(affordable, self.day_plan[:, c, hour])[idle]
        if not n.any():
            return None
        ids, counts = self.sampler.sample(c, n, rng=rng)
        withheld = np.zeros(self.worlds.k)  # paid for, not delivered (a lift test's control)
        for holdout in self.holdouts.get(c, ()):
            keep = holdout.keep(ids, hour)
            if holdout.paid:  # the slots the ads would have filled, frequency cap and all
                placed = self.consumers.placeholder(c, ids[~keep], counts[~keep])
                withheld += self.worlds.sum_by_world(ids[~keep], placed)
            ids, counts = ids[keep], counts[keep]
        d = self.consumers.receive(c, ids, counts, hour, rng=rng)
        shown = self._quote(self.product_of[c], hour)
        live = self.calendar.live_discount.get(c, 0.0)
        self.consumers.see_price(d.ids, self.product_of[c], shown.price * (1 - live))
        worlds = self.worlds
        impressions = worlds.sum_by_world(d.ids, d.impressions)
        self.served[:, c] += impressions
        self.clicks[:, c] += worlds.sum_by_world(d.ids[d.clicked])  # before the CPC limit
        if ch.cost_model is CostModel.cpc:
            d = _limit_clicks(d, (affordable // self.cost[c]).astype(np.int64), worlds, rng)
            cost = worlds.sum_by_world(d.ids[d.clicked]) * self.cost[c]
        elif ch.cost_model is CostModel.cpm:
            cost = impressions * self.cost[c] / 1000
        else:
            cost = np.zeros(worlds.k)
        if ch.reach_bought:
            cost = np.minimum(cost + withheld * unit, np.maximum(affordable, cost))
            served = n > 0
            carry[served] = np.minimum(affordable - cost, self.day_plan[:, c, hour])[served]
        self._charge(c, hour, cost, d.ids)

        rec = self.recorder
        rec.add("impressions", hour, c, d.ids, d.impressions)
        rec.add("reach", hour, c, fused.first_reach(d.ids, self.reached, c))
        rec.add("clicks", hour, c, d.ids[d.clicked])
        rec.add("complaints", hour, c, d.complained)
        rec.add("optouts", hour, c, d.opted_out)
        if self.log_touchpoints:
            rec.log_touchpoints(hour, c, d.ids, d.impressions, d.clicked)
        return d

    def _ctr(self, c: int) -> np.ndarray:
        """(K,) expected clicks per impression: observed once there is enough data, else
        the prior."""
        served, clicks = self.served[:, c], self.clicks[:, c]
        prior = np.maximum(self.prior_ctr[c] * self.sampler.mean_weight(c), 1e-6)
        observed = np.divide(clicks, served, out=np.zeros_like(clicks), where=served > 0)
        return np.where((served >= MIN_OBSERVED_IMPRESSIONS) & (clicks > 0), observed, prior)

    def _charge(self, c: int, hour: int, cost: np.ndarray, ids: np.ndarray) -> None:
        """Charge each world's ``cost`` to channel ``c`` (never beyond its remaining budget)."""
        cost = np.minimum(cost, self.remaining[:, c])
        self.remaining[:, c] -= cost
        self.recorder.add_total("spend", hour, c, cost, ids)

    # -- decisions -------------------------------------------------------------------
    def _decide(self, ids: np.ndarray, product: int, source: int, hour: int, *,
                discount: float = 0.0, certain: bool = False, promoted: bool = True) -> None:
        """Choice in ``product``'s category by consumers triggered through ``source``;
        ``discount`` is a source-specific deal on ``product`` (a livestream's, or a group-buy
        joiner's)."""
        if len(ids) == 0:
            return
        live = source in self.calendar.live_discount
        offer = Offer(
            product=product,
            quote=self._quote(product, hour),
            live_discount=self.calendar.live_discount.get(source, discount),
            live=live,
            shift=self.calendar.utility_shift,
            price_floor=self._floor(product),
            hour=hour,
            certain=certain,
            promoted=promoted,
            rivals=tuple(Alternative(q, self._quote(q, hour), 0.0, False, self._floor(q),
                                     self.promoted[q])
                         for q in self.members[product].tolist() if q != product),
        )
        rng = self.streams(f"decide:{self.sources[source]}")
        before = {q: self.consumers.purchase_state(ids, q) for q in self.members[product].tolist()
                  if q in self.calendar.presale}
        decision = self.consumers.decide(ids, offer, self.social.proof(ids, hour), rng=rng)
        self._record_decisions(decision, source, hour)
        for q, bought in decision.bought.items():
            if self.scenario.products[q].competitor:
                self.recorder.add("competitor_orders", hour, source, bought.ids)
                continue
            presale = self.calendar.presale.get(q)
            if presale is None:
                self.social.after_purchases(bought, hour, source, q)
                self._record_orders(bought, source, q, hour)
                continue
            # a deposit: the order, its word of mouth and sharing wait for the balance payment
            self.deposits.setdefault(presale.name, []).append((source, q, bought))
            order = np.argsort(ids, kind="stable")
            self.deposit_state.setdefault(presale.name, []).append(
                before[q].take(order[np.searchsorted(ids[order], bought.ids)]))
            self.recorder.add("deposits", hour, source, bought.ids)

    def _quote(self, product: int, hour: int) -> Quote:
        """``calendar.quote`` of ``product`` at ``hour``, computed once per step: the
        calendar's state holds still while a step runs (its processes run between steps)."""
        if product not in self._quotes:
            self._quotes[product] = quote(self.scenario, self.calendar, self.shelf, product,
                                          hour)
        return self._quotes[product]

    def _floor(self, product: int) -> float:
        return 0.01 * self.scenario.products[product].list_price

    def _record_decisions(self, decision: Decision, source: int, hour: int) -> None:
        rec = self.recorder
        rec.add("decisions", hour, source, decision.ids)
        rec.add("decisions_loss", hour, source, decision.ids[decision.faced_loss])
        rec.add("decisions_anchor", hour, source, decision.ids[decision.anchored])

    def _record_orders(self, bought: Purchases, source: int, product: int, hour: int) -> None:
        rec = self.recorder
        gmv = bought.price * bought.units
        unit_cost = self.scenario.products[product].unit_cost
        rec.add("orders", hour, source, bought.ids)
        rec.add("units", hour, source, bought.ids, bought.units)
        rec.add("gmv", hour, source, bought.ids, gmv)
        rec.add("margin", hour, source, bought.ids, (bought.price - unit_cost) * bought.units)
        rec.add("new_buyers", hour, source, bought.ids[bought.new_customer])
        rec.add("returning_buyers", hour, source, bought.ids[~bought.new_customer])
        rec.log_orders(hour, source, product, bought.ids, bought.price, bought.units,
                       bought.new_customer, self.social.lineage(bought.ids, source))
        if source < self.organic:
            ch = self.scenario.channels[source]
            if ch.cost_model is CostModel.commission:
                rate = np.asarray(self.cost[source])  # scalar, or (K,) per world
                self._charge(source, hour, rate * self.worlds.sum_by_world(bought.ids, gmv),
                             bought.ids)

    # -- calendar hooks --------------------------------------------------------------
    def _coupon_drop(self, event: CouponDrop) -> None:
        rng = self.streams(f"event:{event.name}")
        offsets = self.worlds.offsets
        ids = np.concatenate([
            start + np.sort(rng.generator(w).choice(n, size=int(round(event.share * n)),
                                                    replace=False))
            for w, (start, n) in enumerate(zip(offsets[:-1], np.diff(offsets), strict=True))])
        names = [p.name for p in self.scenario.products]
        products = [names.index(event.product)] if event.product else range(len(names))
        for p in products:
            self.consumers.give_coupons(ids, p, event.value, event.end_hour)

    def _social_post(self, event: KolPost | KocSeeding) -> None:
        self.social.post(event)

    def _deposits_due(self, event: Presale) -> None:
        """Balance hour: each deposit completes (an order) or is forfeited (undone)."""
        rng = self.streams(f"event:{event.name}")
        hour = event.balance_at
        states = self.deposit_state.pop(event.name, [])
        for (source, product, bought), state in zip(self.deposits.pop(event.name, []), states,
                                                    strict=True):
            paid = rng.random(bought.ids) >= event.dropout
            completed = Purchases(bought.ids[paid], bought.price[paid], bought.units[paid],
                                  bought.new_customer[paid])
            self.consumers.restore(bought.ids[~paid], product, state.take(~paid))
            if len(completed.ids):
                self.social.after_purchases(completed, hour, source, product)
            self._record_orders(completed, source, product, hour)


def promoted_products(scenario: Scenario) -> list[bool]:
    """Products the campaign speaks for (a channel, a social event or the group buy names
    them): only their alternatives carry its awareness and social proof."""
    names = [p.name for p in scenario.products]
    named = {names[scenario.channel_product(c)] for c in scenario.channels}
    for e in scenario.calendar.events:
        if isinstance(e, KolPost | KocSeeding):
            named.add(e.product or names[0])
    gb = scenario.network.group_buy if scenario.network else None
    if gb is not None:
        named.update([gb.product] if gb.product else names)
    return [n in named for n in names]


def _holdouts_by_channel(holdouts, names: list[str], worlds: Worlds) -> dict[int, list]:
    """Holdouts by channel index, checked against the channels and the population size."""
    out: dict[int, list] = {}
    for h in holdouts:
        if h.channel not in names:
            raise ValueError(f"holdout of unknown channel {h.channel!r}; channels: {names}")
        if h.excluded.shape != (worlds.population.size,) or h.excluded.dtype != bool:
            raise ValueError(f"holdout mask of {h.channel!r} must be {worlds.population.size} "
                             f"bools (one per consumer), got {h.excluded.dtype} "
                             f"{h.excluded.shape}")
        out.setdefault(names.index(h.channel), []).append(h)
    return out


def _per_world(plan: Callable[[Scenario], np.ndarray], worlds: Worlds) -> np.ndarray:
    """Each world's ``plan`` of its scenario, stacked: computed once per scenario object (a
    batch often repeats one)."""
    plans: dict[int, np.ndarray] = {}
    for s in worlds.scenarios:
        if id(s) not in plans:
            plans[id(s)] = plan(s)
    return np.stack([plans[id(s)] for s in worlds.scenarios])


def follow_graph(scenario: Scenario, worlds: Worlds, w: int) -> graphs.FollowGraph:
    """World ``w``'s follow graph: loaded from ``network.edges``, else generated from the
    world's own seed (its nodes numbered within the world)."""
    settings = scenario.network
    block = slice(worlds.offsets[w], worlds.offsets[w + 1])
    n = int(worlds.offsets[w + 1] - worlds.offsets[w])
    if settings.edges is not None:
        return load_edges(settings.edges, n, settings)
    rng = Streams(worlds.seeds[w])("network:graph")
    return graphs.generate(worlds.population.segment[block], settings, rng=rng)


def _limit_clicks(d: Delivery, max_clicks: np.ndarray, worlds: Worlds, rng: Draws
                  ) -> Delivery:
    """Drop clicks beyond what each world's remaining CPC budget pays for (at random)."""
    idx = np.flatnonzero(d.clicked)
    per_world = worlds.sum_by_world(d.ids[idx]).astype(np.int64)
    over = np.flatnonzero(per_world > max_clicks)
    if len(over) == 0:
        return d
    clicked = d.clicked.copy()
    click_world = worlds.world[d.ids[idx]]
    for w in over:
        mine = idx[click_world == w]
        clicked[mine] = False
        clicked[rng.generator(w).choice(mine, size=max_clicks[w], replace=False)] = True
    return Delivery(d.ids, d.impressions, clicked, d.complained, d.opted_out)
