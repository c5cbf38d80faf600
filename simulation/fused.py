"""Compiled loops (Numba) of the fast engine: delivery, decision, recording and the follow
graph's build.

Each loop does in one pass over the consumers (or edges) touched what a chain of NumPy
gathers, temporaries and scatters did, with the same arithmetic in the same order and the
same floating-point types (float32 where NumPy computes in float32), so results stay bit for
bit those of the NumPy lines they replaced (``benchmarks/table_hashes.py``). Steps with
``exp`` or ``power`` (ad-stock decay, click and complaint probabilities, the logit's
choice probabilities) and every random draw stay in NumPy: its SIMD routines and LLVM's can
differ in the last bit. Compiled code is cached on disk (``cache=True``), so only the first
run after an install or an edit pays the compile.
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
def deliver(ids, counts, channel, opted_out, consent, requires_consent, cap, cell, contacts,
            contacts_total, adstock_hour, hour, affinity):
    """``fill_slots`` of a channel's real impressions (counted in the day's total too) and,
    in the same pass, of the consumers reached (some slot filled; in ``ids``' order): the
    consumer, the slots filled and the day's contacts before (int16), the hours since the
    ad-stock's last update (``hour - adstock_hour``, int32; the update's hour becomes
    ``hour``) and the channel's affinity. ``cap`` and ``affinity`` are looked up by each
    consumer's world x segment ``cell``: one read in place of world, generation and tier,
    as delivery is bound by memory reads."""
    n = len(ids)
    reached = np.empty(n, dtype=ids.dtype)
    delivered = np.empty(n, dtype=np.int16)
    before = np.empty(n, dtype=np.int16)
    age = np.empty(n, dtype=np.int32)
    out = np.empty(n)
    j = 0
    for i in range(n):
        c = ids[i]
        if opted_out[c, channel] or (requires_consent and not consent[c]):
            continue
        k = cell[c]
        d = min(counts[i], cap[k] - np.int64(contacts[c, channel]))
        if d <= 0:
            continue
        contacts[c, channel] += np.int16(d)
        reached[j], delivered[j], before[j] = c, d, contacts_total[c]
        contacts_total[c] += np.int16(d)
        age[j] = np.int32(hour) - adstock_hour[c]
        adstock_hour[c] = hour
        out[j] = affinity[k]
        j += 1
    return reached[:j], delivered[:j], before[:j], age[:j], out[:j]


@njit(cache=True, nogil=True)
def add_adstock(ids, decay, per_impression, world, delivered, adstock):
    """A <- A x decay + a x k for consumers ``ids`` (``per_impression[world]`` is a), in
    float64 and stored as float32, as NumPy's ``adstock * decay + a * delivered`` does."""
    for i in range(len(ids)):
        c = ids[i]
        adstock[c] = np.float32(np.float64(adstock[c]) * decay[i]
                                + per_impression[world[c]] * np.float64(delivered[i]))


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
def first_reach(ids, reached, col):
    """Consumers of ``ids`` (repeats allowed) not yet ``reached[:, col]``, now marked:
    ``np.unique(ids[~reached[ids, col]])`` then ``reached[first, col] = True``. Sorted
    ``ids`` (a delivery's) give them in order: no sort then."""
    first = np.empty(len(ids), dtype=np.int64)
    m = 0
    ascending = True
    for c in ids:
        if not reached[c, col]:
            reached[c, col] = True
            first[m] = c
            if m > 0 and c < first[m - 1]:
                ascending = False
            m += 1
    return first[:m].copy() if ascending else np.sort(first[:m])


@njit(cache=True, nogil=True)
def pick_in_segment(targets, local, owners, segment, uniforms, members, start, size):
    """For each tie i with ``local[i]``, its target becomes member ``floor(u x size)`` of
    its owner's segment (``members[start[s]:start[s] + size[s]]``), u the next of
    ``uniforms``: ``targets[local] = members[start[seg] + (uniforms * size[seg])
    .astype(int64)]`` with ``seg = segment[owners[local]]``."""
    u = 0
    for i in range(len(owners)):
        if local[i]:
            s = segment[owners[i]]
            targets[i] = members[start[s] + np.int64(uniforms[u] * np.float64(size[s]))]
            u += 1


