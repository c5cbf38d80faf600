"""benchmarks/bench_attribution.py times the same work on both sides: every call starts from the
path strings, and our heuristic call computes what ChannelAttribution's one call does."""

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

from analysis.attribution import journeys

BENCH = Path(__file__).resolve().parents[3] / "benchmarks" / "bench_attribution.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_attribution", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def raw(data_csv):
    return pd.read_csv(data_csv).head(500)


def test_every_call_of_ours_parses_the_paths(bench, raw, monkeypatch):
    parsed = []

    def counting(*args, **kwargs):
        parsed.append(1)
        return read(*args, **kwargs)

    read = journeys.read_paths
    monkeypatch.setattr(journeys, "read_paths", counting)
    calls = bench.ours(raw, orders=(1,))
    for name, call in calls.items():
        before = len(parsed)
        call()
        assert len(parsed) == before + 1, name


def test_heuristics_compute_what_their_one_call_computes(bench, raw):
    ca = bench.channel_attribution()
    if ca is None:
        pytest.skip("ChannelAttribution is not installed")
    last, first, linear = bench.ours(raw, orders=())["last + first + linear"]()
    theirs = bench.theirs_heuristics(ca, raw)().set_index("channel_name")
    for table, column in ((last, "last_touch"), (first, "first_touch"), (linear, "linear_touch")):
        for kind, suffix in (("conversions", "conversions"), ("value", "value")):
            got = table[kind].reindex(theirs.index)
            pd.testing.assert_series_equal(got, theirs[f"{column}_{suffix}"], check_names=False,
                                           rtol=1e-9)


def test_markov_estimates_carry_their_error_against_the_exact_solve(bench, raw):
    if bench.channel_attribution() is None:
        pytest.skip("ChannelAttribution is not installed")
    rows = bench.measure(raw, 1, orders=(1,), estimates={"1e4 paths": {"nsim_start": 1e4}})
    sides = {(r["model"], r["side"]) for r in rows}
    assert ("markov_1", "ours") in sides and ("last + first + linear", "ours") in sides
    estimate = next(r for r in rows if r["side"] == "ChannelAttribution, 1e4 paths")
    assert 0 <= estimate["share_pp"] < 5 and 0 <= estimate["removal_effect"] < 0.1
    assert all(r["seconds"] >= 0 for r in rows)
