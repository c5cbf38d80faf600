"""Compiled loops (Numba) of the fast engine's delivery path and recording.

Each loop does in one pass over the consumers touched what a chain of NumPy gathers,
temporaries and scatters did, with the same arithmetic in the same order, so results stay
bit for bit those of the NumPy lines they replaced (``benchmarks/table_hashes.py``).
Steps with ``exp`` or ``power`` (ad-stock decay, click and complaint probabilities) stay in
NumPy: its SIMD routines and LLVM's can differ in the last bit. Compiled code is cached on
disk (``cache=True``), so only the first run after an install or an edit pays the compile.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def fill_slots(ids, counts, channel, opted_out, consent, requires_consent, cap, world,
               contacts, contacts_total):
    """How many of ``counts[i]`` impressions of ``channel`` reach consumer ``ids[i]``
    (unique): none after an opt-out or, where the channel needs it, without consent; at
    most the room left under the world's daily frequency cap ``cap[world]``. The slots
    filled count against the channel's daily contacts and, when ``contacts_total`` has a
    row per consumer (a real ad, not a public-service placeholder), the day's total.

    Returns (filled per consumer, int16; the day's total contacts before, int16).
    """
    n = len(ids)
    filled = np.zeros(n, dtype=np.int16)
    before = np.zeros(n, dtype=np.int16)
    count_total = len(contacts_total) > 0
    for i in range(n):
        c = ids[i]
        if opted_out[c, channel] or (requires_consent and not consent[c]):
            continue
        room = cap[world[c]] - np.int64(contacts[c, channel])
        d = min(counts[i], room)
        if d <= 0:
            continue
        filled[i] = d
        contacts[c, channel] += np.int16(d)
        if count_total:
            before[i] = contacts_total[c]
            contacts_total[c] += np.int16(d)
    return filled, before


@njit(cache=True, nogil=True)
def add_adstock(ids, decay, per_impression, world, delivered, hour, adstock, adstock_hour):
    """A <- A x decay + a x k for consumers ``ids`` (``per_impression[world]`` is a), in
    float64 and stored as float32, as NumPy's ``adstock * decay + a * delivered`` does;
    the ad-stock's hour becomes ``hour``."""
    for i in range(len(ids)):
        c = ids[i]
        adstock[c] = np.float32(np.float64(adstock[c]) * decay[i]
                                + per_impression[world[c]] * np.float64(delivered[i]))
        adstock_hour[c] = hour


@njit(cache=True, nogil=True)
def affinity(ids, world, generation, tier, by_generation, by_tier):
    """Affinity of consumers ``ids`` for a channel: generation weight x tier weight of
    their world ((K, generations) and (K, tiers) tables)."""
    out = np.empty(len(ids))
    for i in range(len(ids)):
        c = ids[i]
        w = world[c]
        out[i] = by_generation[w, generation[c]] * by_tier[w, tier[c]]
    return out


@njit(cache=True, nogil=True)
def unique_counts(ids, scratch):
    """``np.unique(ids, return_counts=True)`` of many ids in ``0 .. len(scratch) - 1``:
    counted in ``scratch`` (int64 zeros, left as given), then read off it in order. One pass
    over ``scratch``: cheaper than NumPy's sort only when ``ids`` are a sizeable fraction of
    it (a quarter or more)."""
    m = 0
    for c in ids:
        if scratch[c] == 0:
            m += 1
        scratch[c] += 1
    distinct = np.empty(m, dtype=np.int64)
    counts = np.empty(m, dtype=np.int64)
    j = 0
    for c in range(len(scratch)):
        if scratch[c]:
            distinct[j], counts[j] = c, scratch[c]
            scratch[c] = 0
            j += 1
    return distinct, counts


@njit(cache=True, nogil=True)
def draw_members(per_cell, start, size, uniforms, members):
    """Consumers drawn uniformly within cells, ``per_cell[j]`` from cell j (members
    ``members[start[j]:start[j] + size[j]]``), the i-th draw picking member
    ``floor(uniforms[i] x size)`` of its cell."""
    ids = np.empty(len(uniforms), dtype=np.int64)
    i = 0
    for j in range(len(per_cell)):
        for _ in range(per_cell[j]):
            ids[i] = members[start[j] + np.int64(uniforms[i] * np.float64(size[j]))]
            i += 1
    return ids


@njit(cache=True, nogil=True)
def add_to_cells(row, cell, ids, weights, scratch):
    """``row += np.bincount(cell[ids], weights, minlength=len(row))`` touching only the
    cells of ``ids``: each cell's weights are summed in ``scratch`` (float64 zeros, left as
    given) in the order of ``ids``, as ``bincount`` sums them, then added to the row once.
    An empty ``weights`` counts one per id."""
    counted = len(weights) == 0
    for i in range(len(ids)):
        scratch[cell[ids[i]]] += 1.0 if counted else weights[i]
    for i in range(len(ids)):
        j = cell[ids[i]]
        if scratch[j] != 0.0:
            row[j] += scratch[j]
            scratch[j] = 0.0


@njit(cache=True, nogil=True)
def first_of_each_pair(n, src, dst):
    """Indices of the first occurrence of each distinct (src, dst) pair, ordered by src then
    dst: ``np.unique(src * n + dst, return_index=True)[1]``, by a counting sort on src and
    a stable sort of each source's targets (few in a follow graph)."""
    start = np.zeros(n + 1, dtype=np.int64)
    for s in src:
        start[s + 1] += 1
    start = np.cumsum(start)
    order = np.empty(len(src), dtype=np.int64)
    fill = start[:-1].copy()
    for i in range(len(src)):
        order[fill[src[i]]] = i
        fill[src[i]] += 1
    first = np.empty(len(src), dtype=np.int64)
    m = 0
    for s in range(n):
        own = order[start[s]:start[s + 1]]
        if len(own) > 32:
            own = own[np.argsort(dst[own], kind="mergesort")]
        else:  # insertion sort, stable: ties keep their order
            for j in range(1, len(own)):
                e, k = own[j], j
                while k > 0 and dst[own[k - 1]] > dst[e]:
                    own[k] = own[k - 1]
                    k -= 1
                own[k] = e
        for j in range(len(own)):
            if j == 0 or dst[own[j]] != dst[own[j - 1]]:
                first[m] = own[j]
                m += 1
    return first[:m]
