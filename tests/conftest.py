import os
from pathlib import Path

import pytest

import scenarios

DATA = Path(__file__).parent / "data"


def _shared_data() -> Path:
    """The real data sets (shared/data): $CAMPAIGN_LAB_SHARED_DATA, else beside the clone."""
    candidates = [Path(os.environ["CAMPAIGN_LAB_SHARED_DATA"])] if os.environ.get(
        "CAMPAIGN_LAB_SHARED_DATA") else []
    candidates += [Path(__file__).resolve().parents[2] / "shared" / "data",
                   Path("/work/shared/data")]
    return next((c for c in candidates if c.is_dir()), candidates[-1])


SHARED_DATA = _shared_data()
MINI = DATA / "mini.toml"


@pytest.fixture
def mini():
    """The five-day test market (tests/data/mini.toml), optionally with overrides."""

    def make(**overrides):
        return scenarios.load(MINI, {k.replace("__", "."): v for k, v in overrides.items()})

    return make
