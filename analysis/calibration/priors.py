"""One prior vocabulary: every calibration model states its priors as
:class:`pymc_extras.prior.Prior` (``Prior("LogNormal", mu=..., sigma=...)``).

The agent model's priors are transformed normals, ``theta = T(mu + sigma z)`` with
``z ~ N(0, 1)``, so that ``z`` is the coordinate its emulator works in. ``TRANSFORMS`` is the
one table of those families: ``T`` (NumPy and PyTensor) and its inverse.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from pymc_extras.prior import Prior
from scipy.special import expit, logit

__all__ = ["Prior", "TRANSFORMS", "centre", "fitted_to", "from_z", "to_z", "transformed_normal"]


def _identity(x):
    return x


@dataclass(frozen=True)
class Transform:
    forward: Any  # NumPy: theta = forward(u)
    inverse: Any  # NumPy: u = inverse(theta)
    tensor: str  # name of the forward function in pymc.math (PyTensor)


TRANSFORMS = {
    "LogNormal": Transform(np.exp, np.log, "exp"),
    "Normal": Transform(_identity, _identity, ""),
    "LogitNormal": Transform(expit, logit, "invlogit"),
}


def _family(prior: Prior) -> tuple[Transform, float, float]:
    if prior.distribution not in TRANSFORMS:
        raise ValueError(f"{prior.distribution} is not a transformed normal; allowed: "
                         + ", ".join(TRANSFORMS))
    return (TRANSFORMS[prior.distribution], float(prior.parameters["mu"]),
            float(prior.parameters["sigma"]))


def from_z(prior: Prior, z):
    """``theta = T(mu + sigma z)``."""
    transform, mu, sigma = _family(prior)
    return transform.forward(mu + sigma * np.asarray(z, dtype=np.float64))


def to_z(prior: Prior, theta):
    """``z = (T^-1(theta) - mu) / sigma``, the inverse of :func:`from_z`."""
    transform, mu, sigma = _family(prior)
    return (transform.inverse(np.asarray(theta, dtype=np.float64)) - mu) / sigma


def centre(prior: Prior) -> float:
    """``T(mu)``, the prior's median."""
    return float(from_z(prior, 0.0))


def fitted_to(distribution: str, draws: np.ndarray) -> Prior:
    """The prior of ``distribution`` with the moments of ``draws`` on the transformed scale."""
    u = TRANSFORMS[distribution].inverse(np.asarray(draws, dtype=np.float64))
    return Prior(distribution, mu=float(np.mean(u)), sigma=float(max(np.std(u), 1e-3)))


def transformed_normal(prior: Prior, u):
    """``T(u)`` for a PyTensor ``u`` (the non-centred parameter in a PyMC model)."""
    import pymc as pm

    transform, _, _ = _family(prior)
    return getattr(pm.math, transform.tensor)(u) if transform.tensor else u
