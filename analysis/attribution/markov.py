"""Markov-chain attribution by removal effects, of order 1 and higher.

States are ``(start)``, the absorbing ``(conversion)`` and ``(null)``, and one transient
state per observed *k-tuple* of consecutive channels (order ``k``; for ``k = 1`` a state is a
channel). A path ``c_1 .. c_n`` walks the states ``s_i = (c_{i-k+1}, .., c_i)`` for
``i = k .. n`` (a path shorter than ``k`` is one state, the whole path), from ``(start)``, and
ends in ``(conversion)`` ``y`` times and in ``(null)`` ``m`` times. Transition counts weight
every step of a path seen ``y + m`` times by ``y + m`` and its final step by ``y`` (to
conversion) and ``m`` (to null); probabilities are counts normalised per origin state.
Self-transitions are dropped: they change no absorption probability.

With ``Q`` the transient-to-transient probabilities, ``r`` the transient-to-conversion
probabilities and ``p0`` the start distribution, the probability of converting is

    x = (I - Q)^{-1} r,      P = p0 . x

solved with a sparse LU factorisation (no simulation). Removing channel ``c`` sends every
state containing ``c`` to ``(null)``: ``P_{-c}`` solves the same system restricted to the
other states. The removal effect is ``RE_c = 1 - P_{-c} / P`` and channel ``c`` is credited

    credit_c = RE_c / sum_d RE_d x (total conversions),

and the same share of the total value (the value removal effect is taken equal to the
conversion removal effect: a conversion's value is assumed independent of its path). The
ChannelAttribution package (``markov_model``) estimates the same quantities by simulating
paths; ``tests/analysis/attribution/test_markov.py`` holds the two against each other.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.linalg import splu

from .journeys import AttributionError, Journeys

MAX_KEY = 2**62


@dataclass(frozen=True)
class MarkovResult:
    """A fitted Markov attribution.

    Attributes
    ----------
    credit
        Per channel: ``conversions`` and ``value`` credited.
    removal_effects
        ``RE_c`` per channel (0 for channels never seen).
    conversion_probability
        ``P``, the chain's probability of reaching ``(conversion)`` from ``(start)``.
    states
        Label of every transient state (tuples of channel names, ``order`` long or shorter).
    transitions
        Sparse (states + 3) x (states + 3) transition probabilities; the last three rows and
        columns are ``(start)``, ``(conversion)``, ``(null)``.
    """

    order: int
    credit: pd.DataFrame
    removal_effects: pd.Series
    conversion_probability: float
    states: tuple[tuple[str, ...], ...]
    transitions: sp.csr_matrix


def _state_keys(journeys: Journeys, order: int) -> tuple[np.ndarray, np.ndarray]:
    """(journey, state key) for every state visit, in path order.

    A state key encodes the tuple of channel codes ``(c_{i-k+1}, .., c_i)`` in base
    ``C + 1``, with digit ``C`` padding the tuple of a path shorter than ``order``.
    """
    codes, journey = journeys.codes, journeys.journey
    pos = journeys.touches["position"].to_numpy()
    n = journeys.table["length"].to_numpy()[journey]
    base = len(journeys.channels) + 1
    if float(base) ** order >= MAX_KEY:
        raise AttributionError(f"order {order} with {base - 1} channels has too many states")
    # A touch closes a state if a full window ends there, or it ends a short path.
    ends = (pos >= order - 1) | ((n < order) & (pos == n - 1))
    idx = np.flatnonzero(ends)
    key = np.zeros(len(idx), dtype=np.int64)
    for lag in range(order):
        back = idx - lag
        valid = pos[idx] - lag >= 0
        digit = np.where(valid, codes[np.maximum(back, 0)], base - 1)
        key = key * base + digit
    return journey[idx], key


def _decode(key: int, base: int, order: int, channels: tuple[str, ...]) -> tuple[str, ...]:
    digits = []
    for _ in range(order):
        key, d = divmod(key, base)
        digits.append(d)
    # The most recent channel is the most significant digit: divmod yields the oldest first.
    return tuple(channels[d] for d in digits if d != base - 1)


def transition_counts(journeys: Journeys, order: int = 1):
    """Sparse transition counts among ``states + (start, conversion, null)``, and states."""
    if not isinstance(order, int | np.integer) or order < 1:
        raise AttributionError(f"order must be an integer >= 1, got {order!r}")
    table = journeys.table
    weight = (table["conversions"] + table["nulls"]).to_numpy()
    journey, key = _state_keys(journeys, order)
    keys, state = np.unique(key, return_inverse=True)
    n_states = len(keys)
    start, conv, null = n_states, n_states + 1, n_states + 2
    first = np.r_[True, journey[1:] != journey[:-1]]
    last = np.r_[journey[1:] != journey[:-1], True]
    prev_state = np.r_[-1, state[:-1]]
    inner = ~first & (prev_state != state)
    rows = np.concatenate([np.full(first.sum(), start), prev_state[inner],
                           state[last], state[last]])
    cols = np.concatenate([state[first], state[inner], np.full(last.sum(), conv),
                           np.full(last.sum(), null)])
    data = np.concatenate([weight[journey[first]], weight[journey[inner]],
                           table["conversions"].to_numpy()[journey[last]],
                           table["nulls"].to_numpy()[journey[last]]])
    size = n_states + 3
    counts = sp.csr_matrix((data, (rows, cols)), shape=(size, size))
    base = len(journeys.channels) + 1
    labels = tuple(_decode(int(k), base, order, journeys.channels) for k in keys)
    return counts, labels


def _absorption(q: sp.csr_matrix, r: np.ndarray, p0: np.ndarray) -> float:
    """``p0 . (I - Q)^{-1} r`` by a sparse LU solve."""
    if q.shape[0] == 0:
        return 0.0
    system = (sp.identity(q.shape[0], format="csc") - q.tocsc()).tocsc()
    return float(p0 @ splu(system).solve(r))


def markov(journeys: Journeys, order: int = 1) -> MarkovResult:
    """Removal-effect attribution of a Markov chain of ``order`` (module docstring)."""
    counts, labels = transition_counts(journeys, order)
    n_states = len(labels)
    totals = np.asarray(counts.sum(axis=1)).ravel()
    scale = np.divide(1.0, totals, out=np.zeros_like(totals), where=totals > 0)
    probs = sp.diags(scale) @ counts
    probs = probs.tocsr()
    q = probs[:n_states, :n_states]
    r = probs[:n_states, n_states + 1].toarray().ravel()
    p0 = probs[n_states, :n_states].toarray().ravel()
    total = _absorption(q, r, p0)
    if total <= 0:
        raise AttributionError("no journey with a touch converts: removal effects are "
                               "undefined")
    effects = np.zeros(len(journeys.channels))
    for c, name in enumerate(journeys.channels):
        keep = np.array([name not in s for s in labels], dtype=bool)
        if keep.all():
            continue  # channel never seen: removing it changes nothing
        idx = np.flatnonzero(keep)
        without = _absorption(q[idx][:, idx], r[idx], p0[idx])
        effects[c] = 1.0 - without / total
    shares = effects / effects.sum() if effects.sum() > 0 else effects
    index = pd.Index(journeys.channels, name="channel")
    credit = pd.DataFrame({"conversions": shares * journeys.total_conversions,
                           "value": shares * journeys.total_value}, index=index)
    return MarkovResult(order=int(order), credit=credit,
                        removal_effects=pd.Series(effects, index=index, name="removal_effect"),
                        conversion_probability=total, states=labels, transitions=probs)


def markov_credit(journeys: Journeys, order: int = 1) -> pd.DataFrame:
    """Only the per-channel credit of ``markov`` (the common model signature)."""
    return markov(journeys, order).credit
