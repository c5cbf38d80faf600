"""Lift-test results for the media model: loading and validation.

Layout (PyMC-Marketing's ``add_lift_test_measurements``): one row per test, ``channel``,
``x`` (the channel's spend per period before the test), ``delta_x`` (the change of spend per
period the test made), ``delta_y`` (the measured change of the outcome per period) and
``sigma`` (its standard error), in the units of the media series. The columns that
``campaign-lab experiment`` writes beside them (``EXTRA``) are allowed and ignored. A test
whose ``delta_y`` has the opposite sign of its ``delta_x`` is refused: the lift likelihood
(a Gamma on ``|delta_y|``) assumes more spend never lowers the outcome.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .data import MAX_FILE_BYTES, DataError, _numeric, _read, _require

COLUMNS = ("channel", "x", "delta_x", "delta_y", "sigma")
EXTRA = ("lo", "hi", "truth", "covered", "seed", "design", "start_day", "end_day")


def load_lift_tests(path: str | Path, channels: tuple[str, ...] | list[str], *,
                    max_bytes: int = MAX_FILE_BYTES) -> pd.DataFrame:
    """The lift tests of ``path`` (columns ``COLUMNS``), checked against the media series'
    ``channels``."""
    frame = _read(path, max_bytes)
    _require(frame, path, list(COLUMNS), list(EXTRA))
    names = frame["channel"].astype(str).to_numpy()
    for i, name in enumerate(names):
        if name not in channels:
            raise DataError(path, "channel", i + 1, f"unknown channel {name!r}; the media "
                            f"data has {', '.join(channels)}")
    x = _numeric(frame, path, "x")
    delta_x = _numeric(frame, path, "delta_x", nonnegative=False)
    delta_y = _numeric(frame, path, "delta_y", nonnegative=False)
    sigma = _numeric(frame, path, "sigma", positive=True)
    if (delta_x == 0).any():
        raise DataError(path, "delta_x", int(np.argmax(delta_x == 0)) + 1,
                        "a lift test must change spend (delta_x is 0)")
    if ((x + delta_x) < 0).any():
        raise DataError(path, "delta_x", int(np.argmax((x + delta_x) < 0)) + 1,
                        "x + delta_x (spend during the test) must be >= 0")
    wrong = delta_x * delta_y < 0
    if wrong.any():
        i = int(np.argmax(wrong))
        raise DataError(path, "delta_y", i + 1, f"{delta_y[i]:g} has the opposite sign of "
                        f"delta_x {delta_x[i]:g}; the lift likelihood needs more spend to "
                        "give no less outcome (drop or re-run this test)")
    return pd.DataFrame({"channel": names, "x": x, "delta_x": delta_x, "delta_y": delta_y,
                         "sigma": sigma})
