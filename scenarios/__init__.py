"""Scenarios: the schema, loading and validation, and the preset library."""

from .budget import budget_levers, is_budget_lever
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
    "budget_levers",
    "describe_presets",
    "is_budget_lever",
    "load",
    "preset_names",
    "preset_path",
    "validate",
    "with_overrides",
]
