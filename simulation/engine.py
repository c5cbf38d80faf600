"""The fast engine: every consumer rule applied to column arrays (struct of arrays).

Work per hour is proportional to the consumers touched that hour, not to the population:
ad-stock decays lazily (stored with the hour of its last update), own-need visits are drawn
by thinning, and repurchase needs wait in per-hour buckets. The per-agent Mesa reference
(``simulation.reference``) applies the same kernels one consumer at a time.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from scenarios.schema import GENERATIONS, TIERS, Scenario

from . import kernels as k
from .outcomes import EMPTY_IDS, Delivery, Offer, Purchases
from .population import Population


class ArrayConsumers:
    """Dynamic state of every consumer, one array per attribute."""

    def __init__(self, scenario: Scenario, population: Population, *, model=None):
        n, n_channels = population.size, len(scenario.channels)
        n_products = len(scenario.products)
        self.scenario, self.pop, self.behaviour = scenario, population, scenario.behaviour
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
        self._repurchase_due: dict[tuple[int, int], list[np.ndarray]] = defaultdict(list)
        self._need_p_max = float(population.need_rate.max(initial=0.0))

    # -- contacts ------------------------------------------------------------------------
    def begin_hour(self, hour: int) -> None:
        """Start of an hour: daily contact counts reset at midnight (ad-stock decays lazily)."""
        if hour % 24 == 0:
            self.contacts.fill(0)
            self.contacts_total.fill(0)

    def receive(self, channel: int, ids: np.ndarray, counts: np.ndarray, hour: int, *,
                rng: np.random.Generator) -> Delivery:
        """Deliver ``counts[i]`` impressions of ``channel`` to consumer ``ids[i]`` (unique).

        Consent, opt-outs and the daily frequency cap decide how many arrive; those that do
        add ad-stock, may be clicked, and past the consumer's tolerance may cause complaints.
        """
        ch = self.scenario.channels[channel]
        allowed = ~self.opted_out[ids, channel]
        if ch.requires_consent:
            allowed &= self.pop.consent[ids]
        room = np.maximum(ch.frequency_cap - self.contacts[ids, channel], 0)
        delivered = np.where(allowed, np.minimum(counts, room), 0)
        keep = delivered > 0
        ids, delivered = ids[keep], delivered[keep].astype(np.int16)

        self.adstock[ids] = (
            self._adstock_now(ids, hour) + ch.awareness_per_impression * delivered
        )
        self.adstock_hour[ids] = hour
        before = self.contacts_total[ids]
        self.contacts[ids, channel] += delivered
        self.contacts_total[ids] += delivered

        affinity = self.affinity(channel, ids)
        clicked = rng.random(len(ids)) < k.click_probability(ch.ctr, affinity, delivered)
        excess = k.excess_contacts(before, delivered, self.pop.contact_tolerance[ids])
        p_complain = k.complaint_probability(excess, self.behaviour.complaint_probability)
        complained = ids[rng.random(len(ids)) < p_complain]
        opted = complained[rng.random(len(complained)) < self.behaviour.optout_probability]
        self.opted_out[opted, channel] = True
        return Delivery(ids, delivered, clicked, complained, opted)

    def affinity(self, channel: int, ids: np.ndarray) -> np.ndarray:
        ch = self.scenario.channels[channel]
        gen = np.array([ch.affinity[g] for g in GENERATIONS])[self.pop.generation[ids]]
        tier = np.array([ch.tier_affinity[t] for t in TIERS])[self.pop.tier[ids]]
        return gen * tier

    def _adstock_now(self, ids: np.ndarray, hour: int) -> np.ndarray:
        age = hour - self.adstock_hour[ids]
        return self.adstock[ids] * k.adstock_decay(age, self.behaviour.awareness_half_life_hours)

    # -- needs ---------------------------------------------------------------------------
    def own_need(self, product: int, hour: int, hour_weight: float, *,
                 rng: np.random.Generator) -> np.ndarray:
        """Consumers visiting for ``product`` this hour on their own (sorted, unique).

        Independent Bernoulli(p_i) visits drawn by thinning: K ~ Binomial(N, p_max) candidates
        without replacement, each kept with probability p_i / p_max; plus repurchase needs
        falling due this hour.
        """
        n = self.pop.size
        p_max = float(k.need_probability(self._need_p_max, hour_weight))
        visits = EMPTY_IDS
        if p_max > 0:
            m = rng.binomial(n, p_max)
            cand = np.sort(rng.choice(n, size=m, replace=False))
            p = k.need_probability(self.pop.need_rate[cand], hour_weight)
            visits = cand[rng.random(m) * p_max < p]
        due = self._repurchase_due.pop((product, hour), None)
        if due:
            visits = np.union1d(visits, np.concatenate(due))
        return visits

    # -- decisions -----------------------------------------------------------------------
    def decide(self, ids: np.ndarray, offer: Offer, social_proof: np.ndarray, *,
               rng: np.random.Generator) -> Purchases:
        """Logit purchase decision of triggered consumers; updates the buyers' state."""
        p, hour = offer.product, offer.hour
        in_market = self.next_need[ids, p] <= hour
        ids, social_proof = ids[in_market], social_proof[in_market]
        pop = self.pop
        coupon = np.where(self.coupon_until[ids, p] > hour, self.coupon_value[ids, p], 0.0)
        price = k.consumer_price(offer.quote.price, offer.live_discount, coupon,
                                 offer.price_floor)
        utility = k.decision_utility(
            base=pop.base_utility[ids],
            price_sensitivity=pop.price_sensitivity[ids],
            loss_aversion=pop.loss_aversion[ids],
            anchoring_weight=pop.anchoring_weight[ids],
            framing_susceptibility=pop.framing_susceptibility[ids],
            social_susceptibility=pop.social_susceptibility[ids],
            reference=self.reference[ids, p],
            price=price,
            anchor=offer.quote.anchor,
            limited_time=offer.quote.limited_time or offer.live,
            adstock=self._adstock_now(ids, hour),
            social_proof=social_proof,
            behaviour=self.behaviour,
            shift=offer.shift,
        )
        buy = (rng.random(len(ids)) < k.purchase_probability(utility)) | offer.certain
        ids, price, coupon = ids[buy], price[buy], coupon[buy]
        product = self.scenario.products[p]
        units = 1 + rng.poisson(product.units_per_order - 1, size=len(ids))
        new = (self.purchases[ids] == 0) & ~pop.existing_customer[ids]

        self.reference[ids, p] = k.updated_reference(
            self.reference[ids, p], price, self.behaviour.reference_smoothing
        )
        self.purchases[ids] += 1
        self.coupon_value[ids[coupon > 0], p] = 0.0
        delay = k.repurchase_delay(rng, product.repurchase_days * 24,
                                   self.behaviour.repurchase_shape, size=len(ids))
        due = hour + 1 + np.floor(delay).astype(np.int64)
        self.next_need[ids, p] = due
        for h in np.unique(due[due < self.scenario.calendar.hours]):
            self._repurchase_due[(p, int(h))].append(ids[due == h])
        return Purchases(ids, price, units, new)

    def give_coupons(self, ids: np.ndarray, product: int, value: float, until: int) -> None:
        self.coupon_value[ids, product] = np.maximum(self.coupon_value[ids, product], value)
        self.coupon_until[ids, product] = until
