"""The per-agent reference: one Mesa ``Agent`` per consumer, the same rules one at a time.

It exists to hold the fast engine (``simulation.engine``) to account: both call the
kernels of ``simulation.kernels`` with the same names, but here each consumer decays its own
ad-stock every hour, rolls its own need every hour and decides alone, with scalar draws.
Only for small populations (about 0.25 M agent-steps per second).
"""

from __future__ import annotations

import math

import mesa
import numpy as np

from scenarios.schema import GENERATIONS, TIERS, Behaviour, Channel, Scenario

from . import kernels as k
from .outcomes import Decision, Delivery, Offer, Purchases, PurchaseState
from .population import Population
from .shelf import category_members
from .streams import Draws
from .worlds import Worlds


class ConsumerAgent(mesa.Agent):
    """One consumer: static traits from the population draw, and its own dynamic state."""

    def __init__(self, model: mesa.Model, population: Population, i: int,
                 n_channels: int, n_products: int):
        super().__init__(model)
        self.index = i
        self.generation = int(population.generation[i])
        self.tier = int(population.tier[i])
        for name in ("base_utility", "price_sensitivity", "loss_aversion", "anchoring_weight",
                     "framing_susceptibility", "social_susceptibility", "need_rate"):
            setattr(self, name, float(getattr(population, name)[i]))
        self.contact_tolerance = int(population.contact_tolerance[i])
        self.consent = bool(population.consent[i])
        self.existing_customer = bool(population.existing_customer[i])
        self.reference = [float(r) for r in population.reference_price[i]]
        self.adstock = 0.0
        self.contacts = [0] * n_channels
        self.contacts_total = 0
        self.opted_out = [False] * n_channels
        self.purchases = 0
        self.next_need = [0] * n_products
        self.coupon_value = [0.0] * n_products
        self.coupon_until = [0] * n_products

    def begin_hour(self, hour: int, decay: float) -> None:
        if hour > 0:
            self.adstock *= decay
        if hour % 24 == 0:
            self.contacts = [0] * len(self.contacts)
            self.contacts_total = 0

    def receive(self, c: int, ch: Channel, count: int, behaviour: Behaviour,
                rng: np.random.Generator) -> tuple[int, bool, bool, bool]:
        """(impressions delivered, clicked, complained, opted out) for ``count`` offered."""
        delivered = self.slots(c, ch, count)
        if delivered == 0:
            return 0, False, False, False
        self.adstock += ch.awareness_per_impression * delivered
        before = self.contacts_total
        self.contacts[c] += delivered
        self.contacts_total += delivered
        affinity = ch.affinity[GENERATIONS[self.generation]] * ch.tier_affinity[TIERS[self.tier]]
        clicked = rng.random() < k.click_probability(ch.ctr, affinity, delivered)
        excess = k.excess_contacts(before, delivered, self.contact_tolerance)
        complained = rng.random() < k.complaint_probability(excess,
                                                            behaviour.complaint_probability)
        opted = complained and rng.random() < behaviour.optout_probability
        if opted:
            self.opted_out[c] = True
        return delivered, bool(clicked), bool(complained), bool(opted)

    def slots(self, c: int, ch: Channel, count: int) -> int:
        """How many of ``count`` impressions of channel ``c`` can reach this consumer:
        consent, opt-outs and the daily frequency cap."""
        if self.opted_out[c] or (ch.requires_consent and not self.consent):
            return 0
        return min(count, max(ch.frequency_cap - self.contacts[c], 0))

    def placeholder(self, c: int, ch: Channel, count: int) -> int:
        """Impressions of a public-service ad placed in ``count`` of channel ``c``'s slots
        (as ``ArrayConsumers.placeholder``)."""
        placed = self.slots(c, ch, count)
        self.contacts[c] += placed
        return placed

    def needs(self, product: int, hour: int, hour_weight: float, tick: int,
              rng: np.random.Generator) -> bool:
        """Own-need visit to ``product``'s category in the tick [hour, hour + tick)
        (``product`` its lead): a Poisson arrival, or a repurchase need falling due."""
        visit = rng.random() < k.need_probability(self.need_rate, hour_weight)
        due = hour <= self.next_need[product] < hour + tick
        return bool(visit or (self.purchases > 0 and due))

    def decide(self, offer: Offer, social_proof: float, scenario: Scenario,
               members: list[np.ndarray], rng: np.random.Generator):
        """(faced a loss, saw an anchor, (product, price, units, new customer) or None), or
        None when out of the category's market."""
        hour = offer.hour
        tick = scenario.calendar.tick_hours
        if self.next_need[offer.product] >= hour + tick:
            return None
        behaviour = scenario.behaviour
        alternatives = offer.alternatives()
        utilities, prices, coupons = [], [], []
        faced_loss = anchored = False
        for alt in alternatives:
            q = alt.product
            coupon = self.coupon_value[q] if self.coupon_until[q] > hour else 0.0
            price = float(k.consumer_price(alt.quote.price, alt.live_discount, coupon,
                                           alt.price_floor))
            anchor = alt.quote.anchor
            shown = k.anchored_reference(self.reference[q], anchor, self.anchoring_weight)
            faced_loss = faced_loss or bool(k.faces_loss(price, shown))
            anchored = anchored or not math.isnan(anchor)
            utilities.append(k.decision_utility(
                base=self.base_utility,
                price_sensitivity=self.price_sensitivity,
                loss_aversion=self.loss_aversion,
                anchoring_weight=self.anchoring_weight,
                framing_susceptibility=self.framing_susceptibility,
                social_susceptibility=self.social_susceptibility,
                reference=self.reference[q],
                price=price,
                anchor=anchor,
                limited_time=alt.quote.limited_time or alt.live,
                adstock=self.adstock if alt.promoted else 0.0,
                social_proof=social_proof if alt.promoted else 0.0,
                behaviour=behaviour,
                shift=offer.shift,
            ))
            prices.append(price)
            coupons.append(coupon)
        probabilities = k.choice_probabilities(np.array([utilities]))[0]
        choice = 0 if offer.certain else int(k.chosen_alternative(rng.random(), probabilities))
        for j, alt in enumerate(alternatives):
            weight = (behaviour.reference_smoothing if j == choice
                      else behaviour.reference_smoothing_seen)
            self.reference[alt.product] = float(k.updated_reference(
                self.reference[alt.product], prices[j], weight))
        if choice < 0:
            return faced_loss, anchored, None
        q = alternatives[choice].product
        product = scenario.products[q]
        units = 1 + int(rng.poisson(product.units_per_order - 1))
        new = self.purchases == 0 and not self.existing_customer
        self.purchases += 1
        if coupons[choice] > 0:
            self.coupon_value[q] = 0.0
        delay = float(k.repurchase_delay(rng.weibull(behaviour.repurchase_shape),
                                         product.repurchase_days * 24,
                                         behaviour.repurchase_shape))
        for member in members[q].tolist():
            self.next_need[member] = int(k.due_hour(hour, delay, tick))
        return faced_loss, anchored, (q, prices[choice], units, new)

    def see_price(self, product: int, price: float, weight: float) -> None:
        self.reference[product] = float(k.updated_reference(self.reference[product], price,
                                                            weight))


