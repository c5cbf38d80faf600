"""Real-time budget control: monitor -> analyse -> decide -> execute, every interval.

The scenario's ``[budget_control]`` (``scenarios.budget``) names the policy; this module runs
it. Every ``interval_hours`` the controller

1. *monitors* each paid (CPM/CPC) channel ``c``: spend ``S_c``, orders ``N_c`` and value
   ``V_c`` (GMV, or gross margin) of the orders the channel triggered (their ``source``),
   plus the expected value of its open presale deposits (deposit value x (1 - dropout)), so
   that a presale does not hide a channel's sales until the balance hour;
2. *analyses*: the policy estimates the return per unit of spend ``r_c``
   (``RETURN_ESTIMATORS``, one per ``scenarios.budget.POLICIES`` besides ``static``);
3. *decides*: ``reallocate`` splits the channels' total remaining budget by the rule in
   ``scenarios.budget`` (floors first, then ``1 - explore_share`` by ``r_c`` x plan and
   ``explore_share`` by plan), keeping the channels whose change would be below the
   threshold;
4. *executes*: a changed channel's remaining budget becomes its new one, and its plan for
   the hours from now on is the original plan's shape (intra-day profile, phases,
   livestream sessions) rescaled to sum to it.

Commission channels are excluded: they are paid a share of the GMV they bring (their return
per unit of spend is 1 / rate by construction) and their reach is a capacity, not bought
with budget, so moving money into or out of them changes nothing they deliver.

The controller is a SimPy process, one more sparse calendar process (``design.md``) rather
than a branch in the hourly tick: the tick stays unaware of it, and SimPy's ordering gives
the timing for free. Its timeout for hour ``t`` is scheduled before the tick's, so a
decision at ``t`` sees hours ``0..t-1`` and changes the plan from hour ``t`` on. The
``static`` policy starts no process and draws no random numbers: its run is the plain run.

Policies (``r_c`` is the estimated return):

- ``observed``: ``r_c = V_c / S_c``, the return observed so far; a channel that has not
  spent yet gets the pooled return of the paid channels (1 before any spend).
- ``thompson``: orders per unit of spend ``lambda_c ~ Gamma(n0 + N_c, n0 a_c / r0 + S_c)``
  (Gamma-Poisson; ``r0 = prior_roas``, ``n0 = prior_strength`` orders, ``a_c`` the channel's
  value per order so far, else the market's, else the product's list price or margin), and
  ``r_c = a_c lambda_c``: one draw per channel and decision from ``streams("budget_control")``,
  used as the channel's weight in the same rule (sampled weights, not argmax, so a channel's
  share follows its chance of being good). The posterior mean is
  ``(n0 a_c + V_c) / (n0 a_c / r0 + S_c)``: the observed return shrunk toward ``r0``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from scenarios.budget import BudgetControl, is_budget_lever
from scenarios.schema import Presale

from . import pacing


@dataclass(frozen=True)
class Evidence:
    """What the paid channels have produced so far (arrays over the controlled channels)."""

    spend: np.ndarray
    value: np.ndarray  # GMV or margin, completed plus expected from open deposits
    orders: np.ndarray  # completed plus expected from open deposits
    value_per_order: np.ndarray  # observed, else the market's, else the product's


@dataclass(frozen=True)
class Decision:
    """One channel at one decision time; ``applied`` is False when below the threshold."""

    hour: int
    channel: str
    old_remaining: float
    new_remaining: float
    estimated_return: float
    applied: bool


DECISION_COLUMNS = [f for f in Decision.__dataclass_fields__]


def observed_returns(ev: Evidence, settings: BudgetControl, *, rng: np.random.Generator
                 ) -> np.ndarray:
    """Observed return per unit of spend; the pooled return for channels without spend."""
    spent = ev.spend > 0
    pooled = ev.value[spent].sum() / ev.spend[spent].sum() if spent.any() else 1.0
    out = np.full(len(ev.spend), pooled, dtype=np.float64)
    out[spent] = ev.value[spent] / ev.spend[spent]
    return out


def thompson_returns(ev: Evidence, settings: BudgetControl, *, rng: np.random.Generator
                     ) -> np.ndarray:
    """One draw per channel from the Gamma-Poisson posterior of return per unit of spend."""
    n0, r0 = settings.prior_strength, settings.prior_roas
    a = ev.value_per_order
    shape = n0 + np.maximum(ev.orders, 0.0)
    rate = n0 * a / r0 + ev.spend
    return a * rng.gamma(shape, 1.0 / rate)


RETURN_ESTIMATORS: dict[str, Callable[..., np.ndarray]] = {
    "observed": observed_returns,
    "thompson": thompson_returns,
}


def split(budget: float, planned: np.ndarray, floors: np.ndarray, returns: np.ndarray,
          explore_share: float) -> np.ndarray | None:
    """Floors first, the rest by return x plan (exploit) and by plan (explore).

    ``None`` when ``budget`` does not cover the floors.
    """
    rest = budget - floors.sum()
    if rest < -1e-9 * max(budget, 1.0):
        return None
    explore = planned / planned.sum()
    w = np.maximum(returns, 0.0) * planned
    exploit = w / w.sum() if w.sum() > 0 else explore
    return floors + max(rest, 0.0) * ((1 - explore_share) * exploit + explore_share * explore)


def reallocate(remaining: np.ndarray, planned: np.ndarray, floor_share: np.ndarray,
               returns: np.ndarray, *, explore_share: float, change_threshold: float
               ) -> np.ndarray:
    """New remaining budgets; their sum is ``remaining.sum()`` (never more).

    Parameters
    ----------
    remaining
        Remaining budget per channel (currency).
    planned
        Spend the original plan still has per channel (currency, > 0).
    floor_share
        Share of ``planned`` each channel keeps at least.
    returns
        Estimated return per unit of spend.

    A channel keeps its budget when the change would be below ``change_threshold`` x its
    budget (and it is not below its floor); the others share what is left, and the rule is
    applied again to them until every channel that changes changes by at least the
    threshold. If the kept budgets leave too little for the others' floors, the floors win:
    the plain split applies to every channel.
    """
    pool = float(remaining.sum())
    floors = floor_share * planned
    if floors.sum() > pool:
        floors = floors * (pool / floors.sum())
    free = np.ones(len(remaining), dtype=bool)
    while free.any():
        kept = pool - remaining[~free].sum()
        target = split(kept, planned[free], floors[free], returns[free], explore_share)
        if target is None:
            new = split(pool, planned, floors, returns, explore_share)
            break
        change = np.abs(target - remaining[free])
        small = (change < change_threshold * remaining[free]) & (
            remaining[free] >= floors[free] - 1e-12)
        if not small.any():
            new = remaining.copy()
            new[free] = _at_most(target, kept)
            return new
        free[np.flatnonzero(free)[small]] = False
    else:
        return remaining.copy()
    return _at_most(new, pool)


def _at_most(budgets: np.ndarray, total: float) -> np.ndarray:
    """``budgets`` (>= 0) scaled down if rounding made them sum above ``total``."""
    budgets = np.maximum(budgets, 0.0)
    s = budgets.sum()
    return budgets * (total / s) if s > total else budgets


class BudgetController:
    """Reallocates a ``CampaignModel``'s remaining budget between its paid channels.

    ``decisions`` lists every ``Decision``; ``table()`` gives them as a DataFrame.
    """

    def __init__(self, model, settings: BudgetControl):
        self.model, self.settings = model, settings
        scenario = model.scenario
        self.channels = np.array([
            c for c, ch in enumerate(scenario.channels)
            if is_budget_lever(ch) and ch.budget > 0
        ], dtype=np.int64)
        self.original = model.spend_plan[0].copy()  # runs one world (worlds.check_shared)
        self.floor_share = np.array([
            settings.floor_of(scenario.channels[c].name) for c in self.channels
        ])
        self.policy = RETURN_ESTIMATORS.get(settings.policy)
        self.dropout = {e.name: e.dropout for e in scenario.calendar.events
                        if isinstance(e, Presale)}
        products = scenario.products
        unit = [p.list_price * (p.margin if settings.metric == "margin" else 1.0)
                for p in products]
        self.fallback_value = np.array([unit[model.product_of[c]] for c in self.channels])
        self.decisions: list[Decision] = []

    def process(self, env, hours: int):
        """The SimPy process: a decision every ``interval_hours`` inside the calendar."""
        while True:
            yield env.timeout(self.settings.interval_hours)
            if env.now >= hours:
                return
            self.decide(int(env.now))

    def evidence(self) -> Evidence:
        """Monitor: spend, value and orders per controlled channel, all hours so far."""
        model, metric = self.model, self.settings.metric
        values = model.recorder.values
        per_source = {m: values[m].sum(axis=(0, 2)) for m in ("spend", "orders", metric)}
        value, orders = per_source[metric].copy(), per_source["orders"].copy()
        for name, entries in model.deposits.items():
            keep = 1.0 - self.dropout[name]
            for source, product, bought in entries:
                price = bought.price
                if metric == "margin":
                    price = price - model.scenario.products[product].unit_cost
                value[source] += keep * float((price * bought.units).sum())
                orders[source] += keep * len(bought.ids)
        market = value.sum() / orders.sum() if orders.sum() > 0 else np.nan
        c = self.channels
        per_order = np.divide(value[c], orders[c], out=np.full(len(c), market),
                              where=orders[c] > 0)
        per_order = np.where(np.isfinite(per_order) & (per_order > 0), per_order,
                             self.fallback_value)
        return Evidence(spend=per_source["spend"][c], value=value[c], orders=orders[c],
                        value_per_order=per_order)

    def decide(self, hour: int) -> None:
        """One pass of the loop at ``hour`` (before that hour's tick)."""
        model = self.model
        planned = self.original[self.channels, hour:].sum(axis=1)
        live = planned > 0  # a channel the plan no longer uses has no shape to rescale
        c, planned = self.channels[live], planned[live]
        if len(c) < 2:
            return
        ev = self.evidence()
        returns = self.policy(ev, self.settings, rng=model.streams("budget_control").single())[live]
        old = model.remaining[0, c].copy()
        new = reallocate(old, planned, self.floor_share[live], returns,
                         explore_share=self.settings.explore_share,
                         change_threshold=self.settings.change_threshold)
        changed = new != old
        for i, ch in enumerate(c):
            if changed[i]:
                model.remaining[0, ch] = new[i]
                model.spend_plan[0, ch, hour:] = self.original[ch, hour:] * (new[i] / planned[i])
            self.decisions.append(Decision(
                hour=hour, channel=model.channel_names[ch], old_remaining=float(old[i]),
                new_remaining=float(new[i]), estimated_return=float(returns[i]),
                applied=bool(changed[i]),
            ))
        if changed.any():
            model.day_plan = pacing.trailing_day(model.spend_plan)

    def table(self) -> pd.DataFrame:
        """Every decision: hour, channel, old and new remaining budget, estimated return,
        and whether it was applied."""
        return pd.DataFrame([asdict(d) for d in self.decisions], columns=DECISION_COLUMNS)


def start_budget_control(env, model) -> BudgetController | None:
    """The model's controller (``None`` without ``[budget_control]``); a process is started
    for every policy but ``static``."""
    settings = model.scenario.budget_control
    if settings is None:
        return None
    controller = BudgetController(model, settings)
    if controller.policy is not None:
        env.process(controller.process(env, model.hours))
    return controller