@njit(cache=True, nogil=True)
def csr_edges(n, srcs, dsts, ties, with_index):
    """A follow graph's CSR rows from edge lists given in parts (tuples of source, target
    and tie-type arrays, the edges being their concatenation, which is never built):
    self-loops dropped, and of each distinct (src, dst) pair its first occurrence, ordered
    by src then dst (what ``np.unique(src * n + dst, return_index=True)`` of the edges
    without self-loops picks), by a counting sort on src and a stable sort of each
    source's targets (few in a follow graph).

    Returns (indptr: int64, n + 1; each edge kept: its target, int32; its tie type, int8;
    with ``with_index``, its index in the concatenation, int64, else an empty array)."""
    start, key, tie, order, _ = _group_edges(n, srcs, dsts, ties, with_index, False)
    for s in range(n):
        lo, hi = start[s], start[s + 1]
        if hi - lo > 32:
            by = np.argsort(key[lo:hi], kind="mergesort")
            key[lo:hi], tie[lo:hi] = key[lo:hi][by], tie[lo:hi][by]
            if with_index:
                order[lo:hi] = order[lo:hi][by]
        else:  # insertion sort, stable: ties keep their order
            for j in range(lo + 1, hi):
                d, t, k = key[j], tie[j], j
                e = order[j] if with_index else 0
                while k > lo and key[k - 1] > d:
                    key[k], tie[k] = key[k - 1], tie[k - 1]
                    if with_index:
                        order[k] = order[k - 1]
                    k -= 1
                key[k], tie[k] = d, t
                if with_index:
                    order[k] = e
    return _compact_rows(start[:-1], start[1:], key, tie, order, with_index)


@njit(cache=True, nogil=True)
def _compact_rows(start, stop, key, tie, order, with_index):
    """CSR rows of rows s held at ``start[s]:stop[s]`` of ``key`` (sorted), ``tie`` and
    ``order``, each row's repeated keys dropped: moved down in place (a row is written
    where no later row is read). Returns (indptr, key, tie, order)."""
    n = len(stop)
    indptr = np.zeros(n + 1, dtype=np.int64)
    m = 0
    for s in range(n):
        for j in range(start[s], stop[s]):
            if j == start[s] or key[j] != key[j - 1]:
                key[m], tie[m] = key[j], tie[j]
                if with_index:
                    order[m] = order[j]
                m += 1
        indptr[s + 1] = m
    return indptr, key[:m], tie[:m], order[:m if with_index else 0]


@njit(cache=True, nogil=True)
def _maximum(a, b):
    """``np.maximum`` of two floats (NaN propagates)."""
    return a if a >= b or a != a else b


@njit(cache=True, nogil=True)
def decision_utilities(ids, world, hour, products, quote_price, live_discount, floor,
                       anchor, anchor_weak, limited, promoted, coupon_value, coupon_until,
                       reference, base, price_sensitivity, loss_aversion, anchoring_weight,
                       framing, social_susceptibility, urgency, urgency_weak, saturation,
                       aware_weight, social_weight, social_weak, adstock, social_proof, shift):
    """The logit's utilities of consumers ``ids`` for the m alternatives of an offer
    (``kernels.decision_utility`` of each alternative, as ``ArrayConsumers.decide`` applied
    it column by column), with the price each faces, the coupon each would use, and whether
    some alternative's price was above its anchored reference or showed an original price.

    Alternative j is product ``products[j]``; the quotes' price, anchor (NaN: none) and
    limited-time frame (or its source's livestream) are (m, K) tables of each world's
    values; ``live_discount``, ``floor`` and ``promoted`` are per alternative. Behaviour
    numbers are (K,) tables. A ``*_weak`` flag says the value was one number for all
    worlds (a Python float): NumPy then computes its product with the consumers' float32
    columns in float32 (NEP 50), and so does this loop; per-world values are float64.
    ``adstock`` (float64) and ``social_proof`` (float32) are per consumer.

    Returns (utility, price, coupon: (n, m) float64; faced_loss, anchored: (n,) bool).
    """
    n, m = len(ids), len(products)
    utility = np.empty((n, m))
    price = np.empty((n, m))
    coupon = np.empty((n, m))
    faced_loss = np.zeros(n, dtype=np.bool_)
    anchored = np.zeros(n, dtype=np.bool_)
    zero32 = np.float32(0.0)
    for i in range(n):
        c = ids[i]
        w = world[c]
        ss32 = social_susceptibility[c]
        fs32 = framing[c]
        aw32 = anchoring_weight[c]
        for j in range(m):
            q = products[j]
            cv = np.float64(coupon_value[c, q]) if coupon_until[c, q] > hour else 0.0
            p = _maximum(quote_price[j, w] * (1.0 - live_discount[j]) - cv, floor[j])
            coupon[i, j], price[i, j] = cv, p
            r32 = reference[c, q]
            a = anchor[j, w]
            if a != a:
                shown = np.float64(r32)
            elif anchor_weak[j]:
                shown = np.float64(r32 + aw32 * (np.float32(a) - r32))
            else:
                r = np.float64(r32)
                shown = r + np.float64(aw32) * (a - r)
            if a == a:
                anchored[i] = True
            if p > shown:
                faced_loss[i] = True
            gain = _maximum(shown - p, 0.0)
            loss = _maximum(p - shown, 0.0)
            value = (gain - np.float64(loss_aversion[c]) * loss) / shown
            lt = limited[j, w]
            if urgency_weak:
                u = np.float64((fs32 * np.float32(urgency[w]))
                               * (np.float32(1.0) if lt else zero32))
            else:
                u = np.float64(fs32) * urgency[w] * (1.0 if lt else 0.0)
            if promoted[j]:
                A = adstock[i]
                s_proof = social_proof[i]
            else:
                A = 0.0
                s_proof = zero32
            aware = aware_weight[w] * A / (A + saturation[w])
            if social_weak:
                soc = np.float64((ss32 * np.float32(social_weight[w])) * s_proof)
            else:
                soc = np.float64(ss32) * social_weight[w] * np.float64(s_proof)
            utility[i, j] = (np.float64(base[c]) + np.float64(price_sensitivity[c]) * value
                             + u + aware + soc + shift)
    return utility, price, coupon, faced_loss, anchored


