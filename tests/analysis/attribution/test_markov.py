"""Markov removal effects: a hand-solved chain, a simulation of it, and ChannelAttribution."""

import numpy as np
import pandas as pd
import pytest

from analysis.attribution import journeys as J
from analysis.attribution import markov as M
from analysis.attribution.journeys import AttributionError

# a>b>a converts once and fails once; a converts twice; b>b>c fails twice; c>a>a>b converts
# once and fails once.
SMALL = dict(paths=[["a", "b", "a"], ["a"], ["b", "b", "c"], ["c", "a", "a", "b"]],
             conversions=[1, 2, 0, 1], nulls=[1, 0, 2, 1])


def small():
    return J.from_lists(**SMALL)


def test_order_one_solved_by_hand():
    # Transitions (self-loops dropped): start -> a .5, b .25, c .25; a -> b .5, conv 3/8,
    # null 1/8; b -> a 1/3, c 1/3, conv 1/6, null 1/6; c -> a .5, null .5.
    # x_a = 3/8 + x_b/2, x_b = 1/6 + x_a/3 + x_c/3, x_c = x_a/2 give x_a = 11/18,
    # x_b = 17/36, x_c = 11/36 and P = 1/2. Without a: P = 1/4 x 1/6 = 1/24; without b:
    # x_a = 3/8, x_c = 3/16, P = 15/64; without c: x_a = 11/20, x_b = 7/20, P = 29/80.
    r = M.markov(small(), order=1)
    assert r.conversion_probability == pytest.approx(0.5)
    expected = {"a": 1 - (1 / 24) / 0.5, "b": 1 - (15 / 64) / 0.5, "c": 1 - (29 / 80) / 0.5}
    assert r.removal_effects.to_dict() == pytest.approx(expected)
    total = sum(expected.values())
    assert r.credit["conversions"].to_dict() == pytest.approx(
        {k: v / total * 4 for k, v in expected.items()})


def test_order_two_solved_by_hand():
    # States: (a,b) (b,a) (a) (b,b) (b,c) (c,a) (a,a); start -> (a,b), (a), (b,b), (c,a) 1/4
    # each; (a,b) -> (b,a) .5, conv .25, null .25; (b,a) -> conv .5; (a) -> conv 1;
    # (b,b) -> (b,c) -> null; (c,a) -> (a,a) -> (a,b). P = (1/2 + 1 + 0 + 1/2) / 4 = 1/2.
    # Without a only (b,b), (b,c) remain: RE 1; without b: P = 1/4, RE 1/2; without c:
    # P = (1/2 + 1) / 4, RE 1/4.
    r = M.markov(small(), order=2)
    assert len(r.states) == 7 and ("a",) in r.states and ("c", "a") in r.states
    assert r.conversion_probability == pytest.approx(0.5)
    assert r.removal_effects.to_dict() == pytest.approx({"a": 1.0, "b": 0.5, "c": 0.25})


def test_agrees_with_a_simulation_of_the_chain():
    """Independent check: walk the fitted order-1 chain 400,000 times (3 sd ~ 0.0024)."""
    r = M.markov(small(), order=1)
    probs = r.transitions.toarray()
    n = len(r.states)
    start, conv = n, n + 1
    rng = np.random.default_rng(7)
    walks = 400_000
    state = np.full(walks, start)
    absorbed = np.full(walks, -1)
    cum = np.cumsum(probs, axis=1)
    seen = np.zeros((walks, n), dtype=bool)
    for _ in range(200):
        live = absorbed < 0
        if not live.any():
            break
        u = rng.random(live.sum())
        nxt = (u[:, None] > cum[state[live]]).sum(axis=1)
        state[live] = nxt
        done = nxt >= n
        idx = np.flatnonzero(live)
        absorbed[idx[done]] = nxt[done]
        seen[idx[~done], nxt[~done]] = True
    converted = absorbed == conv
    assert converted.mean() == pytest.approx(r.conversion_probability, abs=0.004)
    for i, (name,) in enumerate(r.states):
        # A walk converts without channel i iff it converted and never visited i.
        p_without = (converted & ~seen[:, i]).mean()
        assert 1 - p_without / converted.mean() == pytest.approx(
            r.removal_effects[name], abs=0.01)


def test_self_loops_change_nothing():
    once = M.markov(J.from_lists([["a", "b"], ["b"]], [1, 1], nulls=[1, 2]))
    twice = M.markov(J.from_lists([["a", "a", "b", "b"], ["b", "b"]], [1, 1], nulls=[1, 2]))
    assert once.removal_effects.to_dict() == pytest.approx(twice.removal_effects.to_dict())


def test_errors():
    with pytest.raises(AttributionError, match="order"):
        M.markov(small(), order=0)
    with pytest.raises(AttributionError, match="no journey with a touch converts"):
        M.markov(J.from_lists([["a"]], [0], nulls=[1]))


@pytest.mark.parametrize("order", [1, 2])
def test_removal_effects_agree_with_channelattribution(data_paths, data_csv, order):
    """ChannelAttribution's ``markov_model`` estimates the same chain by simulating paths.

    It truncates simulated paths at ``max_step`` (default: the longest observed path), which
    biases removal effects downwards; with ``max_step=1000`` and 10^6 simulated paths its
    estimates are within about 0.005 of the exact ones, so the tolerance is 0.01.
    """
    ca = pytest.importorskip("ChannelAttribution")
    raw = pd.read_csv(data_csv)
    theirs = ca.markov_model(raw, "path", "total_conversions",
                             var_value="total_conversion_value", var_null="total_null",
                             order=order, out_more=True, verbose=False, flg_pro=False,
                             max_step=1000, nsim_start=1e6)
    effects = theirs["removal_effects"].set_index("channel_name").iloc[:, 0]
    credit = theirs["result"].set_index("channel_name")["total_conversions"]
    ours = M.markov(data_paths, order=order)
    diff = (ours.removal_effects - effects.reindex(ours.removal_effects.index)).abs()
    assert diff.max() < 0.01, diff
    share = ours.credit["conversions"] / ours.credit["conversions"].sum()
    their_share = credit.reindex(share.index) / credit.sum()
    assert (share - their_share).abs().max() < 0.005
    assert ours.credit["conversions"].sum() == pytest.approx(data_paths.total_conversions)


def test_higher_orders_run_on_the_data(data_paths):
    r3 = M.markov(data_paths, order=3)
    assert r3.credit["conversions"].sum() == pytest.approx(data_paths.total_conversions)
    assert all(1 <= len(s) <= 3 for s in r3.states)
