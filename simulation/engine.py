"""The fast engine: every consumer rule applied to column arrays (struct of arrays).

Work per hour is proportional to the consumers touched that hour, not to the population:
ad-stock decays lazily (stored with the hour of its last update), own-need visits are drawn
by thinning, and repurchase needs wait in per-hour buckets. The per-agent Mesa reference
(``simulation.reference``) applies the same kernels one consumer at a time.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from scenarios.schema import GENERATIONS, TIERS, Behaviour

from . import fused
from . import kernels as k
from .buckets import Buckets
from .outcomes import EMPTY_IDS, Decision, Delivery, Offer, Purchases, PurchaseState
from .population import N_SEGMENTS
from .shelf import category_members
from .streams import Draws
from .worlds import Worlds


class ArrayConsumers:
    """Dynamic state of every consumer of every world, one array per attribute.

    A parameter the worlds of a batch set differently is looked up per consumer
    (``Worlds.at``); one the worlds share stays a scalar, as in a single run.
    """

    def __init__(self, worlds: Worlds, *, model=None):
        scenario, population = worlds.scenario, worlds.population
        n, n_channels = population.size, len(scenario.channels)
        n_products = len(scenario.products)
        self.scenario, self.pop, self.worlds = scenario, population, worlds
        self._behaviour = {f: worlds.values(lambda s, f=f: getattr(s.behaviour, f))
                           for f in Behaviour.model_fields}
        # (K,) tables for compiled loops; a scalar (shared by all worlds) is "weak" (NEP 50)
        self._behaviour_table = {f: worlds.per_world(v) for f, v in self._behaviour.items()}
        self._shared_behaviour = {f: v for f, v in self._behaviour.items() if np.ndim(v) == 0}
        self._varying_behaviour = {f: v for f, v in self._behaviour.items() if np.ndim(v)}
        def per_channel(field: str) -> list:
            return [worlds.values(lambda s, c=c: getattr(s.channels[c], field))
                    for c in range(n_channels)]

        self._ctr = per_channel("ctr")
        self._cap = [worlds.per_world(v, np.int64) for v in per_channel("frequency_cap")]
        self._per_impression = [worlds.per_world(v)
                                for v in per_channel("awareness_per_impression")]
        # delivery looks up by world x segment cell (one read per consumer)
        self._cell = worlds.segment
        self._cap_by_cell = [np.repeat(cap, N_SEGMENTS) for cap in self._cap]
        self._affinity_by_cell = [_affinity_by_cell(worlds.scenarios, c)
                                  for c in range(n_channels)]
        self.adstock = np.zeros(n, dtype=np.float32)
        self.adstock_hour = np.zeros(n, dtype=np.int32)
        self.reference = population.reference_price.copy()
        self.contacts = np.zeros((n, n_channels), dtype=np.int16)  # today, per channel
        self.contacts_total = np.zeros(n, dtype=np.int16)  # today, all channels
        self.opted_out = np.zeros((n, n_channels), dtype=bool)
        self.purchases = np.zeros(n, dtype=np.int32)
        self.next_need = np.zeros((n, n_products), dtype=np.int32)  # out of market before
        self.coupon_value = np.zeros((n, n_products), dtype=np.float32)
        self.coupon_until = np.zeros((n, n_products), dtype=np.int32)
        self._members = category_members(scenario)
        self._hours = scenario.calendar.hours
        self._repurchase_due = Buckets(n_products * self._hours)  # (category lead, hour)
        self._p_max: dict[tuple[int, int], float] = {}  # highest need rate of a block
        self._choice_sets: dict[tuple, tuple] = {}  # this hour's (``_choice_set``)
        self._choice_sets_hour = -1
        self.tick = scenario.calendar.tick_hours  # a step at hour h covers [h, h + tick)

    # -- contacts ------------------------------------------------------------------------
    def begin_hour(self, hour: int) -> None:
        """Start of a tick: daily contact counts reset at midnight (ad-stock decays lazily)."""
        if hour % 24 == 0:
            self.contacts.fill(0)
            self.contacts_total.fill(0)

    def receive(self, channel: int, ids: np.ndarray, counts: np.ndarray, hour: int, *,
                rng: Draws) -> Delivery:
        """Deliver ``counts[i]`` impressions of ``channel`` to consumer ``ids[i]`` (unique).

        Consent, opt-outs and the daily frequency cap decide how many arrive; those that do
        add ad-stock, may be clicked, and past the consumer's tolerance may cause complaints.
        """
        world, pop = self.worlds.world, self.pop
        ids, delivered, before, age, affinity = fused.deliver(
            ids, counts, channel, self.opted_out, pop.consent,
            self.scenario.channels[channel].requires_consent, self._cap_by_cell[channel],
            self._cell, self.contacts, self.contacts_total, self.adstock_hour, hour,
            self._affinity_by_cell[channel])
        half_life = self.worlds.at(self._behaviour["awareness_half_life_hours"], ids)
        decay = k.adstock_decay(age, half_life)
        fused.add_adstock(ids, decay, self._per_impression[channel], world, delivered,
                          self.adstock)
        ctr = self.worlds.at(self._ctr[channel], ids)
        clicked = rng.random(ids) < k.click_probability(ctr, affinity, delivered)
        excess = k.excess_contacts(before, delivered, pop.contact_tolerance[ids])
        per_contact = self.worlds.at(self._behaviour["complaint_probability"], ids)
        is_complaint = rng.random(ids) < k.complaint_probability(excess, per_contact)
        complained = ids[is_complaint]
        optout = self.worlds.at(self._behaviour["optout_probability"], ids)
        p_optout = np.broadcast_to(optout, ids.shape)[is_complaint]
        opted = complained[rng.random(complained) < p_optout]
        self.opted_out[opted, channel] = True
        return Delivery(ids, delivered, clicked, complained, opted)

    def _fill_slots(self, channel: int, ids: np.ndarray, counts: np.ndarray,
                    contacts_total: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """How many of ``counts[i]`` impressions of ``channel`` reach consumer ``ids[i]``
        (consent, opt-outs and the daily frequency cap; ``fused.fill_slots``), counted in
        today's contacts; and the day's total contacts before."""
        return fused.fill_slots(ids, counts, channel, self.opted_out, self.pop.consent,
                                self.scenario.channels[channel].requires_consent,
                                self._cap[channel], self.worlds.world, self.contacts,
                                contacts_total)

    def placeholder(self, channel: int, ids: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """A public-service ad in place of ``counts[i]`` of ``channel``'s impressions to
        consumer ``ids[i]`` (a paid lift-test control): it fills the slots the channel's own
        ads would have (consent, opt-outs and the daily frequency cap, which it counts
        against) and nothing else (no ad-stock, click, complaint or price seen). Returns the
        impressions placed per consumer: what the channel pays for."""
        return self._fill_slots(channel, ids, counts, NO_CONTACTS)[0]

    def behaviour_of(self, ids: np.ndarray) -> SimpleNamespace:
        """The behaviour parameters of consumers ``ids`` (scalars where worlds agree)."""
        world = self.worlds.world[ids] if self._varying_behaviour else None
        return SimpleNamespace(**self._shared_behaviour,
                               **{f: v[world] for f, v in self._varying_behaviour.items()})

    def _adstock_now(self, ids: np.ndarray, hour: int) -> np.ndarray:
        age = hour - self.adstock_hour[ids]
        half_life = self.worlds.at(self._behaviour["awareness_half_life_hours"], ids)
        return self.adstock[ids] * k.adstock_decay(age, half_life)

    # -- needs ---------------------------------------------------------------------------
    def own_need(self, product: int, hour: int, hour_weight: float, *,
                 rng: Draws) -> np.ndarray:
        """Consumers visiting ``product``'s category this tick on their own (sorted, unique;
        ``product`` is the category's lead, its first product; ``hour_weight`` is the sum of
        the tick's hour weights).

        Independent Bernoulli(p_i) visits drawn by thinning: K ~ Binomial(N, p_max) candidates
        without replacement, each kept with probability p_i / p_max; plus repurchase needs
        falling due in the tick. A paired batch thins each world's consumers with its own
        generator and p_max, as its own run does.
        """
        parts = [self._visits(start, stop, g, hour_weight) for start, stop, g in rng.blocks()]
        visits = parts[0] if len(parts) == 1 else np.concatenate(parts)
        first = product * self._hours + hour
        due = self._repurchase_due.pop(first, min(first + self.tick, (product + 1) * self._hours))
        if len(due):
            when = self.next_need[due, product]
            due = due[(when >= hour) & (when < hour + self.tick)]  # not undone (``restore``)
            visits = np.union1d(visits, due)
        return visits

    def _visits(self, start: int, stop: int, rng: np.random.Generator,
                hour_weight: float) -> np.ndarray:
        """Own-need visits among consumers ``start`` to ``stop`` (thinning)."""
        n = stop - start
        p_max = float(k.need_probability(self._need_p_max(start, stop), hour_weight))
        if p_max <= 0:
            return EMPTY_IDS
        m = rng.binomial(n, p_max)
        cand = start + np.sort(rng.choice(n, size=m, replace=False))
        p = k.need_probability(self.pop.need_rate[cand], hour_weight)
        return cand[rng.random(m) * p_max < p]

    def _need_p_max(self, start: int, stop: int) -> float:
        if (start, stop) not in self._p_max:
            self._p_max[(start, stop)] = float(self.pop.need_rate[start:stop].max(initial=0.0))
        return self._p_max[(start, stop)]

    # -- decisions -----------------------------------------------------------------------
    def decide(self, ids: np.ndarray, offer: Offer, social_proof: np.ndarray, *,
               rng: Draws) -> Decision:
        """Multinomial logit choice of triggered consumers in the offer's category; every
        decider's reference prices move toward the prices seen, the buyers' toward the price
        paid, and buyers leave the category's market until their next need."""
        hour = offer.hour
        in_market = self.next_need[ids, offer.product] < hour + self.tick
        ids, social_proof = ids[in_market], social_proof[in_market]
        worlds = self.worlds
        behaviour = self.behaviour_of(ids)
        alternatives = offer.alternatives()
        choice_set = self._choice_set(offer, alternatives)
        adstock = self._adstock_now(ids, hour)
        utility, price, coupon, faced_loss, anchored = self._utilities(
            ids, offer, choice_set, adstock, social_proof)
        choice = fused.choose(rng.random(ids), k.choice_probabilities(utility), offer.certain)
        b = self._behaviour_table
        fused.update_references(ids, worlds.world, choice_set[0], choice, price,
                                b["reference_smoothing"], b["reference_smoothing_seen"],
                                self.reference)
        bought = {}
        for j, alt in enumerate(alternatives):
            buy = choice == j
            if buy.any():
                bought[alt.product] = self._buy(ids[buy], alt.product, price[buy, j],
                                                coupon[buy, j], behaviour, buy, hour, rng)
        return Decision(ids, faced_loss, anchored, bought)

    def _utilities(self, ids: np.ndarray, offer: Offer, choice_set: tuple,
                   adstock: np.ndarray, social_proof: np.ndarray) -> tuple[np.ndarray, ...]:
        """Utility, price and coupon of every alternative of ``offer`` (``choice_set``) for
        consumers ``ids`` ((n, m) each), and whether each faced a loss or an anchor
        (``fused.decision_utilities``: ``kernels.decision_utility`` per alternative)."""
        pop = self.pop
        b, weak = self._behaviour_table, self._shared_behaviour
        return fused.decision_utilities(
            ids, self.worlds.world, offer.hour, *choice_set,
            self.coupon_value, self.coupon_until, self.reference, pop.base_utility,
            pop.price_sensitivity, pop.loss_aversion, pop.anchoring_weight,
            pop.framing_susceptibility, pop.social_susceptibility,
            b["urgency_utility"], "urgency_utility" in weak, b["awareness_saturation"],
            b["awareness_weight"], b["social_weight"], "social_weight" in weak,
            adstock, social_proof, float(offer.shift))

    def _choice_set(self, offer: Offer, alternatives) -> tuple[np.ndarray, ...]:
        """The offer's ``alternatives`` as ``fused.decision_utilities`` takes them: the
        products, an (m, K) table of the quotes' prices, the live discounts, the floors, a
        table of the anchors, whether each anchor is one number, a table of the limited-time
        frames (or livestream), whether each is promoted. Built once per hour for each
        choice set: the quotes hold still within a step (the cache keeps the alternatives,
        so the quotes' ids in its keys stay theirs)."""
        if offer.hour != self._choice_sets_hour:
            self._choice_sets.clear()
            self._choice_sets_hour = offer.hour
        key = tuple((id(a.quote), a.product, a.live_discount, a.live, a.price_floor,
                     a.promoted) for a in alternatives)
        if key not in self._choice_sets:
            self._choice_sets[key] = (self._choice_set_tables(alternatives), alternatives)
        return self._choice_sets[key][0]

    def _choice_set_tables(self, alternatives) -> tuple[np.ndarray, ...]:
        quotes, k_worlds = [alt.quote for alt in alternatives], self.worlds.k
        return (_products(alternatives),
                _table([q.price for q in quotes], k_worlds),
                np.array([alt.live_discount for alt in alternatives], dtype=np.float64),
                np.array([alt.price_floor for alt in alternatives], dtype=np.float64),
                _table([q.anchor for q in quotes], k_worlds),
                np.array([np.ndim(q.anchor) == 0 for q in quotes]),
                _table([np.logical_or(q.limited_time, alt.live)
                        for q, alt in zip(quotes, alternatives, strict=True)], k_worlds, bool),
                np.array([alt.promoted for alt in alternatives]))

    def _buy(self, ids, p, price, coupon, behaviour, mask, hour, rng) -> Purchases:
        """Buyers ``ids`` of product ``p``: units, purchase count, coupon used, next need."""
        shape = _select(behaviour.repurchase_shape, mask)
        product = self.scenario.products[p]
        units = 1 + rng.poisson(product.units_per_order - 1, ids)
        delay = k.repurchase_delay(rng.weibull(shape, ids), product.repurchase_days * 24, shape)
        members = self._members[p]
        new, due = fused.record_purchases(ids, p, coupon, members, hour, delay, self.tick,
                                          self.purchases, self.pop.existing_customer,
                                          self.coupon_value, self.next_need)
        soon = due < self._hours
        self._repurchase_due.push(members[0] * self._hours + due[soon], ids[soon])
        return Purchases(ids, price, units, new)

    def see_price(self, ids: np.ndarray, product: int, price) -> None:
        """Consumers ``ids`` see ``product`` at ``price`` (an ad): their reference moves."""
        weight = self.worlds.at(self._behaviour["reference_smoothing_seen"], ids)
        if np.all(weight == 0):
            return
        fused.see_price(ids, self.worlds.world, product, self.worlds.per_world(price),
                        np.ndim(price) == 0, self._behaviour_table["reference_smoothing_seen"],
                        "reference_smoothing_seen" in self._shared_behaviour, self.reference)

    def purchase_state(self, ids: np.ndarray, product: int) -> PurchaseState:
        return PurchaseState(self.reference[ids, product].copy(),
                             self.next_need[ids, product].copy(), self.purchases[ids].copy())

    def restore(self, ids: np.ndarray, product: int, state: PurchaseState) -> None:
        """Undo purchases of ``product`` by ``ids`` (forfeited deposits); the repurchase need
        they scheduled is dropped when it falls due (``own_need``)."""
        self.reference[ids, product] = state.reference
        self.next_need[ids[:, None], self._members[product]] = state.next_need[:, None]
        self.purchases[ids] = state.purchases

    def give_coupons(self, ids: np.ndarray, product: int, value: float, until: int) -> None:
        self.coupon_value[ids, product] = np.maximum(self.coupon_value[ids, product], value)
        self.coupon_until[ids, product] = until


NO_CONTACTS = np.empty(0, dtype=np.int16)  # a placeholder does not count in the day's total


def _affinity_by_cell(scenarios, c: int) -> np.ndarray:
    """Channel ``c``'s affinity of each world x segment cell: generation x tier affinity."""
    by_generation = np.array([[s.channels[c].affinity[g] for g in GENERATIONS]
                              for s in scenarios])
    by_tier = np.array([[s.channels[c].tier_affinity[t] for t in TIERS] for s in scenarios])
    return (by_generation[:, :, None] * by_tier[:, None, :]).ravel()


def _products(alternatives) -> np.ndarray:
    return np.array([alt.product for alt in alternatives], dtype=np.int64)


def _table(values: list, k: int, dtype=np.float64) -> np.ndarray:
    """(len(values), K): row j is ``values[j]``, one number for every world or a (K,) array."""
    out = np.empty((len(values), k), dtype=dtype)
    for j, v in enumerate(values):
        out[j] = v
    return out


def _select(value, mask: np.ndarray):
    """``value[mask]`` for a per-consumer array; a scalar stays a scalar."""
    return value if np.ndim(value) == 0 else value[mask]
