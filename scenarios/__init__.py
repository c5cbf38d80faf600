"""Scenarios: the schema, loading and validation, and the preset library."""

from .loader import (
    ScenarioError,
    describe_presets,
    load,
    preset_names,
    preset_path,
    validate,
    with_overrides,
)
from .schema import GENERATIONS, TIERS, Scenario

__all__ = [
    "GENERATIONS",
    "TIERS",
    "Scenario",
    "ScenarioError",
    "describe_presets",
    "load",
    "preset_names",
    "preset_path",
    "validate",
    "with_overrides",
]
