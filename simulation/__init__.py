"""The campaign engine: consumers on a SimPy calendar, channels, metrics."""

from .result import RunResult
from .run import rescale, run

__all__ = ["RunResult", "rescale", "run"]
