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


def test_first_of_each_pair_is_numpys_unique_index():
    rng = np.random.default_rng(2)
    for n, edges in [(3, 0), (10, 60), (2000, 30000)]:
        src, dst = rng.integers(0, n, edges), rng.integers(0, n, edges)
        want = np.unique(src * n + dst, return_index=True)[1]
        assert np.array_equal(fused.first_of_each_pair(n, src, dst), want)


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
