"""The consumer's rules, as pure functions shared by both engines.

The fast engine (``simulation.engine``) calls these on column arrays; the per-agent Mesa
reference (``simulation.reference``) calls them on one consumer's scalars. Every rule of the
decision model lives here once, with its equation.

Decision rule (design.md): a triggered consumer chooses among the products of one category
and not buying, a multinomial logit: alternative j with probability
``exp(U_j) / (1 + sum_k exp(U_k))`` (``expit(U)`` when the category has one product), where

    r'  = r + w (o - r)                          anchoring to a displayed original price o
    v   = max(r' - p, 0) / r'  -  lambda * max(p - r', 0) / r'
    U   = alpha + beta v + phi u [limited time] + a A / (A + K) + sigma s S + shift

with reference price r, price p, anchoring weight w, loss aversion lambda, price
sensitivity beta, framing susceptibility phi and urgency utility u, ad-stock A with
saturation K and weight a, social susceptibility sigma, social proof S with weight s, and a
market-wide utility shift (competitor promotions); each alternative has its own reference,
price, anchor and frame.

Reference prices are memory-based (Briesch et al. 1997): every price a consumer sees (an
ad, a visit, a livestream) moves the product's reference, ``r <- r + w (p - r)``, with the
weight of a price seen, or of a price paid for the product bought.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, gamma


def anchored_reference(reference, anchor, weight):
    """r' = r + w (o - r); with no displayed price (``anchor`` NaN) r' = r."""
    shifted = reference + weight * (anchor - reference)
    return np.where(np.isnan(anchor), reference, shifted)


def reference_dependent_value(price, reference, loss_aversion):
    """Gain minus lambda x loss, both relative to the reference: v = (g - lambda l) / r."""
    gain = np.maximum(reference - price, 0.0)
    loss = np.maximum(price - reference, 0.0)
    return (gain - loss_aversion * loss) / reference


def awareness_effect(adstock, saturation, weight):
    """a A / (A + K): Hill saturation of ad-stock, half the maximum effect at A = K."""
    return weight * adstock / (adstock + saturation)


def purchase_utility(
    base, price_sensitivity, value, urgency, awareness, social, shift
):
    """U = alpha + beta v + urgency + awareness + social + shift (terms already weighted)."""
    return base + price_sensitivity * value + urgency + awareness + social + shift


def purchase_probability(utility):
    """Binary logit: P(buy) = 1 / (1 + exp(-U))."""
    return expit(utility)


def choice_probabilities(utility):
    """(n, m) multinomial logit with a no-purchase option of utility 0:
    P_j = exp(U_j) / (1 + sum_k exp(U_k)); one alternative is the binary logit."""
    utility = np.asarray(utility, dtype=np.float64)
    if utility.shape[-1] == 1:
        return purchase_probability(utility)
    top = np.maximum(utility.max(axis=-1, keepdims=True), 0.0)  # stable: exp never overflows
    e = np.exp(utility - top)
    return e / (np.exp(-top) + e.sum(axis=-1, keepdims=True))


def chosen_alternative(uniform, probabilities):
    """Index of the alternative a uniform draw picks (cumulative probabilities in choice-set
    order), or -1 for no purchase; one alternative: bought iff u < P."""
    cumulative = np.cumsum(probabilities, axis=-1)
    pick = (np.asarray(uniform)[..., None] >= cumulative).sum(axis=-1)
    return np.where(pick < cumulative.shape[-1], pick, -1)


def faces_loss(price, anchored):
    """The loss term acts: the price is above the (anchored) reference."""
    return price > anchored


def adstock_decay(hours, half_life_hours):
    """Carry-over factor after ``hours``: A(t + h) = A(t) 0.5^(h / half-life)."""
    return np.power(0.5, np.asarray(hours, dtype=np.float64) / half_life_hours)


def click_probability(ctr, affinity, impressions):
    """P(at least one click in k impressions) = 1 - (1 - min(ctr x affinity, 1))^k."""
    p = np.minimum(ctr * affinity, 1.0)
    return 1.0 - np.power(1.0 - p, impressions)


def excess_contacts(before, delivered, tolerance):
    """Contacts this tick beyond the day's tolerance: max(0, before + k - max(before, tol))."""
    return np.maximum(0, before + delivered - np.maximum(before, tolerance))


def complaint_probability(excess, per_contact):
    """P(complaint) = 1 - (1 - q)^excess, each excess contact an independent chance q."""
    return 1.0 - np.power(1.0 - per_contact, excess)


def updated_reference(reference, price, smoothing):
    """Exponential smoothing toward a price seen or paid: r <- r + w (p - r)."""
    return reference + smoothing * (price - reference)


def need_probability(daily_rate, hour_weight):
    """P(own-need visit in one hour) = 1 - exp(-rate/24 x hour weight) (Poisson arrivals)."""
    return -np.expm1(-daily_rate / 24.0 * hour_weight)


def due_hour(hour, delay, tick):
    """Hour at which something waiting ``delay`` hours (>= 0) beyond the hour after ``hour``
    (a tick's start) falls due: hour + 1 + floor(delay) with an hourly tick. With a longer
    tick it is never inside the current tick, and is shifted by half a tick: what falls due
    in a tick is taken at the tick's start, which alone would shorten waits by
    (tick - 1) / 2 hours on average."""
    wait = 1 + np.floor(delay + (tick - 1) / 2).astype(np.int64)
    return hour + np.maximum(wait, tick)


def repurchase_scale(mean_hours, shape):
    """Weibull scale giving the mean inter-purchase time: s = mean / Gamma(1 + 1/k)."""
    return mean_hours / gamma(1.0 + 1.0 / shape)


def repurchase_delay(standard_weibull, mean_hours, shape):
    """Hours from a purchase to the next own need, Weibull(k, s) (hazard (k/s)(t/s)^(k-1)),
    from draws of the standard Weibull(k) (``Generator.weibull(shape)``)."""
    return repurchase_scale(mean_hours, shape) * standard_weibull


def consumer_price(base_price, live_discount, coupon, floor):
    """Price a consumer pays: the quote less a livestream deal and a coupon, never below floor."""
    return np.maximum(base_price * (1.0 - live_discount) - coupon, floor)


def decision_utility(
    *,
    base,
    price_sensitivity,
    loss_aversion,
    anchoring_weight,
    framing_susceptibility,
    social_susceptibility,
    reference,
    price,
    anchor,
    limited_time,
    adstock,
    social_proof,
    behaviour,
    shift,
):
    """U of the module docstring, from one consumer's (or a column of consumers') state.

    ``behaviour`` is the scenario's ``Behaviour``; ``limited_time`` is whether the offer is
    framed as limited-time for this consumer (an everyday-low-price or no frame adds nothing).
    """
    ref = anchored_reference(reference, anchor, anchoring_weight)
    value = reference_dependent_value(price, ref, loss_aversion)
    urgency = framing_susceptibility * behaviour.urgency_utility * limited_time
    aware = awareness_effect(adstock, behaviour.awareness_saturation, behaviour.awareness_weight)
    social = social_susceptibility * behaviour.social_weight * social_proof
    return purchase_utility(base, price_sensitivity, value, urgency, aware, social, shift)
