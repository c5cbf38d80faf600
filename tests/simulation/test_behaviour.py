"""Behavioural validation: the engine reproduces the effects the literature describes.

Decision-level tests call the fast engine's ``decide`` on a homogeneous population (every
consumer identical, ``sd = 0``), so the conversion rate at a price has the closed form
expit(U) and sampling error is binomial. Prices are compared on common random numbers (the
same uniforms), so a difference between two prices counts exactly the consumers whose
uniform falls between the two purchase probabilities.
"""

import numpy as np
import pytest
from scipy.special import expit

import scenarios
import simulation
from simulation import worlds
from simulation.calendar import Quote
from simulation.streams import Draws
from simulation.engine import ArrayConsumers
from simulation.outcomes import Offer

from ..conftest import MINI

N = 400_000
BASE, BETA, REF = -2.0, 4.0, 100.0


def homogeneous(loss_aversion=2.0, anchoring_weight=0.0, population=N):
    """Identical millennials in upper-tier cities, reference price exactly REF."""
    seg = "segments.millennial"
    s = scenarios.load(MINI, {
        "market.population": population,
        "market.generation_mix": {"millennial": 1.0},
        "market.tier_mix": {"upper": 1.0},
        "products.cream.reference_price": REF,
        "products.cream.reference_price_sd": 0.0,
        f"{seg}.base_utility": {"mean": BASE, "sd": 0.0},
        f"{seg}.price_sensitivity": {"mean": BETA, "sd": 0.0},
        f"{seg}.loss_aversion": {"mean": loss_aversion, "sd": 0.0},
        f"{seg}.anchoring_weight": {"mean": anchoring_weight, "sd": 0.0},
    })
    return ArrayConsumers(worlds.build([s], [0]))


def conversion(consumers, price, anchor=np.nan, limited_time=False, seed=1):
    offer = Offer(product=0, quote=Quote(price, anchor, limited_time), live_discount=0.0,
                  live=False, shift=0.0, price_floor=1.0, hour=0)
    ids = np.arange(consumers.pop.size)
    decision = consumers.decide(ids, offer, np.zeros(len(ids)),
                                rng=Draws.of(np.random.default_rng(seed)))
    return sum(len(b.ids) for b in decision.bought.values()) / len(ids)


@pytest.mark.parametrize("lam", [1.0, 1.955, 3.0])
def test_loss_aversion_price_rise_hurts_more_than_equal_cut_helps(lam):
    """Kahneman & Tversky: losses loom larger. For a small price move x around the reference,
    (drop from a rise) / (gain from a cut) tracks lambda: exactly
    (expit(a) - expit(a - b lam x)) / (expit(a + b x) - expit(a)), which is within 5% of
    lambda at x = 0.5%. Tolerance: 4 standard errors of the ratio of the two counts."""
    x = 0.005
    p_up = conversion(homogeneous(lam), REF * (1 + x))
    p_ref = conversion(homogeneous(lam), REF)
    p_down = conversion(homogeneous(lam), REF * (1 - x))
    drop, rise = (p_ref - p_up) * N, (p_down - p_ref) * N  # counts of switching consumers
    ratio = drop / rise
    expected = (expit(BASE) - expit(BASE - BETA * lam * x)) / (expit(BASE + BETA * x)
                                                               - expit(BASE))
    se = ratio * np.sqrt(1 / drop + 1 / rise)
    assert abs(ratio - expected) < 4 * se
    assert expected == pytest.approx(lam, rel=0.05)
    if lam > 1:
        assert ratio > 1 + 2 * se / ratio