@njit(cache=True, nogil=True)
def update_references(ids, world, products, choice, price, chosen_weight, seen_weight,
                      reference):
    """Reference prices move toward the prices faced, r <- r + w (p - r) in float64 stored
    as float32, with the world's weight of a price paid for the alternative chosen and of
    a price seen for the others (``kernels.updated_reference``). ``ids`` are unique, as a
    decision's are (a repeated id would see its own update, where NumPy's scatter kept the
    last)."""
    for i in range(len(ids)):
        c = ids[i]
        w = world[c]
        for j in range(len(products)):
            q = products[j]
            weight = chosen_weight[w] if choice[i] == j else seen_weight[w]
            r = np.float64(reference[c, q])
            reference[c, q] = np.float32(r + weight * (price[i, j] - r))


@njit(cache=True, nogil=True)
def see_price(ids, world, product, price, price_weak, weight, weight_weak, reference):
    """References of consumers ``ids`` move toward the price they see, r <- r + w (p - r)
    (``kernels.updated_reference``), with each world's price and weight ((K,) tables),
    stored as float32. A ``*_weak`` value was one number for all worlds (a Python float),
    which NumPy combines with the float32 references in float32 (NEP 50): both weak, the
    update is float32 throughout; a weak price alone makes p - r float32; else float64."""
    for i in range(len(ids)):
        c = ids[i]
        w = world[c]
        r = reference[c, product]
        if price_weak:
            d32 = np.float32(price[w]) - r
            if weight_weak:
                reference[c, product] = r + np.float32(weight[w]) * d32
            else:
                reference[c, product] = np.float32(np.float64(r)
                                                   + weight[w] * np.float64(d32))
        else:
            r64 = np.float64(r)
            reference[c, product] = np.float32(r64 + weight[w] * (price[w] - r64))


@njit(cache=True, nogil=True)
def sum_by_world(world, ids, weights, k):
    """``np.bincount(world[ids], weights, minlength=k)`` as float64, summed in the order of
    ``ids`` as ``bincount`` sums them; an empty ``weights`` counts one per id."""
    out = np.zeros(k)
    counted = len(weights) == 0
    for i in range(len(ids)):
        out[world[ids[i]]] += 1.0 if counted else weights[i]
    return out


@njit(cache=True, nogil=True)
def add_total(row, cell, ids, amount, n_seg, counts):
    """``Recorder.add_total``'s NumPy lines: each world w's ``amount[w]`` spread over its
    ``n_seg`` cells of ``row`` in proportion to the ``ids`` in each (``amount * count /
    total``; a world without ids books it on its first cell); ``counts`` is float64 zeros
    of ``len(row)``, left as given."""
    for i in range(len(ids)):
        counts[cell[ids[i]]] += 1.0
    for w in range(len(amount)):
        base = w * n_seg
        total = 0.0
        for s in range(n_seg):
            total += counts[base + s]
        if total == 0.0:
            counts[base] = 1.0
            total = 1.0
        for s in range(n_seg):
            row[base + s] += amount[w] * counts[base + s] / total
            counts[base + s] = 0.0


