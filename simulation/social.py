"""The social-proof hook: what the accounts a consumer follows did recently.

The decision rule adds ``sigma x social_weight x S`` to a consumer's utility; ``S`` comes
from a ``SocialProof`` source. Without a network every consumer's ``S`` is zero.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from .outcomes import Purchases


class SocialProof(Protocol):
    def proof(self, ids: np.ndarray, hour: int) -> np.ndarray:
        """Social proof S of each consumer in ``ids`` at ``hour``."""

    def after_purchases(self, purchases: Purchases, hour: int, source: int,
                        product: int) -> None:
        """Let purchases (of ``product``, triggered through ``source``) spread."""

    def due(self, hour: int) -> list:
        """Consumers influenced earlier who act at ``hour`` (``diffusion.Trigger`` list)."""

    def lineage(self, ids: np.ndarray, source: int) -> tuple[np.ndarray, ...]:
        """(depth, parent, cascade) of the buyers ``ids`` who bought through ``source``."""


class NoNetwork:
    """No ties: S = 0 for everyone, and purchases spread nothing."""

    def proof(self, ids: np.ndarray, hour: int) -> np.ndarray:
        return np.zeros(len(ids), dtype=np.float32)

    def after_purchases(self, purchases: Purchases, hour: int, source: int,
                        product: int) -> None:
        return None

    def due(self, hour: int) -> list:
        return []

    def lineage(self, ids: np.ndarray, source: int) -> tuple[np.ndarray, ...]:
        n = len(ids)
        return np.zeros(n, np.int16), np.full(n, -1, np.int32), np.full(n, -1, np.int32)
