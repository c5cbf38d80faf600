import pandas as pd
import pytest

from analysis.realdata.oj import load_oj_panel

from ...conftest import SHARED_DATA

OJ = SHARED_DATA / "bayesm" / "orangeJuice_yx.csv.gz"
OJ_DEMO = SHARED_DATA / "bayesm" / "orangeJuice_storedemo.csv"


@pytest.fixture(scope="session")
def oj_raw():
    """The real panel as read from disk (skip where shared/data is absent)."""
    if not OJ.is_file():
        pytest.skip(f"{OJ} not available")
    return pd.read_csv(OJ)


@pytest.fixture(scope="session")
def oj_panel(oj_raw):
    """The whole real panel with demographics, loaded and checked."""
    return load_oj_panel(OJ, OJ_DEMO)
