"""The Mesa model of one campaign: consumers, channels and the calendar, hour by hour.

``CampaignModel`` owns the population, the random streams and the recorder. Each hour
(``step``) every channel buys impressions with its paced budget under its cost model and
delivers them to consumers drawn by affinity and targeting; clicks and own-need visits then
trigger purchase decisions. The consumers' rules run in one of two interchangeable
backends: ``ArrayConsumers`` (column arrays, the default) or ``AgentConsumers`` (one Mesa
agent per consumer, the reference).
"""

from __future__ import annotations

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

from . import network as graphs
from . import pacing
from .budget_control import start_budget_control
from .calendar import CalendarHooks, CalendarState, quote, run_clock, start_calendar
from .diffusion import SocialNetwork
from .edgelist import load_edges
from .engine import ArrayConsumers
from .metrics import Recorder
from .outcomes import Delivery, Offer, Purchases
from .population import draw_population
from .reference import AgentConsumers
from .social import NoNetwork, SocialProof
from .streams import Streams

ENGINES = {"array": ArrayConsumers, "agents": AgentConsumers}
ORGANIC = "organic"
MIN_OBSERVED_IMPRESSIONS = 1000  # before a CPC channel trusts its own observed CTR


class ChannelSampler:
    """Draws the consumers who receive a channel's impressions, by affinity x targeting."""

    def __init__(self, scenario: Scenario, population):
        self._cumulative = []
        for ch in scenario.channels:
            gen_w = np.array([ch.affinity[g] if g in ch.targeting.generations else 0.0
                              for g in GENERATIONS])
            tier_w = np.array([ch.tier_affinity[t] if t in ch.targeting.tiers else 0.0
                               for t in TIERS])
            weight = gen_w[population.generation] * tier_w[population.tier]
            self._cumulative.append(np.cumsum(weight))

    def mean_weight(self, channel: int) -> float:
        cw = self._cumulative[channel]
        return float(cw[-1] / len(cw)) if len(cw) else 0.0

    def sample(self, channel: int, n: int, *, rng: np.random.Generator):
        """Unique consumer ids and impressions each, for ``n`` impressions."""
        cw = self._cumulative[channel]
        if n <= 0 or cw[-1] <= 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        ids = np.searchsorted(cw, rng.random(n) * cw[-1], side="right")
        return np.unique(np.minimum(ids, len(cw) - 1), return_counts=True)