@njit(cache=True, nogil=True)
def radix_unique_counts(ids, n):
    """``np.unique(ids, return_counts=True)`` of ids in ``0 .. n - 1`` by a least
    significant digit radix sort (digits of 10 bits, passes over ``ids`` and a 1,024-count
    table instead of a comparison sort): cheaper than NumPy's sort for the sparse draws of
    a channel's sampler (the dense ones: ``unique_counts``)."""
    bits, shift = 10, 0
    keys = ids.copy()
    spare = np.empty_like(keys)
    table = np.empty(1 << bits, dtype=np.int64)
    while (n - 1) >> shift > 0 or shift == 0:
        table[:] = 0
        for c in keys:
            table[(c >> shift) & ((1 << bits) - 1)] += 1
        total = 0
        for d in range(len(table)):
            table[d], total = total, total + table[d]
        for c in keys:
            d = (c >> shift) & ((1 << bits) - 1)
            spare[table[d]] = c
            table[d] += 1
        keys, spare = spare, keys
        shift += bits
    distinct = np.empty(len(keys), dtype=np.int64)
    counts = np.empty(len(keys), dtype=np.int64)
    m = -1
    for i in range(len(keys)):
        if i == 0 or keys[i] != keys[i - 1]:
            m += 1
            distinct[m], counts[m] = keys[i], 0
        counts[m] += 1
    return distinct[:m + 1], counts[:m + 1]


@njit(cache=True, nogil=True)
def csr_edges_by_target(n, srcs, dsts, ties, with_index):
    """``csr_edges`` by two stable counting sorts, on the target then on the source: the
    faster build while the graph's per-node counts stay in cache (a world of a batch);
    ``csr_edges`` is the faster one for a million nodes. Same arguments and results."""
    by_target, sources, tie, index, out_degree = _group_edges(n, srcs, dsts, ties,
                                                              with_index, True)
    return _rows_by_source(n, by_target, sources, tie, index, out_degree, with_index)


@njit(cache=True, nogil=True)
def _group_edges(n, srcs, dsts, ties, with_index, by_target):
    """The edges that are not self-loops grouped by source (``by_target``: by target),
    each group in edge order: (group starts, int64, n + 1; each edge's other end, int32;
    its tie type, int8; with ``with_index``, its index in the concatenation of the parts,
    int64, else an empty array; ``by_target``: the edges at each other end, n + 1,
    shifted by one, else an empty array)."""
    start = np.zeros(n + 1, dtype=np.int64)
    other_count = np.zeros(n + 1 if by_target else 0, dtype=np.int64)
    for p in range(len(srcs)):
        src, dst = srcs[p], dsts[p]
        for i in range(len(src)):
            if src[i] != dst[i]:
                if by_target:
                    start[dst[i] + 1] += 1
                    other_count[src[i] + 1] += 1
                else:
                    start[src[i] + 1] += 1
    start = np.cumsum(start)
    other = np.empty(start[n], dtype=np.int32)
    tie = np.empty(start[n], dtype=np.int8)
    index = np.empty(start[n] if with_index else 0, dtype=np.int64)
    fill = start[:-1].copy()
    offset = 0
    for p in range(len(srcs)):
        src, dst, part_tie = srcs[p], dsts[p], ties[p]
        for i in range(len(src)):
            if src[i] != dst[i]:
                group, end = (dst[i], src[i]) if by_target else (src[i], dst[i])
                f = fill[group]
                other[f], tie[f] = end, part_tie[i]
                if with_index:
                    index[f] = offset + i
                fill[group] = f + 1
        offset += len(src)
    return start, other, tie, index, other_count


