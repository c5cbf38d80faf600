"""What a scenario is: the validated, frozen description of one campaign on one market.

A scenario file (TOML) is parsed into these pydantic models; nothing in it is executed.
Every default names its source: a published estimate, the domain brief (``domain.md``), or
"assumption" where no number is published. Times are hours from the campaign's start
(day ``d`` hour ``h`` is hour ``24 d + h``); prices are in the scenario's currency.
"""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from .budget import BudgetControl, check_budget_control
from .common import (
    GENERATIONS,
    TIERS,
    Frozen,
    TimedEvent,
    check_mix,
    check_weights,
    problem,
)
from .prices import PricePath, check_rows
from .social import SOCIAL_SOURCES, KocSeeding, KolPost, Network


class Dist(Frozen):
    """A behavioural parameter's spread across the consumers of one segment.

    The family follows from the parameter: weights and probabilities in [0, 1] are Beta,
    positive scales are log-normal, utilities are normal; ``mean`` and ``sd`` are always those
    of the parameter itself. ``sd = 0`` makes every consumer of the segment identical.
    """

    mean: float = Field(allow_inf_nan=False)
    sd: float = Field(0.0, ge=0, allow_inf_nan=False)


class Segment(Frozen):
    """Behaviour of one generation (per-consumer draws from these distributions)."""

    base_utility: Dist = Field(
        description="Logit intercept of buying when triggered (normal). Source: assumption, "
        "set so a triggered consumer converts about 1-2% at list price and 5-10% on a deal."
    )
    price_sensitivity: Dist = Field(
        description="Utility per unit of relative gain or loss against the reference price "
        "(log-normal). Source: assumption, in the range of brand-choice logit price "
        "coefficients (Kalyanaram & Winer 1995)."
    )
    loss_aversion: Dist = Field(
        description="lambda, weight of losses relative to gains (log-normal). Source: "
        "Brown, Imai, Vieider & Camerer (2024) meta-analysis mean 1.955."
    )
    anchoring_weight: Dist = Field(
        description="Share by which a displayed original price pulls the reference price "
        "(Beta). Source: assumption, motivated by Tversky & Kahneman (1974)."
    )
    framing_susceptibility: Dist = Field(
        description="Multiplier of the limited-time urgency utility (Beta). Source: "
        "assumption; Tversky & Kahneman (1981) show 72% vs 22% frame reversals."
    )
    social_susceptibility: Dist = Field(
        description="Multiplier of the social-proof utility (Beta). Source: assumption."
    )
    need_rate: Dist = Field(
        description="Own-need visits to the category per day (log-normal). Source: "
        "assumption, ordered by Pew (2016) online-shopping shares by age."
    )
    contact_tolerance: Dist = Field(
        description="Marketing contacts per day a consumer accepts before complaining may "
        "start (log-normal). Source: assumption."
    )
    consent_probability: float = Field(
        ge=0,
        le=1,
        description="Share who consent to direct marketing (CRM, WeChat messages). "
        "Source: assumption.",
    )

    @model_validator(mode="after")
    def _check_ranges(self) -> Segment:
        positive = ("price_sensitivity", "loss_aversion", "need_rate", "contact_tolerance")
        unit = ("anchoring_weight", "framing_susceptibility", "social_susceptibility")
        for name in positive:
            d = getattr(self, name)
            if d.mean <= 0:
                raise problem(f"{name}.mean", f"must be > 0 (log-normal), got {d.mean}")
        for name in unit:
            d = getattr(self, name)
            if not 0 <= d.mean <= 1:
                raise problem(f"{name}.mean", f"must be in [0, 1] (Beta), got {d.mean}")
            if d.sd > 0 and d.sd**2 >= d.mean * (1 - d.mean):
                raise problem(
                    f"{name}.sd", f"must satisfy sd^2 < mean(1-mean) = "
                    f"{d.mean * (1 - d.mean):.4g} for a Beta distribution, got sd={d.sd}"
                )
        return self


def _d(mean: float, sd: float) -> dict[str, float]:
    return {"mean": mean, "sd": sd}


