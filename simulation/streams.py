"""Named random streams derived from one run seed, and their draws in a batch of worlds.

Each component draws from its own stream, keyed by a stable name (``SeedSequence`` with a
``spawn_key``, as ``SeedSequence.spawn`` does with integers). Keying by name rather than by
position keeps every other stream unchanged when a channel is added or removed, so that
counterfactual runs share common random numbers.

A batch of worlds (``simulation.worlds``) draws in one of two ways (``BatchStreams``):
shared, one generator per name for the whole batch, world after world (the fastest; what
calibration's designs use, where worlds need not be paired); or paired, each world from its
own run's streams, so world w of the batch draws exactly the numbers ``run(scenario_w,
seed_w)`` draws, whatever else the batch holds: plans compared on a seed keep their common
random numbers, and a batch's results do not depend on how runs were grouped.
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


class BatchStreams:
    """``Draws`` by stream name for a batch: shared (one ``Streams`` of ``batch_seed``) or,
    with ``paired``, each world's own ``Streams(seeds[w])``."""

    def __init__(self, batch_seed: int, seeds, world: np.ndarray, offsets: np.ndarray, *,
                 paired: bool = False):
        self.paired = paired and len(seeds) > 1
        self.shared = Streams(batch_seed)
        self._own = [Streams(s) for s in seeds] if self.paired else None
        self._world, self._offsets = world, offsets
        self._cache: dict[str, Draws] = {}

    def __call__(self, name: str) -> Draws:
        if name not in self._cache:
            if self.paired:
                self._cache[name] = Draws([s(name) for s in self._own], self._world,
                                          self._offsets)
            else:
                self._cache[name] = Draws([self.shared(name)], None,
                                          self._offsets[[0, -1]])
        return self._cache[name]


class Draws:
    """The draws of one named stream for items owned by consumers of a batch.

    ``owners`` are the consumer ids the items belong to (one per item), grouped world by
    world as the engine keeps them (ascending worlds). With one generator (a run, or a shared
    batch) a draw is the generator's own call for all items at once; with one per world each
    world's items are drawn from its generator, in the same calls and sizes as its own run.
    """

    def __init__(self, generators: list[np.random.Generator], world: np.ndarray | None,
                 offsets: np.ndarray | None):
        self.generators, self._world, self.offsets = generators, world, offsets

    @classmethod
    def of(cls, generator: np.random.Generator, n: int | None = None) -> Draws:
        """One generator for every item (outside a model: a test, a cascade on a graph);
        ``n`` consumers, for ``blocks``."""
        return cls([generator], None, None if n is None else np.array([0, n]))

    def single(self) -> np.random.Generator:
        """The one generator of a run (per-consumer engines draw item by item)."""
        if len(self.generators) != 1:
            raise ValueError("a paired batch has one generator per world")
        return self.generators[0]

    def generator(self, world: int) -> np.random.Generator:
        """World ``world``'s generator (the shared one unless paired)."""
        return self.generators[world if len(self.generators) > 1 else 0]

    def blocks(self):
        """(first consumer, end, generator) of each group of consumers drawing together."""
        if self.offsets is None:
            raise ValueError("these draws were made without the number of consumers")
        return zip(self.offsets[:-1].tolist(), self.offsets[1:].tolist(), self.generators)

    def counts(self, owners: np.ndarray) -> np.ndarray:
        """Items per world of ``owners`` (checked to come world by world)."""
        w = self._world[owners]
        if np.any(w[1:] < w[:-1]):
            raise ValueError("a paired batch draws for items grouped world by world")
        return np.bincount(w, minlength=len(self.generators))

    def _each(self, owners: np.ndarray, draw, *params):
        """``draw(generator, size, *params)`` world by world; array ``params`` aligned
        with ``owners`` are split with them."""
        if len(self.generators) == 1:
            return draw(self.generators[0], len(owners), *params)
        return self._split(self.counts(owners), draw, *params)

    def _split(self, counts: np.ndarray, draw, *params):
        # a world without items is skipped: a draw of none takes no numbers from its stream
        ends = np.cumsum(counts).tolist()
        sized = [np.ndim(p) > 0 for p in params]
        parts = []
        for w in np.flatnonzero(counts).tolist():
            start, stop = ends[w - 1] if w else 0, ends[w]
            own = [p[start:stop] if a else p for p, a in zip(params, sized, strict=True)]
            parts.append(draw(self.generators[w], stop - start, *own))
        return np.concatenate(parts) if parts else draw(self.generators[0], 0, *params)

    def random(self, owners: np.ndarray) -> np.ndarray:
        return self._each(owners, lambda g, n: g.random(n))

    def random_per_world(self, counts: np.ndarray) -> np.ndarray:
        """``counts[w]`` uniforms for world w (the shared stream: their sum at once)."""
        if len(self.generators) == 1:
            return self.generators[0].random(int(np.sum(counts)))
        return self._split(np.asarray(counts, dtype=np.int64), lambda g, n: g.random(n))

    def poisson(self, lam, owners: np.ndarray) -> np.ndarray:
        return self._each(owners, lambda g, n, lam: g.poisson(lam, size=n), lam)

    def weibull(self, shape, owners: np.ndarray) -> np.ndarray:
        return self._each(owners, lambda g, n, a: g.weibull(a, size=n), shape)

    def exponential(self, scale, owners: np.ndarray) -> np.ndarray:
        return self._each(owners, lambda g, n, s: g.exponential(s, size=n), scale)

    def integers(self, high: int, owners: np.ndarray) -> np.ndarray:
        """Integers in [0, high) per item."""
        return self._each(owners, lambda g, n: g.integers(0, high, size=n))

    def permutation(self, owners: np.ndarray) -> np.ndarray:
        """A random order of the items that keeps each world's items in its own block."""
        if len(self.generators) == 1:
            return self.generators[0].permutation(len(owners))
        parts, start = [], 0
        for g, n in zip(self.generators, self.counts(owners).tolist(), strict=True):
            if n:
                parts.append(start + g.permutation(n))
            start += n
        return np.concatenate(parts) if parts else np.arange(0)

    def multinomial(self, n: np.ndarray, p: np.ndarray) -> np.ndarray:
        """(K, cells) counts: world w's ``n[w]`` items over its row ``p[w]``."""
        if len(self.generators) == 1:
            return self.generators[0].multinomial(n, p)
        return np.concatenate([g.multinomial(n[w:w + 1], p[w:w + 1]) if n[w] else
                               np.zeros((1, p.shape[1]), dtype=np.int64)
                               for w, g in enumerate(self.generators)])