@njit(cache=True, nogil=True)
def _rows_by_source(n, by_target, sources, group_tie, group_index, out_degree, with_index):
    """``csr_edges``'s results from ``_group_edges``' groups by target: walking the targets in
    order puts each source's row in target order, a (source, target) pair's edges next to
    each other in edge order, so that the compaction keeps its first occurrence."""
    start = np.cumsum(out_degree)
    key = np.empty(start[n], dtype=np.int32)
    tie = np.empty(start[n], dtype=np.int8)
    order = np.empty(start[n] if with_index else 0, dtype=np.int64)
    fill = start[:-1].copy()
    for d in range(n):
        for j in range(by_target[d], by_target[d + 1]):
            s = sources[j]
            f = fill[s]
            key[f], tie[f] = d, group_tie[j]
            if with_index:
                order[f] = group_index[j]
            fill[s] = f + 1
    return _compact_rows(start[:-1], start[1:], key, tie, order, with_index)


@njit(cache=True, nogil=True)
def push_in_buckets(buckets, values, head, size, link, value, used):
    """Append ``values[i]`` to bucket ``buckets[i]`` of singly linked lists (``head`` per
    bucket, -1 when empty, and its ``size``; ``link`` and ``value`` per node, with room for
    ``used + len(values)`` nodes). Returns the nodes used."""
    for i in range(len(values)):
        b = buckets[i]
        value[used], link[used] = values[i], head[b]
        head[b] = used
        size[b] += 1
        used += 1
    return used


@njit(cache=True, nogil=True)
def pop_buckets(first, stop, head, size, link, value):
    """Every value of buckets ``first`` to ``stop - 1`` (in no particular order), the
    buckets left empty."""
    m = 0
    for b in range(first, stop):
        m += size[b]
    out = np.empty(m, dtype=value.dtype)
    j = 0
    for b in range(first, stop):
        node = head[b]
        while node >= 0:
            out[j] = value[node]
            j += 1
            node = link[node]
        head[b], size[b] = -1, 0
    return out


@njit(cache=True, nogil=True)
def record_purchases(ids, product, coupon, members, hour, delay, tick, purchases, existing,
                     coupon_value, next_need):
    """Buyers ``ids`` (unique) of ``product`` at ``hour``: whether each is new (no purchase
    yet and not an existing customer), then its purchase count up one, the coupon it used
    (``coupon > 0``) spent, and every product of the category (``members``) out of its
    market until its next need falls due, ``delay`` hours on (``kernels.due_hour``; stored
    as int32): ``ArrayConsumers._buy``'s NumPy lines in one pass. Returns (new, due)."""
    new = np.empty(len(ids), dtype=np.bool_)
    due = np.empty(len(ids), dtype=np.int64)
    for i in range(len(ids)):
        c = ids[i]
        new[i] = purchases[c] == 0 and not existing[c]
        purchases[c] += 1
        if coupon[i] > 0:
            coupon_value[c, product] = 0.0
        due[i] = _due_hour(hour, delay[i], tick)
        for q in members:
            next_need[c, q] = due[i]
    return new, due


@njit(cache=True, nogil=True)
def _due_hour(hour, delay, tick):
    """``kernels.due_hour`` of one float delay."""
    return hour + max(1 + np.int64(np.floor(delay + (tick - 1) / 2)), tick)


@njit(cache=True, nogil=True)
def choose(uniform, probabilities, certain):
    """``kernels.chosen_alternative``: the alternative each uniform draw picks (the number
    of cumulative probabilities, summed in choice-set order as ``np.cumsum`` sums them, at
    or below the draw), or -1 for no purchase; every decider the first alternative when
    ``certain`` (a conversion; the draws are made all the same)."""
    n, m = probabilities.shape
    choice = np.empty(n, dtype=np.int64)
    for i in range(n):
        if certain:
            choice[i] = 0
            continue
        cumulative, pick = 0.0, 0
        for j in range(m):
            cumulative += probabilities[i, j]
            if uniform[i] >= cumulative:
                pick += 1
        choice[i] = pick if pick < m else -1
    return choice


@njit(cache=True, nogil=True)
def acts_due(waits, responses, hour, tick, hours, window, groups, n, targets):
    """When influenced followers ``targets`` act: after ``waits[i] + 1 + floor(responses
    [i])`` hours (an integer draw within the post's spread and an exponential response),
    at ``kernels.due_hour`` of that delay; those due within the campaign (and, for a
    group-buy link, within its ``window`` hours) are kept. Returns (their hour, their code
    ``groups[i] * n + targets[i]``: ``SocialNetwork._act_code``)."""
    m = len(targets)
    when = np.empty(m, dtype=np.int64)
    code = np.empty(m, dtype=np.int64)
    j = 0
    for i in range(m):
        delay = waits[i] + 1 + np.int64(np.floor(responses[i]))
        acts = _due_hour(hour, np.float64(delay - 1), tick)
        if acts < hours and delay <= window:
            when[j], code[j] = acts, groups[i] * n + targets[i]
            j += 1
    return when[:j], code[:j]


