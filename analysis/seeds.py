"""Seeds of the runs an analysis makes, all spread from the one seed the user gives.

``SeedSequence(seed)`` spawns one child per purpose (``stream``: the search's replications,
the final comparison's, a sampler's, a check's), and each child spawns one run seed per
replication. Streams never overlap, and replication ``i`` of a stream has the same seed
however many replications are asked for, so a rerun with more replications extends the
first rather than replacing it.
"""

from __future__ import annotations

import numpy as np


def replication_seeds(seed: int, replications: int, *, stream: int = 0) -> list[int]:
    """``replications`` run seeds (uint32) of child ``stream`` of ``SeedSequence(seed)``."""
    if isinstance(replications, bool) or not isinstance(replications, int | np.integer) \
            or replications < 1:
        raise ValueError(f"replications must be an integer >= 1, got {replications!r}")
    parent = stream_of(seed, stream)
    return [int(c.generate_state(1, dtype=np.uint32)[0]) for c in parent.spawn(int(replications))]


def stream_of(seed: int, stream: int) -> np.random.SeedSequence:
    """Child ``stream`` of ``SeedSequence(seed)`` (for a ``default_rng`` of one purpose)."""
    return np.random.SeedSequence(int(seed)).spawn(stream + 1)[stream]
