"""Loading a real follow graph from an edge list, and every way an edge list can be wrong."""

import numpy as np
import pandas as pd
import pytest

import scenarios
import simulation
from scenarios import ScenarioError
from simulation import edgelist
from simulation.network import ROLE_CONSUMER, ROLE_KOL, TIE_FRIEND, TIE_KOL

from ..conftest import MINI

SETTINGS = scenarios.social.Network(kol_share=0.01, koc_share=0.0)


def write(tmp_path, text, name="edges.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_csv_graph_points_from_followee_to_follower_with_roles_by_audience(tmp_path):
    # node 0 is followed by 1..50: the largest audience, so the KOL at kol_share 1%
    rows = ["follower,followee,weight"] + [f"{i},0,0.5" for i in range(1, 51)] + ["0,7,1.0"]
    g = edgelist.load_edges(write(tmp_path, "\n".join(rows)), 100, SETTINGS)
    assert g.n_edges == 51
    assert set(g.indices[g.indptr[0]:g.indptr[1]]) == set(range(1, 51))
    assert g.role[0] == ROLE_KOL and (g.role[1:] == ROLE_CONSUMER).all()
    assert (g.tie[g.indptr[0]:g.indptr[1]] == TIE_KOL).all()
    assert g.tie[g.indptr[7]] == TIE_FRIEND
    assert g.weight is not None and np.allclose(g.weight[g.indptr[0]:g.indptr[1]], 0.5)


def test_parquet_with_tie_column(tmp_path):
    path = tmp_path / "edges.parquet"
    pd.DataFrame({"follower": [1, 2, 3], "followee": [0, 0, 1],
                  "tie": ["koc", "koc", "friend"]}).to_parquet(path)
    g = edgelist.load_edges(path, 4, SETTINGS)
    assert g.role.tolist() == [2, 0, 0, 0]
    assert g.weight is None


@pytest.mark.parametrize("text, field, words", [
    ("follower,followee\n1,2\n3,99\n", "row 3 (followee)", "unknown node id"),
    ("follower,followee\n1,2\n-1,2\n", "row 3 (follower)", "unknown node id"),
    ("follower,followee\n1,2\nx,2\n", "row 3 (follower)", "whole-number node id"),
    ("follower,followee\n1,2\n1.5,2\n", "row 3 (follower)", "whole-number node id"),
    ("follower,followee\n1,2\n4,4\n", "row 3 (follower, followee)", "self-loop"),
    ("follower,followee\n1,2\n3,2\n1,2\n", "row 4 (follower, followee)", "duplicate tie"),
    ("follower,followee,weight\n1,2,0.5\n3,2,-1\n", "row 3 (weight)", ">= 0"),
    ("follower,followee,weight\n1,2,0.5\n3,2,\n", "row 3 (weight)", "finite"),
    ("follower,followee,weight\n1,2,nan\n", "row 2 (weight)", "finite"),
    ("follower,followee,tie\n1,2,celebrity\n", "row 2 (tie)", "unknown tie type"),
    ("follower,followed\n1,2\n", "followee", "missing column"),
    ("follower,followee,strength\n1,2,3\n", "strength", "unknown column"),
    ("follower,followee\n", "", "no ties"),
    ("", "", "empty"),
])
def test_bad_edge_lists_name_file_row_and_column(tmp_path, text, field, words):
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as err:
        edgelist.load_edges(path, 10, SETTINGS)
    assert err.value.source == str(path)
    assert err.value.field == field
    assert words in str(err.value)


def test_wrong_format_and_missing_file(tmp_path):
    with pytest.raises(ScenarioError, match="must be .csv or .parquet"):
        edgelist.load_edges(write(tmp_path, "a", "edges.txt"), 10, SETTINGS)
    with pytest.raises(ScenarioError, match="no such edge-list file"):
        edgelist.load_edges(tmp_path / "missing.csv", 10, SETTINGS)


def test_a_graph_too_large_for_memory_is_refused_before_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(edgelist, "MEMORY_SHARE", 1e-12)
    with pytest.raises(ScenarioError, match="would need about"):
        edgelist.load_edges(write(tmp_path, "follower,followee\n1,2\n"), 10, SETTINGS)


def test_a_scenario_runs_on_a_loaded_graph_relative_to_its_file(tmp_path):
    rng = np.random.default_rng(0)
    n = scenarios.load(MINI).market.population
    src, dst = rng.integers(0, n, 20_000), rng.integers(0, n, 20_000)
    keep = src != dst
    pairs = pd.DataFrame({"follower": src[keep], "followee": dst[keep]}).drop_duplicates()
    pairs.to_csv(tmp_path / "graph.csv", index=False)
    scenario_file = tmp_path / "with_graph.toml"
    scenario_file.write_text(MINI.read_text() + '\n[network]\nedges = "graph.csv"\n'
                             'tie_probability = { friend = 0.2 }\n')
    s = scenarios.load(scenario_file)
    assert s.network.edges == str(tmp_path / "graph.csv")
    r = simulation.run(s, seed=1)
    assert r.network["ties"] == len(pairs)
    assert r.summary["by_source"]["friend"]["reach"] > 0


def test_a_bad_graph_stops_the_run_before_it_starts(tmp_path):
    write(tmp_path, "follower,followee\n1,1\n", "graph.csv")
    scenario_file = tmp_path / "bad_graph.toml"
    scenario_file.write_text(MINI.read_text() + '\n[network]\nedges = "graph.csv"\n')
    with pytest.raises(ScenarioError, match="self-loop"):
        simulation.run(scenarios.load(scenario_file), seed=1)
