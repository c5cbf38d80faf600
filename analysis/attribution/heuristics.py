"""Rule-based attribution: each touch of a journey gets a fixed share of its outcome.

For a journey ``j`` with touches ``i = 0 .. n-1`` (first to last), conversions ``y_j`` and
value ``v_j``, a rule gives weights ``w_i`` with ``sum_i w_i = 1``; channel ``c`` is
credited ``sum_j sum_{i: c_i = c} w_i y_j`` conversions (and the same with ``v_j``):

- last-click: ``w_{n-1} = 1``;
- first-click: ``w_0 = 1``;
- linear: ``w_i = 1 / n``;
- time-decay: ``w_i ∝ 2^(-(T - t_i) / h)`` with ``T`` the journey's end hour, ``t_i`` the
  touch hour and ``h`` the half-life in hours; journeys without times use the number of
  steps before the last touch, ``n - 1 - i``, as the age (half-life in steps);
- position-based (U-shaped): ``w_0 = f``, ``w_{n-1} = l``, the middle touches share
  ``1 - f - l`` equally (40/20/40 is ``f = l = 0.4``); a journey of two touches splits
  ``f : l``, a journey of one touch gives it everything.

Journeys without touches are not credited. All rules are vectorised over the flat touch
table (no loop over journeys).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .journeys import AttributionError, Journeys


def credit_table(journeys: Journeys, weights: np.ndarray) -> pd.DataFrame:
    """Per channel: ``conversions`` and ``value`` credited with per-touch ``weights``.

    ``weights`` is aligned with ``journeys.touches`` and sums to 1 within every journey.
    """
    j = journeys.journey
    conv = journeys.table["conversions"].to_numpy()[j]
    value = journeys.table["value"].to_numpy()[j]
    n_ch = len(journeys.channels)
    codes = journeys.codes
    return pd.DataFrame(
        {
            "conversions": np.bincount(codes, weights=weights * conv, minlength=n_ch),
            "value": np.bincount(codes, weights=weights * value, minlength=n_ch),
        },
        index=pd.Index(journeys.channels, name="channel"),
    )


def _position(journeys: Journeys) -> tuple[np.ndarray, np.ndarray]:
    """(position, journey length) of every touch."""
    lengths = journeys.table["length"].to_numpy()[journeys.journey]
    return journeys.touches["position"].to_numpy(), lengths


def last_click(journeys: Journeys) -> pd.DataFrame:
    """All credit to the last touch of each journey."""
    pos, n = _position(journeys)
    return credit_table(journeys, (pos == n - 1).astype(float))


def first_click(journeys: Journeys) -> pd.DataFrame:
    """All credit to the first touch of each journey."""
    pos, _ = _position(journeys)
    return credit_table(journeys, (pos == 0).astype(float))


def linear(journeys: Journeys) -> pd.DataFrame:
    """Equal credit to every touch: ``w_i = 1 / n``."""
    _, n = _position(journeys)
    return credit_table(journeys, 1.0 / n)


def time_decay(journeys: Journeys, half_life: float = 24.0) -> pd.DataFrame:
    """Credit halving every ``half_life`` hours before the journey's end.

    ``w_i = 2^(-(T - t_i)/h) / sum_k 2^(-(T - t_k)/h)``; with no touch times, ages are steps
    before the last touch and ``half_life`` is in steps.
    """
    if not np.isfinite(half_life) or half_life <= 0:
        raise AttributionError(f"half_life must be > 0, got {half_life}")
    pos, n = _position(journeys)
    hours = journeys.touches["hour"].to_numpy()
    end = journeys.table["end_hour"].to_numpy()[journeys.journey]
    if np.isnan(hours).any() or np.isnan(end).any():
        age = (n - 1 - pos).astype(float)
    else:
        age = end - hours
    raw = np.exp2(-age / half_life)
    total = np.bincount(journeys.journey, weights=raw, minlength=len(journeys))
    return credit_table(journeys, raw / total[journeys.journey])


def position_based(journeys: Journeys, first: float = 0.4, last: float = 0.4) -> pd.DataFrame:
    """U-shaped credit: ``first`` to the first touch, ``last`` to the last, rest shared.

    Two-touch journeys split ``first : last`` (normalised); one-touch journeys give all.
    """
    if not (0 <= first <= 1 and 0 <= last <= 1 and first + last <= 1):
        raise AttributionError(f"position weights need first, last >= 0 and first + last <= 1, "
                               f"got first={first}, last={last}")
    if first + last == 0:
        raise AttributionError("position weights first + last must be > 0")
    pos, n = _position(journeys)
    middle = (1.0 - first - last) / np.maximum(n - 2, 1)
    w = np.where(pos == 0, first, np.where(pos == n - 1, last, middle))
    w = np.where(n == 2, np.where(pos == 0, first, last) / (first + last), w)
    w = np.where(n == 1, 1.0, w)
    return credit_table(journeys, w)