# Defaults per generation. Need rates follow the ordering of Pew (2016) online shopping by
# age (90 / 87 / 72 / 59 %); loss aversion is the Brown et al. (2024) meta-analytic mean for
# everyone; the rest is assumption, documented per field above.
DEFAULT_SEGMENTS: dict[str, dict] = {
    "gen_z": dict(
        base_utility=_d(-5.1, 0.5), price_sensitivity=_d(5.0, 1.5),
        loss_aversion=_d(1.955, 0.4), anchoring_weight=_d(0.35, 0.12),
        framing_susceptibility=_d(0.6, 0.15), social_susceptibility=_d(0.55, 0.15),
        need_rate=_d(0.012, 0.006), contact_tolerance=_d(5.0, 1.5), consent_probability=0.55,
    ),
    "millennial": dict(
        base_utility=_d(-4.9, 0.5), price_sensitivity=_d(4.0, 1.2),
        loss_aversion=_d(1.955, 0.4), anchoring_weight=_d(0.30, 0.10),
        framing_susceptibility=_d(0.5, 0.15), social_susceptibility=_d(0.45, 0.15),
        need_rate=_d(0.012, 0.006), contact_tolerance=_d(4.0, 1.2), consent_probability=0.60,
    ),
    "gen_x": dict(
        base_utility=_d(-5.1, 0.5), price_sensitivity=_d(4.0, 1.2),
        loss_aversion=_d(1.955, 0.4), anchoring_weight=_d(0.30, 0.10),
        framing_susceptibility=_d(0.45, 0.15), social_susceptibility=_d(0.35, 0.12),
        need_rate=_d(0.009, 0.0045), contact_tolerance=_d(3.0, 1.0), consent_probability=0.65,
    ),
    "silver": dict(
        base_utility=_d(-5.3, 0.5), price_sensitivity=_d(5.0, 1.5),
        loss_aversion=_d(1.955, 0.4), anchoring_weight=_d(0.35, 0.12),
        framing_susceptibility=_d(0.5, 0.15), social_susceptibility=_d(0.5, 0.15),
        need_rate=_d(0.006, 0.003), contact_tolerance=_d(2.5, 0.8), consent_probability=0.70,
    ),
}


class TierEffect(Frozen):
    """How a city tier scales its consumers' draws."""

    price_sensitivity_scale: float = Field(1.0, gt=0, le=10)
    need_rate_scale: float = Field(1.0, gt=0, le=10)


DEFAULT_TIER_EFFECTS = {
    "upper": {},
    # Sink-down markets are more price sensitive: domain brief; size is an assumption.
    "lower": {"price_sensitivity_scale": 1.25},
}

# Share of online activity by hour of day (assumption: typical e-commerce traffic, low at
# night, a lunch peak and an evening peak 20:00-23:00).
DEFAULT_HOUR_PROFILE = (
    0.6, 0.35, 0.2, 0.12, 0.1, 0.12, 0.25, 0.5, 0.8, 1.0, 1.1, 1.2,
    1.35, 1.2, 1.05, 1.0, 1.0, 1.05, 1.15, 1.35, 1.7, 1.9, 1.75, 1.15,
)


