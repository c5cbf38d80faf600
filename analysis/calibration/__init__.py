"""Bayesian calibration of the simulator's aggregate counterparts (issue 4).

One module per model, each a ``fit_<model>(data, ...) -> Calibration``:
:mod:`.bass` (adoption), :mod:`.repurchase` (BG/NBD), :mod:`.price` (reference-dependent
choice), :mod:`.media` (ad-stock and saturation); :mod:`.data` loads and validates observed
data, :mod:`.base` holds the shared result and diagnostics, :mod:`.overrides` maps a
posterior draw onto scenario fields, :mod:`.cli` is the command. Models are imported from
their modules (PyMC is loaded only when a model is used).
"""

from .base import Calibration, PosteriorCheck
from .data import DataError

__all__ = ["Calibration", "DataError", "PosteriorCheck"]