class AgentConsumers:
    """The reference backend: the same interface as ``ArrayConsumers``, agent by agent."""

    def __init__(self, worlds: Worlds, *, model: mesa.Model):
        if worlds.k != 1:
            raise ValueError("the per-agent reference runs one world at a time")
        scenario, population = worlds.scenario, worlds.population
        self.scenario = scenario
        n_ch, n_pr = len(scenario.channels), len(scenario.products)
        self.agents = [ConsumerAgent(model, population, i, n_ch, n_pr)
                       for i in range(population.size)]
        self.members = category_members(scenario)
        self.tick = scenario.calendar.tick_hours
        self._decay = float(k.adstock_decay(self.tick,
                                            scenario.behaviour.awareness_half_life_hours))

    def begin_hour(self, hour: int) -> None:
        for agent in self.agents:
            agent.begin_hour(hour, self._decay)

    def receive(self, channel: int, ids: np.ndarray, counts: np.ndarray, hour: int, *,
                rng: Draws) -> Delivery:
        ch, rng = self.scenario.channels[channel], rng.single()
        reached, impressions, clicked, complained, opted = [], [], [], [], []
        for i, count in zip(ids.tolist(), counts.tolist(), strict=True):
            n, click, complaint, optout = self.agents[i].receive(
                channel, ch, count, self.scenario.behaviour, rng)
            if n:
                reached.append(i)
                impressions.append(n)
                clicked.append(click)
            if complaint:
                complained.append(i)
            if optout:
                opted.append(i)
        return Delivery(np.array(reached, dtype=np.int64), np.array(impressions, dtype=np.int16),
                        np.array(clicked, dtype=bool), np.array(complained, dtype=np.int64),
                        np.array(opted, dtype=np.int64))

    def placeholder(self, channel: int, ids: np.ndarray, counts: np.ndarray) -> np.ndarray:
        ch = self.scenario.channels[channel]
        return np.array([self.agents[i].placeholder(channel, ch, count)
                         for i, count in zip(ids.tolist(), counts.tolist(), strict=True)],
                        dtype=np.int64)

    def own_need(self, product: int, hour: int, hour_weight: float, *,
                 rng: Draws) -> np.ndarray:
        return np.array([a.index for a in self.agents
                         if a.needs(product, hour, hour_weight, self.tick, rng.single())],
                        dtype=np.int64)

    def decide(self, ids: np.ndarray, offer: Offer, social_proof: np.ndarray, *,
               rng: Draws) -> Decision:
        rng = rng.single()
        deciders, losses, anchors = [], [], []
        bought: dict[int, list] = {}
        for i, s in zip(ids.tolist(), social_proof.tolist(), strict=True):
            outcome = self.agents[i].decide(offer, s, self.scenario, self.members, rng)
            if outcome is None:
                continue
            deciders.append(i)
            losses.append(outcome[0])
            anchors.append(outcome[1])
            if outcome[2] is not None:
                q, price, units, new = outcome[2]
                bought.setdefault(q, []).append((i, price, units, new))
        order = [a.product for a in offer.alternatives()]
        return Decision(np.array(deciders, dtype=np.int64), np.array(losses, dtype=bool),
                        np.array(anchors, dtype=bool),
                        {q: _purchases(bought[q]) for q in order if q in bought})

    def see_price(self, ids: np.ndarray, product: int, price) -> None:
        weight = self.scenario.behaviour.reference_smoothing_seen
        if weight == 0:
            return
        for i in ids.tolist():
            self.agents[i].see_price(product, float(price), weight)

    def purchase_state(self, ids: np.ndarray, product: int) -> PurchaseState:
        agents = [self.agents[i] for i in ids.tolist()]
        return PurchaseState(np.array([a.reference[product] for a in agents]),
                             np.array([a.next_need[product] for a in agents]),
                             np.array([a.purchases for a in agents]))

    def restore(self, ids: np.ndarray, product: int, state: PurchaseState) -> None:
        for j, i in enumerate(ids.tolist()):
            agent = self.agents[i]
            agent.reference[product] = float(state.reference[j])
            for member in self.members[product].tolist():
                agent.next_need[member] = int(state.next_need[j])
            agent.purchases = int(state.purchases[j])

    def give_coupons(self, ids: np.ndarray, product: int, value: float, until: int) -> None:
        for i in ids.tolist():
            agent = self.agents[i]
            agent.coupon_value[product] = max(agent.coupon_value[product], value)
            agent.coupon_until[product] = until


def _purchases(rows: list[tuple[int, float, int, bool]]) -> Purchases:
    ids, prices, units, new = zip(*rows, strict=True)
    return Purchases(np.array(ids, dtype=np.int64), np.array(prices, dtype=np.float64),
                     np.array(units, dtype=np.int64), np.array(new, dtype=bool))
