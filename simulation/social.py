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

    def after_purchases(self, purchases: Purchases, hour: int) -> None:
        """Let purchases feed the proof others will see."""


class NoNetwork:
    """No ties: S = 0 for everyone, and purchases spread nothing."""

    def proof(self, ids: np.ndarray, hour: int) -> np.ndarray:
        return np.zeros(len(ids), dtype=np.float32)

    def after_purchases(self, purchases: Purchases, hour: int) -> None:
        return None
