"""The campaign engine: consumers on a SimPy calendar, channels, metrics."""

from .result import RunResult
from .run import Batch, rescale, run, run_batch

__all__ = ["Batch", "RunResult", "rescale", "run", "run_batch"]
