"""Drawing the consumers of a scenario's market, column-wise (one array per attribute).

Both engines start from the same draw: the fast engine keeps the columns, the per-agent
reference copies one row into each Mesa agent.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from scenarios.schema import GENERATIONS, TIERS, Dist, Scenario

BETA_PARAMS = ("anchoring_weight", "framing_susceptibility", "social_susceptibility")
LOGNORMAL_PARAMS = ("price_sensitivity", "loss_aversion", "need_rate", "contact_tolerance")
NORMAL_PARAMS = ("base_utility",)
N_SEGMENTS = len(GENERATIONS) * len(TIERS)


@dataclass
class Population:
    """Static attributes of N consumers (arrays of length N unless noted)."""

    generation: np.ndarray  # int8 index into GENERATIONS
    tier: np.ndarray  # int8 index into TIERS
    base_utility: np.ndarray
    price_sensitivity: np.ndarray
    loss_aversion: np.ndarray
    anchoring_weight: np.ndarray
    framing_susceptibility: np.ndarray
    social_susceptibility: np.ndarray
    need_rate: np.ndarray  # own-need visits per day
    contact_tolerance: np.ndarray  # int16 contacts per day
    consent: np.ndarray  # bool
    existing_customer: np.ndarray  # bool: bought the brand before the campaign
    reference_price: np.ndarray  # (N, products) initial reference prices

    @property
    def size(self) -> int:
        return len(self.generation)

    @cached_property
    def segment(self) -> np.ndarray:
        """Segment index generation x tier, in 0 .. N_SEGMENTS - 1 (computed once: a batch
        asks for it once per world)."""
        return self.generation.astype(np.int16) * len(TIERS) + self.tier


def segment_labels() -> list[tuple[str, str]]:
    return [(g, t) for g in GENERATIONS for t in TIERS]


def grouped(codes: np.ndarray, n_groups: int = 0) -> tuple[np.ndarray, ...]:
    """Indices of small non-negative int ``codes`` (segments, cells) grouped by code, in
    order within each group: (members, each group's start in ``members``, its size; at
    least ``n_groups`` groups). The stable sort is made in the narrowest int type holding
    the codes, where NumPy's stable sort is a radix sort."""
    narrow = codes.astype(np.min_scalar_type(codes.max(initial=0)), copy=False)
    members = np.argsort(narrow, kind="stable")
    size = np.bincount(codes, minlength=n_groups)
    return members, np.concatenate([[0], np.cumsum(size)[:-1]]), size


def _draw(rng: np.random.Generator, name: str, dist: Dist, n: int) -> np.ndarray:
    m, sd = dist.mean, dist.sd
    if sd == 0 or n == 0:
        return np.full(n, m)
    if name in BETA_PARAMS:
        if m in (0.0, 1.0):
            return np.full(n, m)
        k = m * (1 - m) / sd**2 - 1
        return rng.beta(m * k, (1 - m) * k, size=n)
    if name in LOGNORMAL_PARAMS:
        s2 = np.log1p((sd / m) ** 2)
        return rng.lognormal(np.log(m) - s2 / 2, np.sqrt(s2), size=n)
    return rng.normal(m, sd, size=n)


def _members(codes: np.ndarray, k: int) -> list[np.ndarray]:
    """Indices of the consumers with each code 0 .. k - 1 (found once, used per column)."""
    return [np.flatnonzero(codes == c) for c in range(k)]


def draw_population(scenario: Scenario, *, rng: np.random.Generator) -> Population:
    """Draw every consumer's segment, tier and behavioural parameters."""
    market = scenario.market
    n = market.population
    gen_p = np.array([market.generation_mix[g] for g in GENERATIONS])
    tier_p = np.array([market.tier_mix[t] for t in TIERS])
    generation = rng.choice(len(GENERATIONS), size=n, p=gen_p).astype(np.int8)
    tier = rng.choice(len(TIERS), size=n, p=tier_p).astype(np.int8)

    in_generation = _members(generation, len(GENERATIONS))
    columns: dict[str, np.ndarray] = {}
    for name in NORMAL_PARAMS + LOGNORMAL_PARAMS + BETA_PARAMS:
        col = np.empty(n)
        for g, members in zip(GENERATIONS, in_generation, strict=True):
            col[members] = _draw(rng, name, getattr(scenario.segments[g], name), len(members))
        columns[name] = col

    for t, members in zip(TIERS, _members(tier, len(TIERS)), strict=True):
        effect = market.tier_effects[t]
        columns["price_sensitivity"][members] *= effect.price_sensitivity_scale
        columns["need_rate"][members] *= effect.need_rate_scale

    consent_p = np.array([scenario.segments[g].consent_probability for g in GENERATIONS])
    consent = rng.random(n) < consent_p[generation]
    existing = rng.random(n) < market.existing_customer_share

    ref_means = np.array([p.reference_price or p.list_price for p in scenario.products])
    ref_sd = np.array([p.reference_price_sd for p in scenario.products])
    noise = rng.standard_normal((n, len(scenario.products)))
    reference = ref_means * np.clip(1 + ref_sd * noise, 0.2, None)

    f32 = np.float32
    return Population(
        generation=generation,
        tier=tier,
        base_utility=columns["base_utility"].astype(f32),
        price_sensitivity=columns["price_sensitivity"].astype(f32),
        loss_aversion=columns["loss_aversion"].astype(f32),
        anchoring_weight=columns["anchoring_weight"].astype(f32),
        framing_susceptibility=columns["framing_susceptibility"].astype(f32),
        social_susceptibility=columns["social_susceptibility"].astype(f32),
        need_rate=columns["need_rate"].astype(f32),
        contact_tolerance=np.rint(columns["contact_tolerance"]).astype(np.int16),
        consent=consent,
        existing_customer=existing,
        reference_price=reference.astype(f32),
    )
