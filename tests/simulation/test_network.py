"""Follow-graph generation and the independent-cascade kernel, against their theory."""

import numpy as np
import pytest
from scipy.optimize import brentq

from simulation import network as net
from simulation.diffusion import independent_cascade


def erdos_renyi(n, mean_degree, rng):
    m = rng.poisson(n * mean_degree)
    return net.from_edges(n, rng.integers(0, n, m), rng.integers(0, n, m),
                          np.full(m, net.TIE_FRIEND))


def test_subcritical_mean_cascade_size_is_one_over_one_minus_r():
    """Branching-process theory on a directed Erdos-Renyi graph: with mean out-degree c and
    tie probability p, offspring are Poisson(R = c p); below R = 1 the expected total
    progeny of one seed is 1 / (1 - R), with variance R / (1 - R)^3. 4 standard errors."""
    rng = np.random.default_rng(1)
    g = erdos_renyi(100_000, 5.0, rng)
    r, runs = 0.5, 3000
    sizes = np.array([independent_cascade(g, [s], r / 5.0, rng=rng).size
                      for s in rng.integers(0, g.n, runs)])
    se = np.sqrt(r / (1 - r) ** 3 / runs)
    assert abs(sizes.mean() - 1 / (1 - r)) < 4 * se


def test_supercritical_cascades_reach_the_giant_fraction():
    """Above the critical point (R = 2) a seed starts a large cascade with probability s and
    a large cascade reaches a fraction s of the nodes, where s = 1 - exp(-R s) (0.797)."""
    rng = np.random.default_rng(2)
    n, c, r, runs = 20_000, 4.0, 2.0, 300
    g = erdos_renyi(n, c, rng)
    s = brentq(lambda x: x - 1 + np.exp(-r * x), 1e-6, 1)
    sizes = np.array([independent_cascade(g, [v], r / c, rng=rng).size
                      for v in rng.integers(0, n, runs)])
    large = sizes > 0.2 * n
    assert abs(large.mean() - s) < 4 * np.sqrt(s * (1 - s) / runs)
    assert abs(sizes[large].mean() / n - s) < 0.02


def test_no_ties_means_only_the_seeds():
    g = net.from_edges(50, np.array([], dtype=int), np.array([], dtype=int),
                       np.array([], dtype=int))
    c = independent_cascade(g, [3, 7], 1.0, rng=np.random.default_rng(0))
    assert c.size == 2 and set(np.flatnonzero(c.active)) == {3, 7}


def test_certain_ties_reach_exactly_the_descendants_with_depths_and_parents():
    # 0 -> 1 -> 2 -> 3, 0 -> 4; 5 unreachable
    g = net.from_edges(6, np.array([0, 1, 2, 0]), np.array([1, 2, 3, 4]),
                       np.full(4, net.TIE_KOL))
    c = independent_cascade(g, [0], 1.0, rng=np.random.default_rng(0))
    assert list(c.depth) == [0, 1, 2, 3, 1, -1]
    assert list(c.parent) == [-1, 0, 1, 2, 0, -1]
    c = independent_cascade(g, [0], [1.0, 0.0, 0.0], rng=np.random.default_rng(0))
    assert c.size == 5  # KOL ties certain
    c = independent_cascade(g, [0], [0.0, 1.0, 1.0], rng=np.random.default_rng(0))
    assert c.size == 1


@pytest.fixture(scope="module")
def generated():
    rng = np.random.default_rng(3)
    segment = rng.choice(8, size=200_000, p=[0.2, 0.1, 0.15, 0.15, 0.1, 0.1, 0.1, 0.1])
    settings = net.NetworkSettings(kol_share=0.005, homophily=0.6, reciprocity=0.5)
    return segment, settings, net.generate(segment, settings, rng=rng)


def test_generated_graph_has_no_self_loops_or_duplicates(generated):
    _, _, g = generated
    src = g.sources()
    assert not (src == g.indices).any()
    key = src * g.n + g.indices
    assert len(np.unique(key)) == len(key)


