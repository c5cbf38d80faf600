"""Rule-based models on hand-built journeys whose credit is worked out in the comments."""

import pandas as pd
import pytest

from analysis.attribution import heuristics as H
from analysis.attribution import journeys as J
from analysis.attribution.journeys import AttributionError


@pytest.fixture
def hand():
    # J1 a>b>c converts once (hours 0, 12, 24, ends 24); J2 b converts twice (hour 6, ends
    # 6); J3 c>a converts once (hours 0, 24, ends 30); J4 a>c never converts (3 nulls).
    return J.from_lists(
        [["a", "b", "c"], ["b"], ["c", "a"], ["a", "c"]], [1, 2, 1, 0],
        value=[10, 40, 5, 0], nulls=[0, 0, 0, 3],
        hours=[[0, 12, 24], [6], [0, 24], [1, 2]], end_hours=[24, 6, 30, 5],
    )


def conv(table):
    return table["conversions"].to_dict()


def test_last_and_first_click(hand):
    assert conv(H.last_click(hand)) == {"a": 1, "b": 2, "c": 1}  # J3 -> a, J1 -> c
    assert conv(H.first_click(hand)) == {"a": 1, "b": 2, "c": 1}  # J1 -> a, J3 -> c
    assert H.last_click(hand)["value"].to_dict() == {"a": 5, "b": 40, "c": 10}
    assert H.first_click(hand)["value"].to_dict() == {"a": 10, "b": 40, "c": 5}


def test_linear(hand):
    # J1 gives 1/3 each; J3 gives 1/2 each; J2 gives b 2.
    assert conv(H.linear(hand)) == pytest.approx({"a": 5 / 6, "b": 7 / 3, "c": 5 / 6})


def test_position_based(hand):
    # J1 40/20/40: a .4, b .2, c .4; J3 has two touches, split 40:40 -> .5 each.
    assert conv(H.position_based(hand)) == pytest.approx({"a": 0.9, "b": 2.2, "c": 0.9})
    # 30/10/60: J1 gives a .3, b .1, c .6; J3 splits 30:60 -> c 1/3, a 2/3.
    got = conv(H.position_based(hand, first=0.3, last=0.6))
    assert got == pytest.approx({"a": 0.3 + 2 / 3, "b": 2.1, "c": 0.6 + 1 / 3})


def test_time_decay_in_hours_and_in_steps(hand):
    # J1 ages 24, 12, 0 at half-life 12: raw 1/4, 1/2, 1 -> 1/7, 2/7, 4/7.
    # J3 ages 30, 6: raw 2^-2.5, 2^-0.5 -> c 1/5, a 4/5.
    got = conv(H.time_decay(hand, half_life=12))
    assert got == pytest.approx({"a": 1 / 7 + 0.8, "b": 2 / 7 + 2, "c": 4 / 7 + 0.2})
    steps = J.from_lists([["a", "b", "c"]], [1])
    # No times: ages are steps before the last touch, 2, 1, 0 at half-life 1: 1/7, 2/7, 4/7.
    assert conv(H.time_decay(steps, half_life=1)) == pytest.approx(
        {"a": 1 / 7, "b": 2 / 7, "c": 4 / 7})


@pytest.mark.parametrize("model", [H.last_click, H.first_click, H.linear, H.time_decay,
                                   H.position_based])
def test_every_rule_distributes_all_conversions(model, data_paths):
    credit = model(data_paths)
    assert credit["conversions"].sum() == pytest.approx(data_paths.total_conversions)
    assert credit["value"].sum() == pytest.approx(data_paths.total_value)
    assert (credit["conversions"] >= 0).all()


def test_bad_parameters():
    j = J.from_lists([["a"]], [1])
    with pytest.raises(AttributionError, match="half_life"):
        H.time_decay(j, half_life=0)
    with pytest.raises(AttributionError, match="first \\+ last <= 1"):
        H.position_based(j, first=0.7, last=0.7)


def test_agrees_with_channelattribution_heuristics(data_paths, data_csv):
    ca = pytest.importorskip("ChannelAttribution")
    raw = pd.read_csv(data_csv)
    theirs = ca.heuristic_models(raw, "path", "total_conversions",
                                 var_value="total_conversion_value", flg_pro=False)
    theirs = theirs.set_index("channel_name")
    for rule, name in ((H.last_click, "last_touch"), (H.first_click, "first_touch"),
                       (H.linear, "linear_touch")):
        ours = rule(data_paths)
        pd.testing.assert_series_equal(
            ours["conversions"], theirs[f"{name}_conversions"].reindex(ours.index),
            check_names=False, rtol=1e-9)
        pd.testing.assert_series_equal(
            ours["value"], theirs[f"{name}_value"].reindex(ours.index),
            check_names=False, rtol=1e-9)
