"""Shapley-value attribution over channel coalitions (exact, up to ``MAX_CHANNELS``).

The players are the channels; a coalition ``S`` is a set of channels. Following Shao & Li
(2011) and Dalessandro et al. (2012), in the form of Zhao, Mahboobi & Bagheri (2018,
"Shapley value methods for attribution modeling in online advertising"), the value of a
coalition is computed from the journeys whose *set* of channels ``T_j`` lies inside it:

- ``value="conversions"`` (default): ``v(S) = sum_{j: T_j ⊆ S} y_j``, the conversions that
  the channels of ``S`` alone would have produced. Its Shapley values have the closed form
  ``phi_c = sum_{j: c ∈ T_j} y_j / |T_j|`` (each journey's conversions split equally over its
  distinct channels), and they add up to the total conversions;
- ``value="rate"``: ``v(S) = sum_{T_j ⊆ S} y_j / sum_{T_j ⊆ S} (y_j + m_j)``, the conversion
  rate of those journeys (0 when there are none); the Shapley values are rescaled to add up
  to the total conversions, ``credit_c = phi_c / sum_d phi_d x total``.

The Shapley value of channel ``i`` is

    phi_i = sum_{S ⊆ N \\ {i}} |S|! (n - |S| - 1)! / n! x (v(S ∪ {i}) - v(S)),

computed exactly over all ``2^n`` coalitions held as bit masks: ``v`` of every coalition is a
subset-sum (zeta) transform of the outcome per exact channel set, ``n`` vectorised passes.
Value (GMV) is credited with the same rule applied to ``v_j`` instead of ``y_j`` (conversion
variant) or with the conversion shares (rate variant).
"""

from __future__ import annotations

from math import factorial

import numpy as np
import pandas as pd

from .journeys import AttributionError, Journeys

MAX_CHANNELS = 20
VALUES = ("conversions", "rate")


def channel_sets(journeys: Journeys) -> np.ndarray:
    """Bit mask of the distinct channels of every journey (0 for journeys without touches)."""
    n = len(journeys.channels)
    if n > MAX_CHANNELS:
        raise AttributionError(f"exact Shapley values need <= {MAX_CHANNELS} channels, "
                               f"got {n}")
    bits = np.left_shift(np.int64(1), journeys.codes)
    masks = np.zeros(len(journeys), dtype=np.int64)
    np.bitwise_or.at(masks, journeys.journey, bits)
    return masks


def subset_sums(per_set: np.ndarray, n: int) -> np.ndarray:
    """Zeta transform: ``out[S] = sum_{T ⊆ S} per_set[T]`` over bit masks of ``n`` players."""
    out = np.array(per_set, dtype=np.float64, copy=True)
    for i in range(n):
        view = out.reshape(-1, 2, 1 << i)
        view[:, 1, :] += view[:, 0, :]
    return out


def shapley_values(v: np.ndarray) -> np.ndarray:
    """Exact Shapley values of the game with coalition values ``v`` (indexed by bit mask).

    ``v`` has length ``2^n`` with ``v[0]`` the empty coalition; returns ``n`` values.
    """
    size = len(v)
    n = size.bit_length() - 1
    if size != 1 << n or n == 0:
        raise AttributionError(f"coalition values need length 2^n (n >= 1), got {size}")
    masks = np.arange(size, dtype=np.int64)
    popcount = np.zeros(size, dtype=np.int64)
    for i in range(n):
        popcount += (masks >> i) & 1
    weight = np.array([factorial(s) * factorial(n - s - 1) / factorial(n) for s in range(n)])
    out = np.zeros(n)
    for i in range(n):
        without = masks[(masks >> i) & 1 == 0]
        gain = v[without | (1 << i)] - v[without]
        out[i] = float(np.sum(weight[popcount[without]] * gain))
    return out


def shapley(journeys: Journeys, value: str = "conversions") -> pd.DataFrame:
    """Per channel: ``conversions`` and ``value`` credited by Shapley values (module doc)."""
    if value not in VALUES:
        raise AttributionError(f"value must be one of {list(VALUES)}, got {value!r}")
    n = len(journeys.channels)
    masks = channel_sets(journeys)
    table = journeys.table
    live = masks > 0
    size = 1 << n

    def per_set(column: np.ndarray) -> np.ndarray:
        return np.bincount(masks[live], weights=column[live], minlength=size)

    conv = table["conversions"].to_numpy()
    index = pd.Index(journeys.channels, name="channel")
    if value == "conversions":
        phi_conv = shapley_values(subset_sums(per_set(conv), n))
        phi_value = shapley_values(subset_sums(per_set(table["value"].to_numpy()), n))
        return pd.DataFrame({"conversions": phi_conv, "value": phi_value}, index=index)
    reached = subset_sums(per_set(conv + table["nulls"].to_numpy()), n)
    converted = subset_sums(per_set(conv), n)
    rate = np.divide(converted, reached, out=np.zeros(size), where=reached > 0)
    phi = shapley_values(rate)
    shares = phi / phi.sum() if phi.sum() > 0 else np.zeros(n)
    return pd.DataFrame({"conversions": shares * journeys.total_conversions,
                         "value": shares * journeys.total_value}, index=index)
