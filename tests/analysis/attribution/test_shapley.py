"""Shapley values: a textbook game, the closed form, and brute-force permutation averages."""

from itertools import permutations
from math import factorial

import numpy as np
import pytest

from analysis.attribution import journeys as J
from analysis.attribution import shapley as S
from analysis.attribution.journeys import AttributionError


def test_glove_game():
    """The glove game of the Wikipedia article "Shapley value" (section "Glove game").

    Player 1 and 2 hold a left glove, player 3 a right one; a pair is worth 1:
    v({1,3}) = v({2,3}) = v({1,2,3}) = 1, every other coalition 0. By hand: player 3's
    marginal contribution is 1 in the 4 of 6 orders where it comes second or third after
    a left glove, so phi_3 = 4/6 = 2/3 and phi_1 = phi_2 = 1/6.
    """
    v = np.zeros(8)  # bit 0 = player 1, bit 1 = player 2, bit 2 = player 3
    v[0b101] = v[0b110] = v[0b111] = 1.0
    assert S.shapley_values(v) == pytest.approx([1 / 6, 1 / 6, 2 / 3])


def brute_force(v, n):
    """Average marginal contribution over all n! orders of the players."""
    phi = np.zeros(n)
    for order in permutations(range(n)):
        mask = 0
        for player in order:
            phi[player] += v[mask | (1 << player)] - v[mask]
            mask |= 1 << player
    return phi / factorial(n)


@pytest.fixture
def small():
    return J.from_lists([["a", "b"], ["b", "c", "b"], ["d"], ["a", "c", "d"], ["c"]],
                        [3, 1, 2, 0, 4], value=[30, 5, 10, 0, 8], nulls=[1, 5, 2, 7, 3])


def test_matches_brute_force_for_both_values(small):
    n = len(small.channels)
    masks = S.channel_sets(small)
    conv = small.table["conversions"].to_numpy()
    reached = conv + small.table["nulls"].to_numpy()
    v_conv = S.subset_sums(np.bincount(masks, conv, minlength=1 << n), n)
    got = S.shapley(small)["conversions"].to_numpy()
    assert got == pytest.approx(brute_force(v_conv, n))
    converted = S.subset_sums(np.bincount(masks, conv, minlength=1 << n), n)
    seen = S.subset_sums(np.bincount(masks, reached, minlength=1 << n), n)
    rate = np.divide(converted, seen, out=np.zeros_like(seen), where=seen > 0)
    phi = brute_force(rate, n)
    got = S.shapley(small, value="rate")["conversions"].to_numpy()
    assert got == pytest.approx(phi / phi.sum() * small.total_conversions)


def test_closed_form_of_the_conversion_game(small, data_paths):
    """Zhao, Mahboobi & Bagheri (2018): phi_c = sum over journeys with c of y / |channels|."""
    # By hand on `small`: a>b (3) gives a, b 1.5; b>c>b (1) gives b, c .5; d (2) gives d 2;
    # c (4) gives c 4; a>c>d converts nothing.
    got = S.shapley(small)
    assert got["conversions"].to_dict() == pytest.approx({"a": 1.5, "b": 2.0, "c": 4.5,
                                                          "d": 2.0})
    assert got["value"].to_dict() == pytest.approx({"a": 15, "b": 17.5, "c": 10.5, "d": 10})
    masks = S.channel_sets(data_paths)
    size = np.array([bin(m).count("1") for m in masks])
    conv = data_paths.table["conversions"].to_numpy()
    closed = [(conv / size)[(masks >> c) & 1 == 1].sum() for c in range(len(data_paths.channels))]
    assert S.shapley(data_paths)["conversions"].to_numpy() == pytest.approx(closed)


def test_limits():
    with pytest.raises(AttributionError, match="length 2\\^n"):
        S.shapley_values(np.zeros(6))
    many = J.from_lists([[f"c{i}" for i in range(S.MAX_CHANNELS + 1)]], [1])
    with pytest.raises(AttributionError, match="channels"):
        S.shapley(many)
    with pytest.raises(AttributionError, match="value must be"):
        S.shapley(J.from_lists([["a"]], [1]), value="gmv")
