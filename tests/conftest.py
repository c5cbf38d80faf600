from pathlib import Path

import pytest

import scenarios

DATA = Path(__file__).parent / "data"
MINI = DATA / "mini.toml"


@pytest.fixture
def mini():
    """The five-day test market (tests/data/mini.toml), optionally with overrides."""

    def make(**overrides):
        return scenarios.load(MINI, {k.replace("__", "."): v for k, v in overrides.items()})

    return make
