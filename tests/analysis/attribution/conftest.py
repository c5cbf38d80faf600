from pathlib import Path

import pytest

from analysis.attribution import journeys as J

# shared/ sits beside the repository (CI copies it next to the clone).
from ...conftest import SHARED_DATA

CANDIDATES = [SHARED_DATA / "attribution" / "Data.csv"]


@pytest.fixture(scope="session")
def data_csv() -> Path:
    """shared/data/attribution/Data.csv: 10,000 aggregated paths (skip if absent)."""
    for path in CANDIDATES:
        if path.is_file():
            return path
    pytest.skip("shared/data/attribution/Data.csv not available")


@pytest.fixture(scope="session")
def data_paths(data_csv):
    return J.read_paths(data_csv)