@njit(cache=True, nogil=True)
def open_ties(indptr, tie, nodes, used, mechanism, only_tie):
    """The out-ties of ``nodes`` in a CSR graph that ``mechanism`` (a bit of ``used``) has
    not used yet, and only those of type ``only_tie`` unless it is negative, grouped by
    node: (edge index, source node), both int64 (``np.repeat`` over the nodes' rows and a
    NumPy filter)."""
    most = 0
    for node in nodes:
        most += indptr[node + 1] - indptr[node]
    edges = np.empty(most, dtype=np.int64)
    src = np.empty(most, dtype=np.int64)
    k = 0
    for node in nodes:
        for e in range(indptr[node], indptr[node + 1]):
            if (used[e] & mechanism) == 0 and (only_tie < 0 or tie[e] == only_tie):
                edges[k], src[k] = e, node
                k += 1
    return edges[:k], src[:k]


@njit(cache=True, nogil=True)
def fresh_wins(hit, edges, indices, influenced):
    """Of the exposed ties ``edges`` whose draw ``hit``, those whose follower
    (``indices[edge]``) is not influenced yet: (position in ``edges``, follower as int64),
    ``np.flatnonzero(hit)`` then the NumPy gather and filter of ``influence``."""
    won = np.empty(len(hit), dtype=np.int64)
    targets = np.empty(len(hit), dtype=np.int64)
    j = 0
    for i in range(len(hit)):
        if hit[i]:
            t = np.int64(indices[edges[i]])
            if not influenced[t]:
                won[j], targets[j] = i, t
                j += 1
    return won[:j], targets[:j]


@njit(cache=True, nogil=True)
def inherit(targets, src, parent, depth, cascade):
    """Followers ``targets`` (unique) join their poster's cascade one level deeper:
    ``parent[targets] = src``, ``depth[targets] = depth[src] + 1`` and ``cascade[targets]
    = cascade[src]``, every value read before any is written, as NumPy's gathers are."""
    n = len(targets)
    deeper = np.empty(n, dtype=depth.dtype)
    joined = np.empty(n, dtype=cascade.dtype)
    for i in range(n):
        deeper[i] = depth[src[i]] + 1
        joined[i] = cascade[src[i]]
    for i in range(n):
        t = targets[i]
        parent[t], depth[t], cascade[t] = src[i], deeper[i], joined[i]


@njit(cache=True, nogil=True)
def first_wins(targets, won, shuffle, influenced):
    """Each follower of ``targets[shuffle]`` once, in order, with the tie that won it: the
    first in the shuffled order (``np.unique(targets[shuffle], return_index=True)``, then
    ``won[shuffle][first]``); the followers are marked ``influenced``."""
    shuffled = targets[shuffle]
    order = np.argsort(shuffled, kind="mergesort")  # stable: the first of equals leads
    followers = np.empty(len(order), dtype=targets.dtype)
    ties = np.empty(len(order), dtype=won.dtype)
    j = 0
    for i in range(len(order)):
        if i == 0 or shuffled[order[i]] != shuffled[order[i - 1]]:
            followers[j], ties[j] = shuffled[order[i]], won[shuffle[order[i]]]
            influenced[followers[j]] = True
            j += 1
    return followers[:j], ties[:j]


@njit(cache=True, nogil=True)
def post_chances(ids, price, list_price, world, generation, p_wom, satisfaction):
    """Each buyer's chance to post about its purchase: its world's rate for its generation
    ``p_wom[w, g]``, raised by the deal it got, ``min(rate x (1 + s x max(1 - price /
    list_price, 0)), 1)`` with the world's satisfaction weight ``satisfaction[w]`` (the
    NumPy lines of ``SocialNetwork._word_of_mouth``, in float64)."""
    p = np.empty(len(ids))
    for i in range(len(ids)):
        c = ids[i]
        w = world[c]
        deal = _maximum(1.0 - price[i] / list_price, 0.0)
        chance = p_wom[w, generation[c]] * (1.0 + satisfaction[w] * deal)
        p[i] = chance if chance <= 1.0 or chance != chance else 1.0
    return p
