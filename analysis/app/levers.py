"""The levers a strategist pulls in the app, and how they turn a baseline into a variant.

``Levers`` holds every control's value, in the units the page shows (budgets in currency at
the scenario's own population, discounts as a share off the offer's original price). It is
read from a scenario (``levers_of``) and written back (``apply``) as dotted-path overrides
through ``scenarios.with_overrides``, the same path ``--set`` takes, so a variant is
validated with the same messages as the command line. Population and replications are run
options, not scenario fields: ``--population`` scales budgets with the population, so the
budgets shown stay those of the scenario file.

Livestream sessions are switched off by removing their calendar events (an override cannot
remove a list item); the rest of the scenario goes through ``scenarios.validate`` again.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from scenarios import Scenario, validate, with_overrides
from scenarios.schema import KocSeeding, KolPost, Livestream

FRAMES = ("limited_time", "everyday_low_price", "none")

DEFAULT_POPULATION = 20_000
DEFAULT_REPLICATIONS = 4


@dataclass(frozen=True)
class Levers:
    """Every control of the page.

    Attributes
    ----------
    budgets
        Channel name -> campaign budget (currency, at the scenario's population).
    discounts
        Offer name -> share off the offer's original price (or its product's list price).
    frames
        Offer name -> ``limited_time``, ``everyday_low_price`` or ``none``.
    livestreams
        Livestream event name -> on (kept) or off (removed from the calendar).
    kol_spend
        KOL-post event name -> budget of the posts.
    koc_spend
        KOC-seeding event name -> spend (accounts x cost per account).
    policy
        Budget control: ``static`` (the plan), ``observed`` or ``thompson``.
    population, replications
        Consumers per run (budgets scale with it) and paired seeds per comparison.
    advanced
        ``dotted.path=value`` lines applied last, as ``--set`` does.
    """

    budgets: dict[str, float]
    discounts: dict[str, float] = field(default_factory=dict)
    frames: dict[str, str] = field(default_factory=dict)
    livestreams: dict[str, bool] = field(default_factory=dict)
    kol_spend: dict[str, float] = field(default_factory=dict)
    koc_spend: dict[str, float] = field(default_factory=dict)
    policy: str = "static"
    population: int = DEFAULT_POPULATION
    replications: int = DEFAULT_REPLICATIONS
    advanced: tuple[str, ...] = ()

    @property
    def total_budget(self) -> float:
        return float(sum(self.budgets.values()))

    def with_budget(self, channel: str, value: float, *, keep_total: bool) -> Levers:
        """A copy with ``channel``'s budget set; with ``keep_total`` the other channels give
        or take the difference in proportion to their budgets, so the total is unchanged."""
        value = max(0.0, float(value))
        budgets = dict(self.budgets)
        others = {c: b for c, b in budgets.items() if c != channel}
        if keep_total and others:
            total = self.total_budget
            value = min(value, total)
            rest, spare = sum(others.values()), total - value
            for c, b in others.items():
                budgets[c] = spare * (b / rest if rest > 0 else 1 / len(others))
        budgets[channel] = value
        return replace(self, budgets=budgets)


def offer_base_price(scenario: Scenario, offer_name: str) -> float:
    """The price an offer's discount is taken from: its original price, else the list price."""
    offer = next(o for o in scenario.offers if o.name == offer_name)
    if offer.original_price is not None:
        return offer.original_price
    return next(p.list_price for p in scenario.products if p.name == offer.product)


def levers_of(scenario: Scenario, *, population: int | None = None,
              replications: int = DEFAULT_REPLICATIONS) -> Levers:
    """The levers as the scenario sets them (the baseline's controls)."""
    events = scenario.calendar.events
    return Levers(
        budgets={c.name: float(c.budget) for c in scenario.channels},
        # to the slider's step, so that showing a discount does not change it
        discounts={o.name: round(1 - o.promo_price / offer_base_price(scenario, o.name), 2)
                   for o in scenario.offers},
        frames={o.name: o.frame.value for o in scenario.offers},
        livestreams={e.name: True for e in events if isinstance(e, Livestream)},
        kol_spend={e.name: float(e.budget) for e in events
                   if isinstance(e, KolPost) and e.budget is not None},
        koc_spend={e.name: float(e.accounts * e.cost_per_account) for e in events
                   if isinstance(e, KocSeeding) and e.cost_per_account > 0},
        policy=scenario.budget_control.policy if scenario.budget_control else "static",
        population=population or min(scenario.market.population, DEFAULT_POPULATION),
        replications=replications,
    )


def overrides(baseline: Scenario, levers: Levers) -> dict[str, Any]:
    """The dotted-path overrides that differ from the baseline (livestreams aside).

    Levers of channels, offers or events the baseline does not have are ignored (a page can
    hold the old levers for a moment while it opens another scenario).
    """
    start = levers_of(baseline)
    out: dict[str, Any] = {}

    def changed(part: str):
        old = getattr(start, part)
        return [(k, v) for k, v in getattr(levers, part).items() if k in old and v != old[k]]

    for c, v in changed("budgets"):
        out[f"channels.{c}.budget"] = float(v)
    for o, d in changed("discounts"):
        out[f"offers.{o}.promo_price"] = round(offer_base_price(baseline, o) * (1 - d), 2)
    for o, f in changed("frames"):
        out[f"offers.{o}.frame"] = f
    for e, v in changed("kol_spend"):
        out[f"calendar.events.{e}.budget"] = float(v)
    costs = {e.name: e.cost_per_account for e in baseline.calendar.events
             if isinstance(e, KocSeeding)}
    for e, v in changed("koc_spend"):
        out[f"calendar.events.{e}.accounts"] = max(1, round(v / costs[e]))
    if levers.policy != start.policy:
        out["budget_control.policy"] = levers.policy
    return out


def apply(baseline: Scenario, levers: Levers) -> Scenario:
    """The variant: the baseline with the levers applied, validated like a scenario file.

    Raises ``ScenarioError`` naming the field for a value the schema refuses.
    """
    scenario = baseline
    off = {name for name, on in levers.livestreams.items() if not on}
    if off:
        raw = baseline.model_dump(mode="json", exclude_none=True)
        raw["calendar"]["events"] = [e for e in raw["calendar"]["events"]
                                     if e["name"] not in off]
        scenario = validate(raw, source=f"scenario {baseline.name!r}")
    changes = overrides(baseline, levers)
    if changes:
        scenario = with_overrides(scenario, changes)
    lines = [line.strip() for line in levers.advanced if line.strip()]
    if lines:
        scenario = with_overrides(scenario, lines)
    return scenario


def describe(baseline: Scenario, levers: Levers) -> list[str]:
    """One line per lever that differs from the baseline, for the history."""
    lines = [f"{path} = {value:,.6g}" if isinstance(value, float) else f"{path} = {value}"
             for path, value in overrides(baseline, levers).items()]
    lines += [f"livestream {name} off" for name, on in levers.livestreams.items() if not on]
    return lines + [line.strip() for line in levers.advanced if line.strip()]