def test_friend_homophily_matches_the_setting(generated):
    """A homophilous draw lands in the own segment with probability h + (1 - h) sum q_k^2
    (q_k the segment shares); 4 binomial standard errors over the friend ties."""
    segment, settings, g = generated
    friend = g.tie == net.TIE_FRIEND
    same = (segment[g.sources()[friend]] == segment[g.indices[friend]]).mean()
    q = np.bincount(segment) / len(segment)
    h = settings.homophily
    expected = h + (1 - h) * (q**2).sum()
    assert abs(same - expected) < 4 * np.sqrt(expected * (1 - expected) / friend.sum())


def test_degrees_match_the_settings(generated):
    """Friends: Poisson(mean) out-ties plus reciprocated ones; KOCs: audiences within the
    configured range; KOLs: a Pareto tail whose Hill estimate (top 200 of 1,000 audiences)
    is within 4 standard errors (alpha / sqrt(k)) of the configured tail index."""
    segment, s, g = generated
    n = len(segment)
    deg = np.bincount(g.sources(), minlength=n)
    friend_out = np.bincount(g.sources()[g.tie == net.TIE_FRIEND], minlength=n)
    assert friend_out.mean() == pytest.approx(s.friend_degree * (1 + s.reciprocity), rel=0.02)
    koc = deg[g.role == net.ROLE_KOC] - friend_out[g.role == net.ROLE_KOC]
    assert koc.min() >= s.koc_followers[0] - 2 and koc.max() <= s.koc_followers[1]
    kol = np.sort(deg[g.role == net.ROLE_KOL] - friend_out[g.role == net.ROLE_KOL])[::-1]
    k = 200
    hill = 1 / np.mean(np.log(kol[:k] / kol[k]))
    assert abs(hill - s.kol_tail) < 4 * s.kol_tail / np.sqrt(k)


def test_small_graphs_export_to_networkx():
    import networkx as nx

    rng = np.random.default_rng(0)
    g = net.generate(rng.integers(0, 8, 500), net.NetworkSettings(kol_share=0.01), rng=rng)
    dg = g.to_networkx()
    assert isinstance(dg, nx.DiGraph) and dg.number_of_edges() == g.n_edges


def test_stack_shifts_each_block_and_fills_missing_weights_with_one():
    """The stacked graph is the blocks' edges one after the other, each block's nodes
    numbered after the previous blocks', a block without weights weighing 1."""
    rng = np.random.default_rng(4)
    parts = [net.from_edges(n, rng.integers(0, n, 3 * n), rng.integers(0, n, 3 * n),
                            rng.integers(0, 3, 3 * n), role=rng.integers(0, 3, n).astype(np.int8),
                            weight=rng.random(3 * n) if weighted else None)
             for n, weighted in [(40, False), (25, True), (60, False)]]
    g = net.stack(parts)
    offsets = np.cumsum([0] + [p.n for p in parts])
    assert g.n == offsets[-1] and g.indices.dtype == np.int32 and g.indptr.dtype == np.int64
    assert np.array_equal(g.sources(), np.concatenate(
        [p.sources() + o for p, o in zip(parts, offsets, strict=False)]))
    assert np.array_equal(g.indices, np.concatenate(
        [p.indices + o for p, o in zip(parts, offsets, strict=False)]))
    assert np.array_equal(g.tie, np.concatenate([p.tie for p in parts]))
    assert np.array_equal(g.role, np.concatenate([p.role for p in parts]))
    assert np.array_equal(g.weight, np.concatenate(
        [np.ones(p.n_edges, np.float32) if p.weight is None else p.weight for p in parts]))
    assert net.stack(parts[:1]) is parts[0]


def test_grouped_is_a_stable_argsort_and_counts():
    """``population.grouped``: members by code in order within each code (what a stable
    argsort gives), each group's start and size, at least ``n_groups`` groups."""
    from simulation.population import grouped

    rng = np.random.default_rng(5)
    for codes, n_groups in ((rng.integers(0, 8, 300), 0), (rng.integers(0, 700, 3000), 900),
                            (np.array([], dtype=np.int64), 4)):
        members, start, size = grouped(codes, n_groups)
        want = np.bincount(codes, minlength=n_groups)
        assert np.array_equal(members, np.argsort(codes, kind="stable"))
        assert np.array_equal(size, want) and len(size) >= n_groups
        assert np.array_equal(start, np.concatenate([[0], np.cumsum(want)[:-1]]))
