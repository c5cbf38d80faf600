"""Presale deposits: the dropout share, and a forfeited deposit leaves nothing behind."""

import numpy as np

import scenarios
import simulation
from simulation.model import CampaignModel

from ..conftest import MINI


def _presale_market(dropout: float):
    """mini with only its presale (20% off), a long repurchase cycle, 10,000 consumers;
    references move only with prices paid, so a deposit's trace is all that could move them."""
    s = scenarios.load(MINI)
    return simulation.rescale(scenarios.with_overrides(s, {
        "calendar.events": [e.model_dump(mode="json", exclude_none=True)
                            for e in s.calendar.events if e.name == "deposits"],
        "calendar.events.deposits.dropout": dropout,
        "calendar.events.deposits.discount": 0.2,
        "products.cream.repurchase_days": 60.0,
        "behaviour.reference_smoothing_seen": 0.0}), 10_000)


def _run_with_spies(s, seeds):
    """A batch of worlds, recording each decision's buyers during the presale window and
    the state of the consumers the balance hour undoes."""
    m = CampaignModel(scenarios=[s] * len(seeds), seeds=list(seeds))
    seen = {"deposited": [], "before": {}, "restored": []}
    decide, restore = m.consumers.decide, m.consumers.restore

    def spy_decide(ids, offer, proof, *, rng):
        if m.calendar.presale:
            for i, r in zip(ids.tolist(), m.consumers.reference[ids, 0].tolist(), strict=True):
                seen["before"].setdefault(i, r)
        decision = decide(ids, offer, proof, rng=rng)
        if m.calendar.presale and 0 in decision.bought:
            seen["deposited"].append(decision.bought[0].ids)
        return decision

    def spy_restore(ids, product, state):
        restore(ids, product, state)
        seen["restored"].append(ids.copy())

    m.consumers.decide, m.consumers.restore = spy_decide, spy_restore
    m.run()
    return m, seen


def test_the_dropout_share_is_binomial():
    """Each deposit is forfeited with probability d = 0.35, independently: over 16 worlds
XX    (about 0.08 with the ~550 deposits of 16 worlds)."""
    d = 0.35
    m, seen = _run_with_spies(_presale_market(d), range(16))
    deposits = len(np.concatenate(seen["deposited"]))
    forfeited = len(np.concatenate(seen["restored"]))
    assert deposits == m.recorder.values["deposits"].sum() > 450
    se = np.sqrt(d * (1 - d) / deposits)
    assert abs(forfeited / deposits - d) < 4 * se, (forfeited / deposits, deposits)


def test_a_forfeited_deposit_leaves_no_purchase_behind():
    """With every deposit forfeited, no buyer keeps the presale's traces: reference prices
    and purchase counts are as before the deposit, nobody is out of market and no order is
    recorded at the balance hour. (Word of mouth and group-buy sharing of a deposit wait
    for its balance payment, ``CampaignModel._deposits_due``.)"""
    s = _presale_market(1.0)
    m, seen = _run_with_spies(s, [3])
    depositors = np.concatenate(seen["deposited"])
    assert len(depositors) > 20
    hour = s.calendar.events[0].balance_at
    assert m.recorder.values["orders"][hour].sum() == 0
    before = np.array([seen["before"][i] for i in depositors.tolist()])
    assert np.array_equal(m.consumers.reference[depositors, 0], before.astype(np.float32))
    assert (m.consumers.purchases[depositors] == 0).all()
    assert (m.consumers.next_need[depositors, 0] <= hour).all()


def test_completed_deposits_become_orders_at_the_balance_hour():
    r = simulation.run(_presale_market(0.0), seed=2)
    hour = r.scenario.calendar.events[0].balance_at
    at_balance = r.timeseries[r.timeseries["hour"] == hour]["orders"].sum()
    assert at_balance >= r.timeseries["deposits"].sum() > 0
