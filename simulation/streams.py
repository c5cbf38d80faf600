"""Named random streams derived from one run seed.

Each component draws from its own stream, keyed by a stable name (``SeedSequence`` with a
``spawn_key``, as ``SeedSequence.spawn`` does with integers). Keying by name rather than by
position keeps every other stream unchanged when a channel is added or removed, so that
counterfactual runs share common random numbers.
"""

from __future__ import annotations

import zlib

import numpy as np


class Streams:
    def __init__(self, seed: int):
        self.seed = int(seed)
        self._cache: dict[str, np.random.Generator] = {}

    def __call__(self, name: str) -> np.random.Generator:
        if name not in self._cache:
            key = zlib.crc32(name.encode("utf-8"))
            seq = np.random.SeedSequence(self.seed, spawn_key=(key,))
            self._cache[name] = np.random.Generator(np.random.PCG64(seq))
        return self._cache[name]