class CampaignModel(mesa.Model):
    """One campaign run. ``run()`` drives it through the SimPy calendar."""

    def __init__(self, scenario: Scenario, seed: int, *, engine: str = "array",
                 social: SocialProof | None = None, log_touchpoints: bool = True):
        self.streams = Streams(seed)
        super().__init__(rng=self.streams("mesa"))
        self.scenario, self.seed, self.engine = scenario, int(seed), engine
        self.population = draw_population(scenario, rng=self.streams("population"))
        if engine not in ENGINES:
            raise ValueError(f"engine must be one of {sorted(ENGINES)}, got {engine!r}")
        self.consumers = ENGINES[engine](scenario, self.population, model=self)
        self.log_touchpoints = log_touchpoints

        self.channel_names = [c.name for c in scenario.channels]
        self.sources = self.channel_names + [ORGANIC]
        self.organic = len(self.channel_names)
        if scenario.network is not None:
            self.sources += list(SOCIAL_SOURCES)
        self.hours = scenario.calendar.hours
        self.recorder = Recorder(self.hours, self.sources, self.population.segment)
        self.graph = None
        if social is None and scenario.network is not None:
            self.graph = follow_graph(scenario, self.population, self.streams)
            social = SocialNetwork(scenario, self.graph, generation=self.population.generation,
                                   recorder=self.recorder, first_source=self.organic + 1,
                                   streams=self.streams)
        self.social = social or NoNetwork()
        self.sampler = ChannelSampler(scenario, self.population)
        self.hour_weight = pacing.hour_weights(scenario)
        self.spend_plan = pacing.spend_plan(scenario)
        self.capacity = pacing.impression_capacity(scenario)
        # Undelivered budget carries over, but no more than the last 24 hours' plan: an
        # audience capped out today does not get a day's worth of ads in one hour later.
        self.day_plan = pacing.trailing_day(self.spend_plan)
        n_ch = len(scenario.channels)
        self.remaining = np.array([c.budget for c in scenario.channels], dtype=np.float64)
        self.carry = np.zeros(n_ch)
        self.served = np.zeros(n_ch)
        self.clicks = np.zeros(n_ch)
        self.reached = np.zeros((self.population.size, n_ch), dtype=bool)
        self.product_of = [scenario.channel_product(c) for c in scenario.channels]
        self.deposits: dict[str, list] = {}

        self.env = simpy.Environment()
        self.calendar = CalendarState()
        hooks = CalendarHooks(coupon_drop=self._coupon_drop, deposits_due=self._deposits_due,
                              social_post=self._social_post)
        start_calendar(self.env, scenario, self.calendar, hooks)
        self.budget_controller = start_budget_control(self.env, self)
        self.hour = 0

    # -- the hour --------------------------------------------------------------------
    def run(self) -> None:
        run_clock(self.env, self._tick, self.hours)

    def _tick(self, hour: int) -> None:
        self.hour = hour
        self.step()

    def step(self) -> None:
        hour = self.hour
        self.consumers.begin_hour(hour)
        clicked = []
        for c in range(len(self.channel_names)):
            delivery = self._serve(c, hour)
            if delivery is not None:
                clicked.append((c, delivery.ids[delivery.clicked]))
        for c, ids in clicked:
            self._decide(ids, self.product_of[c], c, hour)
        for p in range(len(self.scenario.products)):
            visits = self.consumers.own_need(p, hour, self.hour_weight[hour],
                                             rng=self.streams("need"))
            self._decide(visits, p, self.organic, hour)
        for trigger in self.social.due(hour):
            self._decide(trigger.ids, trigger.product, trigger.source, hour,
                         discount=trigger.discount, certain=trigger.certain)

    # -- channels ------------------------------------------------------------------------
    def _serve(self, c: int, hour: int) -> Delivery | None:
        ch = self.scenario.channels[c]
        rng = self.streams(f"channel:{ch.name}")
        if self.remaining[c] <= 0:
            return None
        if ch.cost_model is CostModel.commission:
            wanted = self.capacity[c, hour] + self.carry[c]
            n = int(wanted)
            self.carry[c] = wanted - n
            affordable = 0.0
        else:
            affordable = min(self.spend_plan[c, hour] + self.carry[c], self.remaining[c])
            unit = ch.cost / 1000 if ch.cost_model is CostModel.cpm else ch.cost * self._ctr(c)
            n = int(affordable / unit)
        if n == 0:
            if ch.cost_model is not CostModel.commission:
                self.carry[c] = min(affordable, self.day_plan[c, hour])
            return None
        ids, counts = self.sampler.sample(c, n, rng=rng)
        d = self.consumers.receive(c, ids, counts, hour, rng=rng)
        self.served[c] += d.impressions.sum()
        self.clicks[c] += d.clicked.sum()  # before the CPC budget limit: the true CTR
        if ch.cost_model is CostModel.cpc:
            d = _limit_clicks(d, int(affordable // ch.cost), rng)
            cost = d.clicked.sum() * ch.cost
        elif ch.cost_model is CostModel.cpm:
            cost = d.impressions.sum() * ch.cost / 1000
        else:
            cost = 0.0
        if ch.cost_model is not CostModel.commission:
            self.carry[c] = min(affordable - cost, self.day_plan[c, hour])
        self._charge(c, hour, cost, d.ids)

        rec = self.recorder
        rec.add("impressions", hour, c, d.ids, d.impressions)
        new_reach = d.ids[~self.reached[d.ids, c]]
        self.reached[new_reach, c] = True
        rec.add("reach", hour, c, new_reach)
        rec.add("clicks", hour, c, d.ids[d.clicked])
        rec.add("complaints", hour, c, d.complained)
        rec.add("optouts", hour, c, d.opted_out)
        if self.log_touchpoints:
            rec.log_touchpoints(hour, c, d.ids, d.impressions, d.clicked)
        return d

    def _ctr(self, c: int) -> float:
        """Expected clicks per impression: observed once there is enough data, else prior."""
        if self.served[c] >= MIN_OBSERVED_IMPRESSIONS and self.clicks[c] > 0:
            return self.clicks[c] / self.served[c]
        ch = self.scenario.channels[c]
        return max(ch.ctr * self.sampler.mean_weight(c), 1e-6)

    def _charge(self, c: int, hour: int, cost: float, ids: np.ndarray) -> None:
        cost = min(cost, self.remaining[c])
        self.remaining[c] -= cost
        self.recorder.add_total("spend", hour, c, cost, ids)

    # -- decisions -------------------------------------------------------------------
    def _decide(self, ids: np.ndarray, product: int, source: int, hour: int, *,
                discount: float = 0.0, certain: bool = False) -> None:
        """Purchase decisions of consumers triggered through ``source``; ``discount`` is a
        source-specific deal (a livestream's, or a group-buy joiner's)."""
        if len(ids) == 0:
            return
        live = source in self.calendar.live_discount
        offer = Offer(
            product=product,
            quote=quote(self.scenario, self.calendar, product, hour),
            live_discount=self.calendar.live_discount.get(source, discount),
            live=live,
            shift=self.calendar.utility_shift,
            price_floor=0.01 * self.scenario.products[product].list_price,
            hour=hour,
            certain=certain,
        )
        rng = self.streams(f"decide:{self.sources[source]}")
        bought = self.consumers.decide(ids, offer, self.social.proof(ids, hour), rng=rng)
        if len(bought.ids) == 0:
            return
        self.social.after_purchases(bought, hour, source, product)
        presale = self.calendar.presale.get(product)
        if presale is not None:
            self.deposits.setdefault(presale.name, []).append((source, product, bought))
            self.recorder.add("deposits", hour, source, bought.ids)
        else:
            self._record_orders(bought, source, product, hour)

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
                self._charge(source, hour, ch.cost * gmv.sum(), bought.ids)

    # -- calendar hooks --------------------------------------------------------------
    def _coupon_drop(self, event: CouponDrop) -> None:
        rng = self.streams(f"event:{event.name}")
        n = self.population.size
        ids = np.sort(rng.choice(n, size=int(round(event.share * n)), replace=False))
        names = [p.name for p in self.scenario.products]
        products = [names.index(event.product)] if event.product else range(len(names))
        for p in products:
            self.consumers.give_coupons(ids, p, event.value, event.end_hour)

    def _social_post(self, event: KolPost | KocSeeding) -> None:
        self.social.post(event)

    def _deposits_due(self, event: Presale) -> None:
        rng = self.streams(f"event:{event.name}")
        hour = event.balance_at
        for source, product, bought in self.deposits.pop(event.name, []):
            paid = rng.random(len(bought.ids)) >= event.dropout
            completed = Purchases(bought.ids[paid], bought.price[paid], bought.units[paid],
                                  bought.new_customer[paid])
            self._record_orders(completed, source, product, hour)


def follow_graph(scenario: Scenario, population, streams: Streams) -> graphs.FollowGraph:
    """The scenario's follow graph: loaded from ``network.edges``, else generated."""
    settings = scenario.network
    if settings.edges is not None:
        return load_edges(settings.edges, population.size, settings)
    return graphs.generate(population.segment, settings, rng=streams("network:graph"))


def _limit_clicks(d: Delivery, max_clicks: int, rng: np.random.Generator) -> Delivery:
    """Drop clicks beyond what the remaining CPC budget pays for (chosen at random)."""
    idx = np.flatnonzero(d.clicked)
    if len(idx) <= max_clicks:
        return d
    clicked = np.zeros_like(d.clicked)
    clicked[rng.choice(idx, size=max_clicks, replace=False)] = True
    return Delivery(d.ids, d.impressions, clicked, d.complained, d.opted_out)
