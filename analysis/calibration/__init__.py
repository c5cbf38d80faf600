"""Bayesian calibration: the agent model's aggregate counterparts and the agent model itself.

One module per model, each a ``fit_<model>(data, ...) -> Calibration``:
:mod:`.bass` (adoption), :mod:`.repurchase` (BG/NBD), :mod:`.price` (reference-dependent
choice), :mod:`.media` (ad-stock and saturation), :mod:`.emulator` (the agent model, whose
parameters and statistics are :mod:`.agent_model`); :mod:`.data` loads and validates observed
data, :mod:`.base` holds the shared result and diagnostics, :mod:`.priors` the one prior
vocabulary, :mod:`.overrides` maps a posterior draw onto scenario fields, :mod:`.posterior`
loads a saved one, :mod:`.cli` is the command. Models are imported from
their modules (PyMC is loaded only when a model is used).
"""

from .base import Calibration, PosteriorCheck
from .data import DataError

__all__ = ["Calibration", "DataError", "PosteriorCheck"]
