"""Building blocks shared by the scenario schema's modules: frozen models, checks, events."""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, Field

GENERATIONS = ("gen_z", "millennial", "gen_x", "silver")
TIERS = ("upper", "lower")
SHARE_TOLERANCE = 1e-6


def problem(path: str, message: str) -> ValueError:
    """A cross-field error located at ``path`` below the model that raises it."""
    return ValueError(f"at `{path}`: {message}")


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def check_mix(mix: dict[str, float], keys: tuple[str, ...], what: str) -> dict[str, float]:
    unknown = sorted(set(mix) - set(keys))
    if unknown:
        raise ValueError(f"unknown {what} {unknown}; allowed: {list(keys)}")
    if any(v < 0 or not math.isfinite(v) for v in mix.values()):
        raise ValueError(f"shares must be finite and >= 0, got {mix}")
    total = sum(mix.values())
    if abs(total - 1.0) > SHARE_TOLERANCE:
        raise ValueError(f"shares must sum to 1, these sum to {total:.6g}")
    return {k: float(mix.get(k, 0.0)) for k in keys}


def check_weights(v: dict[str, float], keys: tuple[str, ...], what: str) -> dict[str, float]:
    bad = sorted(set(v) - set(keys))
    if bad:
        raise ValueError(f"unknown {what} {bad}; allowed: {list(keys)}")
    if any(x < 0 or not math.isfinite(x) for x in v.values()):
        raise ValueError(f"weights must be finite and >= 0, got {v}")
    return {k: float(v.get(k, 1.0)) for k in keys}


class TimedEvent(Frozen):
    name: str = Field(min_length=1)
    day: int = Field(ge=0)
    hour: int = Field(0, ge=0, le=23)
    duration_hours: int = Field(ge=1)

    @property
    def start_hour(self) -> int:
        return 24 * self.day + self.hour

    @property
    def end_hour(self) -> int:
        return self.start_hour + self.duration_hours
