"""The compiled loops give exactly what the NumPy lines they replaced gave.

Whole runs are held to their tables' hashes elsewhere (test_categories, test_reference;
``benchmarks/table_hashes.py`` before and after a change); here each loop meets its NumPy
counterpart on random inputs, including the edge cases a loop gets wrong (no ids, repeated
ids, sums that cancel).
"""

from __future__ import annotations

import numpy as np
import pytest

from simulation import fused


@pytest.mark.parametrize("n, draws", [(50, 0), (50, 7), (1000, 40), (1000, 5000)])
def test_unique_counts_is_numpys_unique_and_leaves_its_scratch_clean(n, draws):
    ids = np.random.default_rng(n + draws).integers(0, n, draws)
    scratch = np.zeros(n, dtype=np.int64)
    got = fused.unique_counts(ids, scratch)
    want = np.unique(ids, return_counts=True)
    assert all(np.array_equal(g, w) and g.dtype == w.dtype for g, w in zip(got, want))
    assert not scratch.any()


@pytest.mark.parametrize("n, draws", [(1, 0), (1, 3), (50, 7), (1000, 40), (2000, 5000),
                                      (1 << 20, 3000), ((1 << 20) + 1, 3000)])
def test_radix_unique_counts_is_numpys_unique(n, draws):
    """Ids up to 2^20 and just past (one more digit pass), duplicates, none at all."""
    ids = np.random.default_rng(n + draws).integers(0, n, draws)
    ids[: draws // 10] = n - 1  # the largest id, repeated
    got = fused.radix_unique_counts(ids, n)
    want = np.unique(ids, return_counts=True)
    assert all(np.array_equal(g, w) and g.dtype == w.dtype for g, w in zip(got, want))


def test_add_to_cells_is_bincount_bit_for_bit():
    rng = np.random.default_rng(1)
    cell = rng.integers(0, 40, 500)
    ids = rng.integers(0, 500, 300)
    weights = rng.normal(size=300) * 10.0 ** rng.integers(-8, 8, 300)
    weights[:2] = [1.5, -1.5]  # a cell whose sum cancels
    cell[ids[:2]] = 7
    for w in (weights, None):
        row = rng.normal(size=40)
        want = row + np.bincount(cell[ids], weights=w, minlength=40)
        scratch = np.zeros(40)
        fused.add_to_cells(row, cell, ids, np.empty(0) if w is None else w, scratch)
        assert row.tobytes() == want.tobytes()
        assert not scratch.any()


@pytest.mark.parametrize("csr_edges", [fused.csr_edges, fused.csr_edges_by_target])
def test_csr_edges_is_numpys_unique_without_self_loops(csr_edges):
    """Edges kept, their order and the rows are those of ``np.unique(src * n + dst,
    return_index=True)`` over the edges that are not self-loops (sources with many targets
    and with few, repeated pairs, self-loops; the edges in one part or in two)."""
    rng = np.random.default_rng(2)
    for n, edges in [(3, 0), (10, 60), (2000, 30000), (50, 5000)]:
        src, dst = rng.integers(0, n, edges), rng.integers(0, n, edges)
        tie = rng.integers(0, 3, edges).astype(np.int8)
        keep = np.flatnonzero(src != dst)
        first = keep[np.unique(src[keep] * n + dst[keep], return_index=True)[1]]
        cut = edges // 3
        for parts in (((src,), (dst,), (tie,)),
                      tuple((a[:cut], a[cut:]) for a in (src, dst, tie))):
            for with_index in (True, False):
                indptr, target, got_tie, index = csr_edges(n, *parts, with_index)
                assert np.array_equal(target, dst[first]) and target.dtype == np.int32
                assert np.array_equal(got_tie, tie[first]) and got_tie.dtype == np.int8
                assert np.array_equal(index, first if with_index else [])
                assert np.array_equal(indptr, np.concatenate(
                    [[0], np.cumsum(np.bincount(src[first], minlength=n))]))


def test_fill_slots_applies_opt_outs_consent_and_each_worlds_cap():
    world = np.array([0, 0, 1, 1])
    opted_out = np.array([[False], [True], [False], [False]])
    consent = np.array([True, True, False, True])
    contacts = np.array([[1], [0], [0], [2]], dtype=np.int16)
    total = np.array([5, 0, 0, 2], dtype=np.int16)
    ids, counts, cap = np.arange(4), np.array([9, 9, 9, 9]), np.array([3, 4])
    filled, before = fused.fill_slots(ids, counts, 0, opted_out, consent, True, cap, world,
                                      contacts, total)
    assert filled.tolist() == [2, 0, 0, 2]
    assert before.tolist() == [5, 0, 0, 2]
    assert contacts[:, 0].tolist() == [3, 0, 0, 4] and total.tolist() == [7, 0, 0, 4]
    placed, _ = fused.fill_slots(ids, counts, 0, opted_out, consent, False, cap, world,
                                 contacts, np.empty(0, dtype=np.int16))
    assert placed.tolist() == [0, 0, 4, 0] and total.tolist() == [7, 0, 0, 4]


def _numpy_utilities(ids, world, hour, alts, cols, behaviour, adstock, proof, shift):
    """``ArrayConsumers.decide``'s NumPy loop before ``fused.decision_utilities``: ``alts``
    are (product, price, anchor, limited, live_discount, floor, promoted) with price, anchor
    and limited one number (all worlds) or a (K,) array; ``behaviour`` values likewise."""
    from types import SimpleNamespace

    from simulation import kernels as k

    def at(v):
        return v if np.ndim(v) == 0 else v[world[ids]]

    b = SimpleNamespace(**{f: at(v) for f, v in behaviour.items()})
    n, m = len(ids), len(alts)
    utility, price, coupon = np.empty((n, m)), np.empty((n, m)), np.empty((n, m))
    faced_loss, anchored = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    for j, (q, quote_price, anchor, limited, live, floor, promoted) in enumerate(alts):
        coupon[:, j] = np.where(cols["coupon_until"][ids, q] > hour,
                                cols["coupon_value"][ids, q], 0.0)
        price[:, j] = k.consumer_price(at(quote_price), live, coupon[:, j], floor)
        anchor = at(anchor)
        reference = cols["reference"][ids, q]
        shown = k.anchored_reference(reference, anchor, cols["anchoring_weight"][ids])
        faced_loss |= k.faces_loss(price[:, j], shown)
        anchored |= ~np.isnan(anchor)
        utility[:, j] = k.decision_utility(
            base=cols["base"][ids], price_sensitivity=cols["price_sensitivity"][ids],
            loss_aversion=cols["loss_aversion"][ids],
            anchoring_weight=cols["anchoring_weight"][ids],
            framing_susceptibility=cols["framing"][ids],
            social_susceptibility=cols["social_susceptibility"][ids], reference=reference,
            price=price[:, j], anchor=anchor, limited_time=at(limited),
            adstock=adstock if promoted else 0.0, social_proof=proof if promoted else 0.0,
            behaviour=b, shift=shift)
    return utility, price, coupon, faced_loss, anchored


@pytest.mark.parametrize("per_world", [False, True])
def test_decision_utilities_are_numpys_bit_for_bit(per_world):
    """Every value one number for all worlds (float32 products with the consumers'
    columns, as NumPy's NEP 50 computes them) or one per world (float64)."""
    from simulation.engine import _table

    rng = np.random.default_rng(5 + per_world)
    n_all, k_worlds, n_products = 300, 3, 3
    world = np.sort(rng.integers(0, k_worlds, n_all)).astype(np.int32)
    f32 = np.float32
    cols = {name: rng.uniform(lo, hi, n_all).astype(f32) for name, lo, hi in [
        ("base", -3, 1), ("price_sensitivity", 0.5, 6), ("loss_aversion", 1, 3),
        ("anchoring_weight", 0, 1), ("framing", 0, 1), ("social_susceptibility", 0, 1)]}
    cols["reference"] = rng.uniform(50, 150, (n_all, n_products)).astype(f32)
    cols["coupon_value"] = rng.choice([0.0, 5.0, 12.5], (n_all, n_products)).astype(f32)
    cols["coupon_until"] = rng.integers(0, 20, (n_all, n_products)).astype(np.int32)

    def value(lo, hi):
        return rng.uniform(lo, hi, k_worlds) if per_world else float(rng.uniform(lo, hi))

    behaviour = {"urgency_utility": value(0.1, 1), "awareness_saturation": value(0.5, 2),
                 "awareness_weight": value(0.5, 2), "social_weight": value(0.1, 1)}
    anchors = rng.uniform(80, 200, k_worlds)
    anchors[0] = np.nan
    alts = [(0, value(40, 90), anchors if per_world else 120.0, True, 0.1, 1.0, True),
            (2, value(40, 90), np.nan, rng.random(k_worlds) < 0.5 if per_world else False,
             0.0, 70.0, False),
            (1, 60.0, 150.0 if per_world else np.nan, False, 0.0, 1.0, True)]
    ids = np.sort(rng.choice(n_all, 200, replace=False))
    adstock = rng.exponential(1.0, len(ids))
    proof = rng.exponential(1.0, len(ids)).astype(f32)
    hour, shift = 10, -0.25
    want = _numpy_utilities(ids, world, hour, alts, cols, behaviour, adstock, proof, shift)
    table = {f: np.broadcast_to(np.asarray(v, dtype=np.float64), (k_worlds,)).copy()
             for f, v in behaviour.items()}
    got = fused.decision_utilities(
        ids, world, hour, np.array([a[0] for a in alts]),
        _table([a[1] for a in alts], k_worlds), np.array([a[4] for a in alts]),
        np.array([a[5] for a in alts]), _table([a[2] for a in alts], k_worlds),
        np.array([np.ndim(a[2]) == 0 for a in alts]),
        _table([a[3] for a in alts], k_worlds, bool), np.array([a[6] for a in alts]),
        cols["coupon_value"], cols["coupon_until"], cols["reference"], cols["base"],
        cols["price_sensitivity"], cols["loss_aversion"], cols["anchoring_weight"],
        cols["framing"], cols["social_susceptibility"], table["urgency_utility"],
        not per_world, table["awareness_saturation"], table["awareness_weight"],
        table["social_weight"], not per_world, adstock, proof, shift)
    for g, w in zip(got, want, strict=True):
        assert g.dtype == w.dtype and g.tobytes() == w.tobytes()
    assert want[3].any() and not want[3].all() and want[4].any()  # losses, some; anchors


def test_update_references_is_numpys_smoothing_bit_for_bit():
    from simulation import kernels as k

    rng = np.random.default_rng(7)
    n_all, k_worlds = 100, 2
    world = np.repeat(np.arange(k_worlds, dtype=np.int32), n_all // k_worlds)
    reference = rng.uniform(50, 150, (n_all, 3)).astype(np.float32)
    ids = np.sort(rng.choice(n_all, 60, replace=False))
    products = np.array([2, 0])
    choice = rng.integers(-1, 2, len(ids))
    price = rng.uniform(40, 160, (len(ids), 2))
    chosen, seen = np.array([0.3, 0.5]), np.array([0.05, 0.1])
    want = reference.copy()
    for j, q in enumerate(products):
        weight = np.where(choice == j, chosen[world[ids]], seen[world[ids]])
        want[ids, q] = k.updated_reference(want[ids, q], price[:, j], weight)
    fused.update_references(ids, world, products, choice, price, chosen, seen, reference)
    assert reference.tobytes() == want.tobytes()


def test_pick_in_segment_is_numpys_gather():
    rng = np.random.default_rng(3)
    n, ties = 500, 4000
    segment = rng.integers(0, 7, n)
    owners = rng.integers(0, n, ties)
    local = rng.random(ties) < 0.6
    order = np.argsort(segment, kind="stable")
    counts = np.bincount(segment, minlength=7)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    uniforms = rng.random(local.sum())
    want = rng.integers(0, n, ties)
    got = want.copy()
    seg = segment[owners[local]]
    want[local] = order[starts[seg] + (uniforms * counts[seg]).astype(np.int64)]
    fused.pick_in_segment(got, local, owners, segment, uniforms, order, starts, counts)
    assert np.array_equal(got, want)


def test_first_reach_is_numpys_unique_of_the_unreached():
    rng = np.random.default_rng(6)
    reached = rng.random((300, 3)) < 0.4
    for ids in (np.array([], dtype=np.int64), rng.integers(0, 300, 500),
                np.sort(rng.integers(0, 300, 200)), np.unique(rng.integers(0, 300, 200))):
        want_reached = reached.copy()
        want = np.unique(ids[~want_reached[ids, 1]])
        want_reached[want, 1] = True
        got = fused.first_reach(ids, reached, 1)
        assert np.array_equal(got, want) and got.dtype == want.dtype
        assert np.array_equal(reached, want_reached)


def test_deliver_is_fill_slots_then_numpys_compaction_age_and_affinity():
    """Cap and affinity are read by world x segment cell: the world's cap, the product of
    the world's generation and tier affinities; the reached consumers' ad-stock hour
    becomes the hour."""
    from scenarios.schema import GENERATIONS, TIERS
    from simulation.population import N_SEGMENTS

    rng = np.random.default_rng(8)
    n, k_worlds, channels = 400, 3, 2
    n_generations, n_tiers = len(GENERATIONS), len(TIERS)
    world = np.sort(rng.integers(0, k_worlds, n)).astype(np.int32)
    generation = rng.integers(0, n_generations, n).astype(np.int8)
    tier = rng.integers(0, n_tiers, n).astype(np.int8)
    cell = world * N_SEGMENTS + generation * n_tiers + tier
    by_generation = rng.random((k_worlds, n_generations))
    by_tier = rng.random((k_worlds, n_tiers))
    by_cell = (by_generation[:, :, None] * by_tier[:, None, :]).ravel()
    opted_out = rng.random((n, channels)) < 0.1
    consent = rng.random(n) < 0.8
    cap = np.array([2, 3, 5])
    contacts = rng.integers(0, 4, (n, channels)).astype(np.int16)
    total = rng.integers(0, 6, n).astype(np.int16)
    adstock_hour = rng.integers(0, 50, n).astype(np.int32)
    ids = np.sort(rng.choice(n, 250, replace=False))
    counts = rng.integers(1, 4, len(ids))
    args = (1, opted_out, consent, True)
    state = (contacts.copy(), total.copy())
    filled, before = fused.fill_slots(ids, counts, *args, cap, world, *state)
    keep = filled > 0
    reached = ids[keep]
    want = (reached, filled[keep], before[keep], 60 - adstock_hour[reached],
            by_generation[world[reached], generation[reached]]
            * by_tier[world[reached], tier[reached]])
    want_hour = adstock_hour.copy()
    want_hour[reached] = 60
    got = fused.deliver(ids, counts, *args, np.repeat(cap, N_SEGMENTS), cell, contacts, total,
                        adstock_hour, 60, by_cell)
    for g, w in zip(got, want, strict=True):
        assert g.dtype == w.dtype and g.tobytes() == w.tobytes()
    assert np.array_equal(contacts, state[0]) and np.array_equal(total, state[1])
    assert np.array_equal(adstock_hour, want_hour)
    assert 0 < keep.sum() < len(ids)


@pytest.mark.parametrize("price_shared, weight_shared",
                         [(True, True), (True, False), (False, True), (False, False)])
def test_see_price_is_numpys_update_bit_for_bit(price_shared, weight_shared):
    """A price or weight shared by all worlds is a Python float (float32 arithmetic with
    the references, NEP 50); one per world a float64 array."""
    from simulation import kernels as k

    rng = np.random.default_rng(9)
    n, k_worlds = 300, 3
    world = np.sort(rng.integers(0, k_worlds, n)).astype(np.int32)
    reference = rng.uniform(50, 150, (n, 2)).astype(np.float32)
    ids = np.sort(rng.choice(n, 200, replace=False))
    price = float(rng.uniform(60, 140)) if price_shared else rng.uniform(60, 140, k_worlds)
    weight = 0.1 + 1e-9 / 3 if weight_shared else rng.uniform(0.05, 0.2, k_worlds)

    def at(v):
        return v if np.ndim(v) == 0 else v[world[ids]]

    want = reference.copy()
    want[ids, 1] = k.updated_reference(want[ids, 1], at(price), at(weight))

    def table(v):
        return np.broadcast_to(np.asarray(v, dtype=np.float64), (k_worlds,)).copy()

    fused.see_price(ids, world, 1, table(price), price_shared, table(weight), weight_shared,
                    reference)
    assert reference.tobytes() == want.tobytes()


def test_sum_by_world_is_bincount_bit_for_bit():
    rng = np.random.default_rng(8)
    world = np.repeat(np.arange(5, dtype=np.int32), 60)
    for ids in (np.array([], dtype=np.int64), rng.integers(0, 300, 400)):
        weights = rng.normal(size=len(ids)) * 10.0 ** rng.integers(-8, 8, len(ids))
        for w in (weights, None):
            want = np.bincount(world[ids], weights=w, minlength=5).astype(np.float64)
            got = fused.sum_by_world(world, ids, np.empty(0) if w is None else w, 5)
            assert got.tobytes() == want.tobytes()


def test_add_total_is_recorders_numpy_spread_bit_for_bit():
    rng = np.random.default_rng(9)
    k, n_seg = 4, 15
    cell = rng.integers(0, k * n_seg, 500)
    cell[cell // n_seg == 2] = 0  # world 2 has no consumers: its amount goes to its cell 0
    for ids in (np.array([], dtype=np.int64), rng.integers(0, 500, 300)):
        for amount in (rng.random(k) * 10.0 ** rng.integers(-3, 6, k),
                       np.broadcast_to(np.float64(123.456), (k,))):
            row = rng.normal(size=k * n_seg)
            counts = np.bincount(cell[ids], minlength=k * n_seg).reshape(
                k, n_seg).astype(np.float64)
            totals = counts.sum(axis=1)
            nobody = totals == 0
            counts[nobody, 0], totals[nobody] = 1.0, 1.0
            want = row + (amount[:, None] * counts / totals[:, None]).reshape(-1)
            scratch = np.zeros(k * n_seg)
            fused.add_total(row, cell, ids, amount, n_seg, scratch)
            assert row.tobytes() == want.tobytes()
            assert not scratch.any()



def test_buckets_give_back_what_the_dict_of_lists_held():
    """``Buckets`` (``fused.push_in_buckets`` / ``pop_buckets``) against the dict of
    per-bucket lists it replaced: pops of one bucket and of a range, empty buckets, a
    bucket filled again after its pop, growth past the first allocation."""
    from collections import defaultdict

    from simulation.buckets import Buckets

    rng = np.random.default_rng(11)
    buckets, want = Buckets(50), defaultdict(list)
    for size in (0, 5, 700, 900, 3):
        keys, values = rng.integers(0, 50, size), rng.integers(0, 10**6, size)
        buckets.push(keys, values)
        for key, value in zip(keys.tolist(), values.tolist(), strict=True):
            want[key].append(value)
        for first, stop in ((0, 1), (7, 7), (10, 14), (rng.integers(0, 50), 50)):
            got = buckets.pop(first, stop)
            expected = [v for b in range(first, stop) for v in want.pop(b, [])]
            assert got.dtype == np.int64 and sorted(got.tolist()) == sorted(expected)
    assert sorted(buckets.pop(0, 50).tolist()) == sorted(v for b in want.values() for v in b)
    assert len(buckets.pop(0, 50)) == 0


@pytest.mark.parametrize("tick", [1, 6])
def test_record_purchases_is_buys_numpy_lines(tick):
    from simulation import kernels as k

    rng = np.random.default_rng(12)
    n_all, n_products = 200, 4
    purchases = rng.integers(0, 3, n_all).astype(np.int32)
    existing = rng.random(n_all) < 0.3
    coupon_value = rng.choice([0.0, 5.0], (n_all, n_products)).astype(np.float32)
    next_need = rng.integers(0, 500, (n_all, n_products)).astype(np.int32)
    ids = np.sort(rng.choice(n_all, 80, replace=False))
    coupon = np.where(rng.random(80) < 0.5, 5.0, 0.0)
    members, product = np.array([1, 3]), 3
    hour, delay = 40, rng.weibull(1.5, 80) * 300
    delay[:2] = [0.0, 2.5]
    due = k.due_hour(hour, delay, tick)
    want = [a.copy() for a in (purchases, coupon_value, next_need)]
    want_new = (want[0][ids] == 0) & ~existing[ids]
    want[0][ids] += 1
    want[1][ids[coupon > 0], product] = 0.0
    want[2][ids[:, None], members] = due[:, None]
    new, got_due = fused.record_purchases(ids, product, coupon, members, hour, delay, tick,
                                          purchases, existing, coupon_value, next_need)
    assert np.array_equal(new, want_new) and new.any() and not new.all()
    assert got_due.dtype == due.dtype and np.array_equal(got_due, due)
    for got, w in zip((purchases, coupon_value, next_need), want, strict=True):
        assert got.dtype == w.dtype and got.tobytes() == w.tobytes()


@pytest.mark.parametrize("m", [1, 2, 3])
def test_choose_is_chosen_alternative(m):
    from simulation import kernels as k

    rng = np.random.default_rng(13 + m)
    utility = rng.normal(0, 2, (400, m))
    probabilities = k.choice_probabilities(utility)
    uniform = rng.random(400)
    uniform[:m] = np.cumsum(probabilities[0])  # draws exactly on a cumulative probability
    want = k.chosen_alternative(uniform, probabilities)
    got = fused.choose(uniform, probabilities, False)
    assert got.dtype == want.dtype and np.array_equal(got, want)
    assert set(want.tolist()) == set(range(-1, m))
    assert np.array_equal(fused.choose(uniform, probabilities, True), np.zeros(400, int))


@pytest.mark.parametrize("tick", [1, 4])
def test_acts_due_is_spreads_numpy_schedule(tick):
    from simulation import kernels as k

    rng = np.random.default_rng(14 + tick)
    n, m, hour, hours = 1000, 500, 30, 60
    waits, responses = rng.integers(0, 6, m), rng.exponential(8.0, m)
    targets, groups = rng.integers(0, n, m), rng.integers(0, 8, m)
    for window in (12, np.iinfo(np.int64).max):
        delay = waits + 1 + np.floor(responses).astype(np.int64)
        acts = k.due_hour(hour, delay - 1, tick)
        keep = (acts < hours) & (delay <= window)
        when, code = fused.acts_due(waits, responses, hour, tick, hours, window, groups, n,
                                    targets)
        assert np.array_equal(when, acts[keep]) and when.dtype == np.int64
        assert np.array_equal(code, (groups * n + targets)[keep]) and 0 < len(code) < m


def _small_graph(rng, n=60):
    indptr = np.concatenate([[0], np.cumsum(rng.integers(0, 7, n))])
    indices = rng.integers(0, n, indptr[-1]).astype(np.int32)
    tie = rng.integers(0, 3, indptr[-1]).astype(np.int8)
    return indptr, indices, tie


def test_open_ties_is_numpys_out_edges_then_filter():
    rng = np.random.default_rng(15)
    indptr, _, tie = _small_graph(rng)
    used = rng.integers(0, 4, len(tie)).astype(np.uint8)
    for nodes in (np.array([], dtype=np.int64), np.sort(rng.choice(60, 20, replace=False))):
        for mechanism, only_tie in ((np.uint8(1), -1), (np.uint8(2), 2)):
            starts, lengths = indptr[nodes], indptr[nodes + 1] - indptr[nodes]
            edges = (np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
                     + np.arange(lengths.sum()))
            src = np.repeat(nodes, lengths)
            keep = (used[edges] & mechanism) == 0
            if only_tie >= 0:
                keep &= tie[edges] == only_tie
            got = fused.open_ties(indptr, tie, nodes, used, mechanism, only_tie)
            assert all(np.array_equal(g, w) and g.dtype == w.dtype
                       for g, w in zip(got, (edges[keep], src[keep]), strict=True))
            assert 0 < keep.sum() < len(keep) or len(nodes) == 0


def test_fresh_wins_is_influences_numpy_filter():
    rng = np.random.default_rng(16)
    indptr, indices, _ = _small_graph(rng)
    influenced = rng.random(60) < 0.3
    edges = np.sort(rng.choice(indptr[-1], 80, replace=False))
    hit = rng.random(80) < 0.5
    won = np.flatnonzero(hit)
    targets = indices[edges[won]].astype(np.int64)
    fresh = ~influenced[targets]
    got = fused.fresh_wins(hit, edges, indices, influenced)
    assert all(np.array_equal(g, w) and g.dtype == w.dtype
               for g, w in zip(got, (won[fresh], targets[fresh]), strict=True))
    assert 0 < fresh.sum() < len(fresh)


def test_inherit_reads_before_it_writes_as_numpy_does():
    rng = np.random.default_rng(17)
    parent = np.full(50, -1, dtype=np.int32)
    depth = rng.integers(0, 5, 50).astype(np.int16)
    cascade = rng.integers(-1, 9, 50).astype(np.int32)
    targets = np.sort(rng.choice(50, 20, replace=False))
    src = rng.choice(50, 20)
    src[-3:] = targets[:3]  # posters influenced in the same spread (written first)
    want = [a.copy() for a in (parent, depth, cascade)]
    want[0][targets] = src
    want[1][targets] = want[1][src] + 1
    want[2][targets] = want[2][src]
    fused.inherit(targets, src, parent, depth, cascade)
    for got, w in zip((parent, depth, cascade), want, strict=True):
        assert got.dtype == w.dtype and np.array_equal(got, w)


def test_first_wins_is_numpys_unique_of_the_shuffled_followers():
    rng = np.random.default_rng(18)
    for m in (0, 1, 300):
        targets = rng.integers(0, 40, m)  # followers reached by several ties at once
        won = np.sort(rng.choice(1000, m, replace=False))
        shuffle = rng.permutation(m)
        influenced = np.zeros(40, dtype=bool)
        want_targets, first = np.unique(targets[shuffle], return_index=True)
        got = fused.first_wins(targets, won, shuffle, influenced)
        for g, w in zip(got, (want_targets, won[shuffle][first]), strict=True):
            assert g.dtype == w.dtype and np.array_equal(g, w)
        assert np.array_equal(np.flatnonzero(influenced), want_targets)


@pytest.mark.parametrize("per_world", [False, True])
def test_post_chances_are_word_of_mouths_numpy_lines(per_world):
    rng = np.random.default_rng(19 + per_world)
    n_all, k_worlds = 200, 3
    world = np.sort(rng.integers(0, k_worlds, n_all)).astype(np.int32)
    generation = rng.integers(0, 4, n_all).astype(np.int8)
    p_wom = rng.uniform(0.05, 0.9, (k_worlds, 4))
    satisfaction = rng.uniform(0, 3, k_worlds) if per_world else 1.7
    ids = np.sort(rng.choice(n_all, 120, replace=False))
    price, list_price = rng.uniform(10, 140, 120), 99.0
    deal = np.maximum(1.0 - price / list_price, 0.0)
    s = satisfaction[world[ids]] if per_world else satisfaction
    want = np.minimum(p_wom[world[ids], generation[ids]] * (1 + s * deal), 1.0)
    table = np.broadcast_to(np.asarray(satisfaction, dtype=np.float64), (k_worlds,)).copy()
    got = fused.post_chances(ids, price, list_price, world, generation, p_wom, table)
    assert got.tobytes() == want.tobytes() and (want == 1.0).any() and (deal == 0).any()
