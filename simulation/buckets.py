"""Values waiting in numbered buckets (an hour, or a product x hour), taken out a range of
buckets at a time: repurchase needs and influenced followers waiting to act.

Linked lists in flat arrays (``fused.push_in_buckets`` / ``fused.pop_buckets``): a push or
a pop is one compiled pass, whatever the number of buckets it touches. What comes out of a
pop has no order (callers sort it); nodes are not reused, the arrays grow geometrically.
"""

from __future__ import annotations

import numpy as np

from . import fused


class Buckets:
    """``n_buckets`` buckets of int64 values."""

    def __init__(self, n_buckets: int):
        self.head = np.full(n_buckets, -1, dtype=np.int64)
        self.size = np.zeros(n_buckets, dtype=np.int64)
        self.link = np.empty(0, dtype=np.int64)
        self.value = np.empty(0, dtype=np.int64)
        self.used = 0

    def push(self, buckets: np.ndarray, values: np.ndarray) -> None:
        """Put ``values[i]`` in bucket ``buckets[i]``."""
        need = self.used + len(values)
        if need > len(self.value):
            size = max(2 * len(self.value), need, 1024)
            self.link = _grown(self.link, size)
            self.value = _grown(self.value, size)
        self.used = fused.push_in_buckets(buckets, values, self.head, self.size, self.link,
                                          self.value, self.used)

    def pop(self, first: int, stop: int) -> np.ndarray:
        """Every value in buckets ``first`` to ``stop - 1`` (unordered), now emptied."""
        return fused.pop_buckets(first, stop, self.head, self.size, self.link, self.value)


def _grown(array: np.ndarray, size: int) -> np.ndarray:
    grown = np.empty(size, dtype=array.dtype)
    grown[:len(array)] = array
    return grown