class Market(Frozen):
    population: int = Field(200_000, ge=1, le=50_000_000, description="Consumers simulated.")
    generation_mix: dict[str, float] = Field(
        default_factory=lambda: {"gen_z": 0.28, "millennial": 0.37, "gen_x": 0.24,
                                 "silver": 0.11},
        description="Share of each generation. Source: CNNIC (2020), 60+ were 11.2% of "
        "netizens; the rest is assumption.",
    )
    tier_mix: dict[str, float] = Field(
        default_factory=lambda: {"upper": 0.45, "lower": 0.55},
        description="Share in tier-1/2 ('upper') and lower-tier ('lower') cities. "
        "Source: assumption.",
    )
    tier_effects: dict[str, TierEffect] = Field(default_factory=dict)
    existing_customer_share: float = Field(
        0.05, ge=0, le=1, description="Share who bought the brand before. Source: assumption."
    )
    hour_profile: tuple[float, ...] = Field(DEFAULT_HOUR_PROFILE)

    @field_validator("generation_mix")
    @classmethod
    def _gen_mix(cls, v: dict[str, float]) -> dict[str, float]:
        return check_mix(v, GENERATIONS, "generations")

    @field_validator("tier_mix")
    @classmethod
    def _tier_mix(cls, v: dict[str, float]) -> dict[str, float]:
        return check_mix(v, TIERS, "tiers")

    @field_validator("tier_effects", mode="before")
    @classmethod
    def _tiers(cls, v: dict) -> dict:
        unknown = sorted(set(v) - set(TIERS))
        if unknown:
            raise ValueError(f"unknown tiers {unknown}; allowed: {list(TIERS)}")
        return {t: {**DEFAULT_TIER_EFFECTS[t], **v.get(t, {})} for t in TIERS}

    @field_validator("hour_profile")
    @classmethod
    def _profile(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        if len(v) != 24 or any(x < 0 or not math.isfinite(x) for x in v) or sum(v) <= 0:
            raise ValueError("must be 24 finite weights >= 0, not all zero")
        return v

    @model_validator(mode="after")
    def _fill_tiers(self) -> Market:
        if not self.tier_effects:
            filled = {t: TierEffect(**DEFAULT_TIER_EFFECTS[t]) for t in TIERS}
            object.__setattr__(self, "tier_effects", filled)
        return self


class Behaviour(Frozen):
    """Market-wide constants of the decision rule (see ``simulation.kernels``)."""

    awareness_half_life_hours: float = Field(
        72.0, gt=0, le=24 * 365,
        description="Ad-stock half-life. Source: Robyn's guidance for digital media, weekly "
        "carry-over 0-0.3; 72 h is a weekly retention of 0.2.",
    )
    awareness_saturation: float = Field(
        3.0, gt=0, description="Ad-stock at which the awareness effect is half its maximum "
        "(Hill saturation). Source: assumption.",
    )
    awareness_weight: float = Field(
        1.5, ge=0, le=20, description="Utility of full awareness. Source: assumption."
    )
    urgency_utility: float = Field(
        0.8, ge=0, le=20, description="Utility of a limited-time frame at susceptibility 1. "
        "Source: assumption.",
    )
    social_weight: float = Field(
        1.0, ge=0, le=20, description="Utility per unit of social proof at susceptibility 1. "
        "Source: assumption.",
    )
    reference_smoothing: float = Field(
        0.3, gt=0, le=1, description="Weight of the price paid in the reference-price update "
        "(exponential smoothing). Source: Briesch et al. (1997), memory-based references; "
        "value is an assumption.",
    )
    reference_smoothing_seen: float = Field(
        0.05, ge=0, le=1, description="Weight of a price seen without buying (an ad, a visit, "
        "a livestream) in the same update: the memory-based reference price moves toward "
        "every price the consumer sees (Briesch et al. 1997). 0: only prices paid move it. "
        "Source: assumption, below the weight of a price paid.",
    )
    complaint_probability: float = Field(
        0.02, ge=0, le=1, description="Chance that a contact above the consumer's daily "
        "tolerance causes a complaint. Source: assumption (domain brief: over-contact causes "
        "complaints).",
    )
    optout_probability: float = Field(
        0.3, ge=0, le=1, description="Chance that a complaint ends in an opt-out from the "
        "channel. Source: assumption.",
    )
    repurchase_shape: float = Field(
        2.0, ge=1, le=10, description="Weibull shape of the repurchase hazard (increasing "
        "when > 1). Source: assumption.",
    )


class Product(Frozen):
    name: str = Field(min_length=1)
    category: str | None = Field(
        None, min_length=1, description="Products of one category compete in one "
        "multinomial logit with a no-purchase option; default: the product alone in its own.")
    competitor: bool = Field(
        False, description="Another brand's product competing in the category: it takes "
        "choices (and is counted as competitor_orders) but its sales are not the campaign's.")
    list_price: float = Field(gt=0, allow_inf_nan=False)
    margin: float = Field(ge=0, lt=1, description="Gross margin as a share of list price.")
    reference_price: float | None = Field(
        None, gt=0, description="Mean initial reference price; default: list price."
    )
    reference_price_sd: float = Field(
        0.1, ge=0, le=1, description="Relative spread of initial reference prices. "
        "Source: assumption.",
    )
    repurchase_days: float = Field(
        60.0, gt=0, description="Mean days from a purchase to the next need. Source: assumption."
    )
    units_per_order: float = Field(1.0, ge=1, le=100)

    @property
    def unit_cost(self) -> float:
        return self.list_price * (1 - self.margin)


class Frame(StrEnum):
    limited_time = "limited_time"
    everyday_low_price = "everyday_low_price"
    none = "none"


class Offer(Frozen):
    name: str = Field(min_length=1)
    product: str
    promo_price: float = Field(gt=0, allow_inf_nan=False)
    original_price: float | None = Field(
        None, gt=0, description="Displayed 'original price' (the anchor); none if absent."
    )
    frame: Frame = Frame.none
    start_day: float = Field(0.0, ge=0)
    end_day: float | None = Field(None, gt=0, description="Default: end of the campaign.")

    @model_validator(mode="after")
    def _check(self) -> Offer:
        if self.original_price is not None and self.original_price < self.promo_price:
            raise problem(
                "original_price", f"{self.original_price} is below promo_price "
                f"{self.promo_price}; a displayed original price must be >= the promo price"
            )
        if self.end_day is not None and self.end_day <= self.start_day:
            raise problem("end_day", f"{self.end_day} must be after start_day {self.start_day}")
        return self


class ChannelKind(StrEnum):
    livestream = "livestream"
    short_video = "short_video"
    search = "search"
    content = "content"
    social = "social"
    wechat_crm = "wechat_crm"
    affiliate = "affiliate"
    display = "display"


class CostModel(StrEnum):
    cpm = "cpm"
    cpc = "cpc"
    commission = "commission"
    owned = "owned"  # the advertiser's own display (a store's feature ad): no spend at all


class DisplayLevel(Frozen):
    day: int = Field(ge=0, description="Day from which the level holds (until the next row).")
    level: float = Field(ge=0, allow_inf_nan=False, description="Multiplies the channel's "
                         "daily_impressions (e.g. the share of a brand's items featured).")


class Targeting(Frozen):
    generations: tuple[str, ...] = GENERATIONS
    tiers: tuple[str, ...] = TIERS

    @field_validator("generations")
    @classmethod
    def _gens(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        bad = sorted(set(v) - set(GENERATIONS))
        if bad or not v:
            raise ValueError(f"must be a non-empty subset of {list(GENERATIONS)}, got {list(v)}")
        return v

    @field_validator("tiers")
    @classmethod
    def _tiers(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        bad = sorted(set(v) - set(TIERS))
        if bad or not v:
            raise ValueError(f"must be a non-empty subset of {list(TIERS)}, got {list(v)}")
        return v


class Channel(Frozen):
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_\-]+$")
    kind: ChannelKind
    product: str | None = Field(None, description="Product promoted; default: the first.")
    budget: float = Field(ge=0, allow_inf_nan=False, description="Spend budget (0 for an "
                          "owned channel).")
    cost_model: CostModel
    cost: float | None = Field(
        None, gt=0, allow_inf_nan=False,
        description="CPM: price per 1,000 impressions; CPC: price per click; commission: "
        "share of the channel's GMV; none for an owned channel.",
    )
    daily_impressions: float | None = Field(
        None, gt=0, description="Impressions the channel can serve per day (required for "
        "commission and owned channels, whose reach is not bought per impression).",
    )
    schedule: tuple[DisplayLevel, ...] = Field(
        (), description="Levels of daily_impressions by day (commission and owned channels); "
        "level 1 before the first row.")
    ctr: float = Field(gt=0, le=1, description="Click-through rate at affinity 1.")
    affinity: dict[str, float] = Field(
        default_factory=dict, validate_default=True,
        description="Relative exposure and click propensity by generation (default 1).",
    )
    tier_affinity: dict[str, float] = Field(
        default_factory=dict, validate_default=True,
        description="Relative exposure and click propensity by city tier (default 1).",
    )
    targeting: Targeting = Targeting()
    frequency_cap: int = Field(3, ge=1, le=1000, description="Impressions per consumer per day.")
    requires_consent: bool = False
    awareness_per_impression: float = Field(1.0, ge=0, le=100)
    phase_weights: dict[str, float] | None = Field(
        None, description="Per-phase budget weights overriding the calendar's."
    )

    @field_validator("affinity")
    @classmethod
    def _aff(cls, v: dict[str, float]) -> dict[str, float]:
        return check_weights(v, GENERATIONS, "generations")

    @field_validator("tier_affinity")
    @classmethod
    def _tier_aff(cls, v: dict[str, float]) -> dict[str, float]:
        return check_weights(v, TIERS, "tiers")

    @property
    def reach_bought(self) -> bool:
        """Whether the budget buys the channel's impressions or clicks (CPM, CPC)."""
        return self.cost_model in (CostModel.cpm, CostModel.cpc)

    @model_validator(mode="after")
    def _check(self) -> Channel:
        owned = self.cost_model is CostModel.owned
        if owned and self.cost is not None:
            raise problem("cost", "an owned channel has no cost; drop it")
        if owned and self.budget > 0:
            raise problem("budget", f"an owned channel has no spend; must be 0, got "
                          f"{self.budget}")
        if not owned and self.cost is None:
            raise problem("cost", f"a {self.cost_model.value} channel needs it (> 0)")
        if self.cost_model is CostModel.commission and self.cost >= 1:
            raise problem("cost", f"a commission rate must be in (0, 1), got {self.cost}")
        if not self.reach_bought and self.daily_impressions is None:
            raise problem("daily_impressions", f"{self.cost_model.value} channels need it (> 0)")
        if self.reach_bought and self.schedule:
            raise problem("schedule", "a CPM or CPC channel's delivery follows its budget's "
                          "phases; a schedule is for commission and owned channels")
        days = [row.day for row in self.schedule]
        bad = next((i for i in range(1, len(days)) if days[i] <= days[i - 1]), None)
        if bad is not None:
            raise problem(f"schedule[{bad}].day", f"{days[bad]} must be after the previous "
                          f"row's day {days[bad - 1]}")
        return self


class Phase(Frozen):
    name: str = Field(min_length=1)
    start_day: float = Field(ge=0)
    end_day: float = Field(gt=0)
    budget_weight: float = Field(ge=0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _check(self) -> Phase:
        if self.end_day <= self.start_day:
            raise problem("end_day", f"{self.end_day} must be after start_day {self.start_day}")
        return self


class Livestream(TimedEvent):
    """A livestream session: its channel's spend is concentrated here, with a deal."""

    kind: Literal["livestream"]
    channel: str
    discount: float = Field(0.0, ge=0, lt=1, description="Share off the current price.")


class FlashSale(TimedEvent):
    kind: Literal["flash_sale"]
    product: str | None = Field(None, description="Default: every product.")
    discount: float = Field(gt=0, lt=1)


class Presale(TimedEvent):
    """Deposit window: orders placed here are paid (and counted) at the balance hour."""

    kind: Literal["presale"]
    product: str | None = None
    discount: float = Field(0.0, ge=0, lt=1)
    balance_day: int = Field(ge=0)
    balance_hour: int = Field(0, ge=0, le=23)
    dropout: float = Field(
        0.1, ge=0, le=1, description="Share of deposits never completed. Source: assumption."
    )

    @property
    def balance_at(self) -> int:
        return 24 * self.balance_day + self.balance_hour


class CouponDrop(TimedEvent):
    """A share of consumers receive a coupon worth ``value`` for ``duration_hours``."""

    kind: Literal["coupon_drop"]
    product: str | None = None
    value: float = Field(gt=0, allow_inf_nan=False)
    share: float = Field(gt=0, le=1)


class CompetitorPromotion(TimedEvent):
    kind: Literal["competitor_promotion"]
    utility_shift: float = Field(
        le=0, ge=-10, description="Utility lost by our offers while the competitor runs."
    )


EVENT_KINDS: dict[str, type[TimedEvent]] = {
    "livestream": Livestream,
    "flash_sale": FlashSale,
    "presale": Presale,
    "coupon_drop": CouponDrop,
    "competitor_promotion": CompetitorPromotion,
    "kol_post": KolPost,
    "koc_seeding": KocSeeding,
}

Event = Annotated[
    Livestream | FlashSale | Presale | CouponDrop | CompetitorPromotion | KolPost | KocSeeding,
    Field(discriminator="kind"),
]


class Calendar(Frozen):
    days: int = Field(30, ge=1, le=1100, description="Up to about three years (121 weeks of "
                      "store data are 847 days).")
    start_date: str = Field("2026-10-20", pattern=r"^\d{4}-\d{2}-\d{2}$")
    phases: tuple[Phase, ...] = Field(min_length=1)
    events: tuple[Event, ...] = ()
    tick_hours: Literal[1, 2, 3, 4, 6, 8, 12, 24] = Field(
        1, description="Hours one step of the consumer population covers (divides 24); "
        "a daily tick makes multi-year store calendars affordable.")

    @model_validator(mode="after")
    def _check(self) -> Calendar:
        horizon = 24 * self.days
        self._check_tick()
        phases = sorted(self.phases, key=lambda p: p.start_day)
        for a, b in zip(phases, phases[1:], strict=False):
            if b.start_day < a.end_day:
                raise problem(f"phases[{b.name}]", f"overlaps phase {a.name!r}")
        for p in phases:
            if p.end_day > self.days:
                raise problem(f"phases[{p.name}].end_day", f"day {p.end_day} is after the "
                              f"calendar's {self.days} days")
        if sum(p.budget_weight for p in phases) <= 0:
            raise problem("phases", "at least one phase needs a budget_weight > 0")
        for e in self.events:
            if e.end_hour > horizon:
                raise problem(
                    f"events[{e.name}]", f"runs to hour {e.end_hour}, outside the calendar "
                    f"(0 to {horizon} h, {self.days} days)"
                )
            if isinstance(e, Presale) and not e.end_hour <= e.balance_at < horizon:
                raise problem(
                    f"events[{e.name}].balance_day", f"balance hour {e.balance_at} must fall "
                    f"after the deposit window (ends {e.end_hour}) and inside the calendar "
                    f"({horizon} h)"
                )
        names = [e.name for e in self.events] + [p.name for p in self.phases]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise problem("events", f"phase and event names must be unique, repeated: {dup}")
        return self

    def _check_tick(self) -> None:
        """Every calendar change must fall on a tick boundary (a tick sees one state)."""
        t = self.tick_hours
        if t == 1:
            return
        times = [(f"phases[{p.name}].{f}", getattr(p, f) * 24)
                 for p in self.phases for f in ("start_day", "end_day")]
        for e in self.events:
            times += [(f"events[{e.name}].hour", e.start_hour),
                      (f"events[{e.name}].duration_hours", e.duration_hours)]
            if isinstance(e, Presale):
                times.append((f"events[{e.name}].balance_hour", e.balance_at))
        for path, hours in times:
            if hours % t:
                raise problem(path, f"{hours:g} h is not a multiple of calendar.tick_hours "
                              f"= {t}; with a tick of {t} h calendar changes fall on tick "
                              f"boundaries (hours 0, {t}, {2 * t}, ...)")

    @property
    def hours(self) -> int:
        return 24 * self.days


class Scenario(Frozen):
    name: str = Field(min_length=1)
    description: str = ""
    seed: int = Field(0, ge=0, lt=2**63)
    market: Market = Market()
    behaviour: Behaviour = Behaviour()
    segments: dict[str, Segment] = Field(default_factory=dict)
    products: tuple[Product, ...] = Field(min_length=1)
    offers: tuple[Offer, ...] = ()
    channels: tuple[Channel, ...] = Field(min_length=1)
    calendar: Calendar
    network: Network | None = Field(None, description="No network: no social influence.")
    budget_control: BudgetControl | None = Field(
        None, description="Real-time reallocation of the remaining budget; none: the plan.")
    prices: PricePath | None = Field(
        None, description="Observed shelf prices per product and day (scenarios.prices); "
        "none: list prices.")

    @field_validator("segments", mode="before")
    @classmethod
    def _merge_segment_defaults(cls, v: dict) -> dict:
        if not isinstance(v, dict):
            raise ValueError("must be a table of generations")
        unknown = sorted(set(v) - set(GENERATIONS))
        if unknown:
            raise ValueError(f"unknown generations {unknown}; allowed: {list(GENERATIONS)}")
        merged = {}
        for g in GENERATIONS:
            given = v.get(g, {})
            if isinstance(given, Segment):
                given = given.model_dump()
            if not isinstance(given, dict):
                raise ValueError(f"segments.{g} must be a table")
            merged[g] = {**DEFAULT_SEGMENTS[g], **given}
        return merged

    @model_validator(mode="before")
    @classmethod
    def _default_segments(cls, data):
        if isinstance(data, dict) and "segments" not in data:
            data = {**data, "segments": {}}
        return data

    @model_validator(mode="after")
    def _cross_check(self) -> Scenario:
        products = {p.name: p for p in self.products}
        channels = {c.name: c for c in self.channels}
        phases = {p.name for p in self.calendar.phases}
        _unique("products", [p.name for p in self.products])
        _unique("channels", [c.name for c in self.channels])
        for reserved in ("organic", *SOCIAL_SOURCES):
            if reserved in channels:
                raise problem(f"channels[{reserved}]", f"the name {reserved!r} is reserved "
                              "for a source that is not a channel")
        _unique("offers", [o.name for o in self.offers])
        for o in self.offers:
            if o.product not in products:
                raise problem(f"offers[{o.name}].product", f"unknown product {o.product!r}; "
                              f"allowed: {sorted(products)}")
            p = products[o.product]
            discount_claimed = o.frame is Frame.limited_time or o.original_price is not None
            if discount_claimed and o.promo_price > p.list_price:
                raise problem(
                    f"offers[{o.name}].promo_price", f"{o.promo_price} is above the list price "
                    f"{p.list_price} while the offer claims a discount (frame "
                    f"{o.frame.value!r}, original_price {o.original_price}); allowed: "
                    f"<= {p.list_price}"
                )
            if (o.end_day or self.calendar.days) > self.calendar.days:
                raise problem(f"offers[{o.name}].end_day", f"ends after the calendar's "
                              f"{self.calendar.days} days")
        for c in self.channels:
            if c.product is not None and c.product not in products:
                raise problem(f"channels[{c.name}].product", f"unknown product {c.product!r}; "
                              f"allowed: {sorted(products)}")
            if c.schedule and c.schedule[-1].day >= self.calendar.days:
                raise problem(f"channels[{c.name}].schedule[{len(c.schedule) - 1}].day",
                              f"day {c.schedule[-1].day} is outside the calendar (days 0 to "
                              f"{self.calendar.days - 1})")
            if c.phase_weights is not None:
                bad = sorted(set(c.phase_weights) - phases)
                if bad:
                    raise problem(f"channels[{c.name}].phase_weights", f"unknown phases {bad}; "
                                  f"allowed: {sorted(phases)}")
        for e in self.calendar.events:
            if isinstance(e, Livestream) and e.channel not in channels:
                raise problem(f"calendar.events[{e.name}].channel", f"unknown channel "
                              f"{e.channel!r}; allowed: {sorted(channels)}")
            if isinstance(e, KolPost | KocSeeding) and self.network is None:
                raise problem(f"calendar.events[{e.name}]", f"a {e.kind} event needs a "
                              "[network] section")
            product = getattr(e, "product", None)
            if product is not None and product not in products:
                raise problem(f"calendar.events[{e.name}].product", f"unknown product "
                              f"{product!r}; allowed: {sorted(products)}")
        group_buy = self.network.group_buy if self.network else None
        if group_buy and group_buy.product is not None and group_buy.product not in products:
            raise problem("network.group_buy.product", f"unknown product "
                          f"{group_buy.product!r}; allowed: {sorted(products)}")
        for c in self.channels:
            promoted = self.products[self.channel_product(c)]
            if promoted.competitor:
                raise problem(f"channels[{c.name}].product", f"{promoted.name!r} is a "
                              "competitor's product; a channel promotes one of the campaign's "
                              f"own: {[p.name for p in self.products if not p.competitor]}")
        if self.prices is not None:
            check_rows(self.prices, list(products), self.calendar.days)
        if self.budget_control is not None:
            check_budget_control(self.budget_control, self.channels, self.calendar.hours)
            tick = self.calendar.tick_hours
            if self.budget_control.interval_hours % tick:
                raise problem("budget_control.interval_hours", f"must be a multiple of "
                              f"calendar.tick_hours = {tick}")
        return self

    @property
    def own_products(self) -> tuple[Product, ...]:
        """The campaign's products: what a shop's data hold (competitors' are not its sales)."""
        return tuple(p for p in self.products if not p.competitor)

    def category_of(self, product: int) -> str:
        p = self.products[product]
        return p.category if p.category is not None else f"product:{p.name}"

    def channel_product(self, channel: Channel) -> int:
        """Index of the product a channel promotes."""
        names = [p.name for p in self.products]
        return names.index(channel.product) if channel.product else 0


def _unique(what: str, names: list[str]) -> None:
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise problem(what, f"names must be unique, repeated: {dup}")
