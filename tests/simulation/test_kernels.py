"""The decision-rule kernels against their closed forms."""

import numpy as np
import pytest
from scipy.special import expit

from scenarios.schema import Behaviour
from simulation import kernels as k


def test_anchoring_moves_reference_by_weight_and_ignores_missing_anchor():
    assert k.anchored_reference(100.0, 200.0, 0.25) == pytest.approx(125.0)
    assert k.anchored_reference(100.0, np.nan, 0.9) == 100.0
    assert k.anchored_reference(100.0, 200.0, 0.0) == 100.0


def test_gains_and_losses_are_relative_and_losses_weighted_by_lambda():
    assert k.reference_dependent_value(90.0, 100.0, 2.0) == pytest.approx(0.1)
    assert k.reference_dependent_value(110.0, 100.0, 2.0) == pytest.approx(-0.2)
    assert k.reference_dependent_value(100.0, 100.0, 2.0) == 0.0


def test_adstock_half_life():
    assert k.adstock_decay(72, 72.0) == pytest.approx(0.5)
    assert k.adstock_decay(144, 72.0) == pytest.approx(0.25)
    # hourly decay compounded equals the decay over the whole span
    assert k.adstock_decay(1, 30.0) ** 30 == pytest.approx(0.5)


def test_saturation_is_half_at_k():
    assert k.awareness_effect(3.0, 3.0, 1.5) == pytest.approx(0.75)
    assert k.awareness_effect(0.0, 3.0, 1.5) == 0.0


def test_click_and_complaint_probabilities():
    assert k.click_probability(0.1, 1.0, 2) == pytest.approx(1 - 0.9**2)
    assert k.click_probability(0.6, 2.0, 1) == 1.0
    assert k.complaint_probability(0, 0.1) == 0.0
    assert k.complaint_probability(3, 0.1) == pytest.approx(1 - 0.9**3)
    np.testing.assert_array_equal(k.excess_contacts(np.array([0, 2, 5]), 2, 3), [0, 1, 2])


def test_need_probability_is_poisson_arrival():
    assert k.need_probability(2.4, 1.0) == pytest.approx(1 - np.exp(-0.1))


def test_repurchase_delay_has_the_configured_mean():
    """Weibull(k, s) with s = mean / Gamma(1 + 1/k): sample mean within 4 standard errors."""
    rng = np.random.default_rng(0)
    draws = k.repurchase_delay(rng.weibull(2.0, size=200_000), 500.0, 2.0)
    se = draws.std() / np.sqrt(len(draws))
    assert abs(draws.mean() - 500.0) < 4 * se


def test_decision_utility_composes_every_term():
    b = Behaviour()
    u = k.decision_utility(
        base=-3.0, price_sensitivity=4.0, loss_aversion=2.0, anchoring_weight=0.5,
        framing_susceptibility=0.5, social_susceptibility=0.5, reference=100.0, price=110.0,
        anchor=120.0, limited_time=True, adstock=3.0, social_proof=2.0, behaviour=b, shift=-0.2,
    )
    expected = (-3.0 + 4.0 * 0.0 + 0.5 * b.urgency_utility
                + b.awareness_weight * 0.5 + 0.5 * b.social_weight * 2.0 - 0.2)
    assert u == pytest.approx(expected)  # r' = 110 = p: neither gain nor loss
    assert k.purchase_probability(0.0) == 0.5
    assert k.purchase_probability(u) == pytest.approx(expit(expected))