def test_anchoring_raises_conversion_monotonically_in_the_weight():
    """Tversky & Kahneman (1974): a displayed original price 30% above the reference raises
    conversion at a price equal to the reference, more for a larger anchoring weight; with
    weight 0 the anchor changes nothing (identical decisions on the same random numbers)."""
    anchor = 1.3 * REF
    rates = []
    for w in (0.0, 0.2, 0.4, 0.6):
        rate = conversion(homogeneous(anchoring_weight=w), REF, anchor=anchor)
        r_prime = REF + w * (anchor - REF)
        exact = expit(BASE + BETA * (r_prime - REF) / r_prime)
        assert abs(rate - exact) < 4 * np.sqrt(exact * (1 - exact) / N)
        rates.append(rate)
    assert np.all(np.diff(rates) > 0)
    assert conversion(homogeneous(anchoring_weight=0.0), REF, anchor=anchor) == conversion(
        homogeneous(anchoring_weight=0.0), REF)


FRAMING = """
name = "framing"
seed = 1
[market]
population = 30000
generation_mix = {{ millennial = 1.0 }}
[segments.millennial]
base_utility = {{ mean = -3.0, sd = 0.3 }}
need_rate = {{ mean = 0.4, sd = 0.1 }}
[[products]]
name = "tea"
list_price = 100.0
margin = 0.5
reference_price = 95.0
repurchase_days = 1000
[[offers]]
name = "deal"
product = "tea"
promo_price = 85.0
frame = "{frame}"
start_day = 2
end_day = 3
[[channels]]
name = "idle"
kind = "search"
budget = 0.0
cost_model = "cpc"
cost = 1.0
ctr = 0.01
[calendar]
days = 5
phases = [{{ name = "all", start_day = 0, end_day = 5, budget_weight = 1.0 }}]
"""


def _framing_run(tmp_path, frame):
    path = tmp_path / f"{frame}.toml"
    path.write_text(FRAMING.format(frame=frame))
    return simulation.run(scenarios.load(path), seed=3).orders


def test_limited_time_frame_concentrates_purchases_in_the_window(tmp_path):
    """Tversky & Kahneman (1981) framing: the same price framed "limited time" draws more of
    the campaign's purchases into its window than framed "everyday low price". Two-proportion
    z-test at 4 standard errors; an everyday-low-price frame is identical to no frame."""
    window = lambda orders: orders["hour"].between(48, 71)  # noqa: E731
    limited = _framing_run(tmp_path, "limited_time")
    everyday = _framing_run(tmp_path, "everyday_low_price")
    unframed = _framing_run(tmp_path, "none")
    assert everyday.equals(unframed)
    p1, n1 = window(limited).mean(), len(limited)
    p2, n2 = window(everyday).mean(), len(everyday)
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    assert (p1 - p2) / se > 4
    assert window(limited).sum() > window(everyday).sum()


def test_adstock_carry_over_decays_with_the_configured_half_life(mini):
    """Geometric carry-over: awareness from impressions at hour 0 is halved after one
    half-life and quartered after two, in the fast engine (lazy decay) and in the per-agent
    reference (hourly decay) alike."""
    s = mini(behaviour__awareness_half_life_hours=10.0, channels__video__frequency_cap=5)
    model = simulation.model.CampaignModel(s, seed=1)
    consumers = model.consumers
    ids = np.arange(100)
    consumers.begin_hour(0)
    consumers.receive(0, ids, np.full(100, 2), 0, rng=Draws.of(np.random.default_rng(0)))
    now = consumers._adstock_now(ids, 0)
    np.testing.assert_allclose(now, 2.0)
    np.testing.assert_allclose(consumers._adstock_now(ids, 10), 1.0, rtol=1e-6)
    np.testing.assert_allclose(consumers._adstock_now(ids, 20), 0.5, rtol=1e-6)

    reference = simulation.model.CampaignModel(s, seed=1, engine="agents").consumers
    reference.begin_hour(0)
    reference.receive(0, ids, np.full(100, 2), 0, rng=Draws.of(np.random.default_rng(0)))
    for hour in range(1, 21):
        reference.begin_hour(hour)
    np.testing.assert_allclose([reference.agents[i].adstock for i in ids], 0.5, rtol=1e-9)
