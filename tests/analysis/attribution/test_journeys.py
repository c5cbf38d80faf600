import numpy as np
import pandas as pd
import pytest

import scenarios
import simulation
from analysis.attribution import journeys as J
from analysis.attribution.journeys import AttributionError
from tests.conftest import MINI


def logs():
    """Two consumers: 1 orders at hour 6 and touches after; 2 orders long after a touch."""
    tp = pd.DataFrame({
        "consumer": [1, 1, 1, 1, 2, 1],
        "hour": [1, 5, 7, 8, 2, 6],
        "channel": ["video", "search", "video", "crm", "video", "crm"],
        "impressions": [1, 1, 1, 1, 1, 1],
        "clicked": [True, True, False, True, True, True],
    })
    orders = pd.DataFrame({"consumer": [1, 2], "hour": [6, 100], "gmv": [150.0, 90.0],
                           "source": ["crm", "organic"]})
    return tp, orders


CHANNELS = ["video", "search", "crm"]


def paths(j):
    return [list(g["channel"].astype(str)) for _, g in j.touches.groupby("journey")]


def test_touchpoints_cut_at_orders_within_lookback():
    tp, orders = logs()
    j = J.from_touchpoints(tp, orders, channels=CHANNELS, horizon=120, lookback=72)
    # Order of consumer 1 (hour 6) owns the clicks at 1, 5 and 6 (same hour counts);
    # consumer 2's touch at hour 2 is 98 h before the order: outside the window; the click
    # at hour 8 after consumer 1's order is 111 h before the campaign's last hour (119).
    assert j.table["conversions"].tolist() == [1.0, 1.0]
    assert j.table["length"].tolist() == [3, 0]
    assert j.table["value"].tolist() == [150.0, 90.0]
    assert paths(j) == [["video", "search", "crm"]]
    assert j.unattributed_conversions == 1.0 and j.total_conversions == 1.0
    tail = J.from_touchpoints(tp, orders, channels=CHANNELS, horizon=120, lookback=112)
    assert tail.table["nulls"].tolist() == [0.0, 0.0, 1.0]
    assert paths(tail) == [["video", "search", "crm"], ["video"], ["crm"]]  # 98 h < 112 h


def test_impressions_keep_unclicked_touches_and_lookback_trims():
    tp, orders = logs()
    j = J.from_touchpoints(tp, orders, channels=CHANNELS, horizon=120, lookback=200,
                           touches="impressions")
    assert paths(j) == [["video", "search", "crm"], ["video"], ["video", "crm"]]
    short = J.from_touchpoints(tp, orders, channels=CHANNELS, horizon=120, lookback=2)
    assert short.table["length"].tolist() == [2, 0]  # hours 5, 6 of order at 6; no tail


@pytest.mark.parametrize("change, message", [
    (lambda tp, o: tp.assign(channel=["tv"] + list(tp["channel"][1:])), "unknown channels"),
    (lambda tp, o: tp.assign(hour=[500] + list(tp["hour"][1:])), "whole hours in"),
    (lambda tp, o: tp.drop(columns="clicked"), "lack columns"),
    (lambda tp, o: tp.assign(clicked=False).iloc[:0], "no journeys"),
])
def test_touchpoint_errors_are_one_message(change, message):
    tp, orders = logs()
    with pytest.raises(AttributionError, match=message):
        J.from_touchpoints(change(tp, orders), orders, channels=CHANNELS, horizon=120)


def test_unknown_order_source_and_bad_lookback():
    tp, orders = logs()
    with pytest.raises(AttributionError, match="order sources"):
        J.from_touchpoints(tp, orders.assign(source=["tv", "organic"]), channels=CHANNELS,
                           horizon=120)
    for bad in (0, -1, float("nan")):
        with pytest.raises(AttributionError, match="lookback"):
            J.from_touchpoints(tp, orders, channels=CHANNELS, horizon=120, lookback=bad)
    with pytest.raises(AttributionError, match="touches"):
        J.from_touchpoints(tp, orders, channels=CHANNELS, horizon=120, touches="views")


def test_from_lists_validates():
    with pytest.raises(AttributionError, match="out of order"):
        J.from_lists([["a", "b"]], [1], hours=[[5, 3]])
    with pytest.raises(AttributionError, match="unknown channels"):
        J.from_lists([["a", "x"]], [1], channels=["a", "b"])
    with pytest.raises(AttributionError, match="no journeys"):
        J.from_lists([], [])
    with pytest.raises(AttributionError, match="conversions must be finite"):
        J.from_lists([["a"]], [-1])


def test_read_paths_matches_the_file(data_paths, data_csv):
    raw = pd.read_csv(data_csv)
    assert len(data_paths) == len(raw) == 10_000
    assert len(data_paths.channels) == 12
    assert data_paths.total_conversions == pytest.approx(raw["total_conversions"].sum())
    assert data_paths.table["nulls"].sum() == pytest.approx(raw["total_null"].sum())
    lengths = raw["path"].str.count(">") + 1
    assert (data_paths.table["length"].to_numpy() == lengths.to_numpy()).all()


def test_read_paths_errors(tmp_path):
    with pytest.raises(AttributionError, match="no such file"):
        J.read_paths(tmp_path / "missing.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("path,total_conversions\na > b,1\n")
    with pytest.raises(AttributionError, match="lacks columns"):
        J.read_paths(bad)
    bad.write_text("path,total_conversions,total_conversion_value,total_null\na >> b,1,1,0\n")
    with pytest.raises(AttributionError, match="empty channel name"):
        J.read_paths(bad)


def test_run_journeys_are_consistent():
    s = scenarios.load(MINI)
    r = simulation.run(s, seed=3)
    j = J.from_run(r, lookback=48)
    converting = j.table[j.table["conversions"] > 0]
    assert len(converting) == len(r.orders)
    end = j.table["end_hour"].to_numpy()[j.journey]
    age = end - j.touches["hour"].to_numpy()
    assert (age >= 0).all() and (age < 48).all()
    assert np.all(np.diff(j.touches["hour"].to_numpy())[np.diff(j.journey) == 0] >= 0)
    clicks = int(r.touchpoints["clicked"].sum())
    assert len(j.touches) <= clicks
