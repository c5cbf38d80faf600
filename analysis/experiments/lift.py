r"""Lift tests inside the simulated campaign, with the counterfactual truth beside them.

A lift test withholds one channel from a control group for a window of days ``W`` and reads
the channel's effect off the difference. Three designs (``DESIGNS``):

- **holdout**: a random share of the consumers is never served the channel in the window.
  With :math:`y_i` consumer i's GMV in the window, :math:`n` consumers, :math:`n_T` treated
  and :math:`n_C` control, the lift per day is

  .. math:: \hat\Delta = \frac{n (\bar y_T - \bar y_C)}{|W|},\qquad
            \mathrm{se} = \frac{n}{|W|}\sqrt{s_T^2/n_T + s_C^2/n_C}

  (Welch), with a normal interval.
- **geo**: regions go dark: the city tiers (``geo="tiers"``, the ``control_tier`` is the
  control) or ``regions`` random regions of which a ``share`` is control. A difference in
  differences over days: with :math:`d_t` the per-capita daily GMV of treated minus control
  regions, :math:`\hat\Delta = n(\bar d_W - \bar d_P)` over the window ``W`` and the days
  before it ``P``; ``se`` from the pooled day-to-day spread of :math:`d_t`, t interval
  with :math:`|W| + |P| - 2` degrees of freedom.
- **pulse**: the channel is off for everyone in the window; the lift is the mean daily GMV
  of the flanking days ``F`` (up to ``|W|`` days before and after) minus the window's,
  ``se`` and interval as for geo (it ignores the calendar's own rise and fall, so a pulse
  in a campaign with a peak is biased: the interval says so only through its width).

Every test runs on common random numbers beside two runs of the same world that give the
truth: the campaign without the test and with the channel off for everyone in the window;
their difference in the window's GMV per day is the channel's lift in that world
(``truth``, as ``analysis.attribution.ground_truth`` measures a channel's increment), and
the mean over the seeds is the expected lift in this market, which the intervals are scored
against (``covered``; one world's paired difference still carries the noise of its
consumers' own decisions, which no test of that world can see). In holdout and geo tests
the impressions drawn for control consumers are bought and not shown (a public-service ad
in their place, ``simulation.model.Holdout``), so the budget's pacing and what the treated
see are those of the campaign without the test; a pulse saves the channel's spend. ``delta_x``
is the channel's spend per day in the window without the test: the spend rate the control
went without, scaled to the market. ``x = 0``: the test reads the saturation curve from no
spend to that rate, per day, as PyMC-Marketing's lift-test likelihood takes it (columns
``channel, x, delta_x, delta_y, sigma``; ``pymc_marketing.mmm.lift_test``). A window shorter
than the ad-stock reads less than the steady-state effect: the control consumers still carry
the awareness of the days before, and the effect that outlasts the window is not counted
(the truth here is the window's, so the interval covers it; the carry-over bias shows when
an MMM takes the test as steady state: ``analysis.attribution.mmm``).

The control group is drawn from the stream ``experiment:assignment`` of the run's seed,
apart from the campaign's own streams.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from scenarios import Scenario
from scenarios.schema import TIERS
from simulation.io import write_atomic
from simulation.model import Holdout
from simulation.run import rescale, run_batch
from simulation.streams import Streams
from simulation.worlds import build as build_worlds

DESIGNS = ("holdout", "geo", "pulse")
GEO_UNITS = ("regions", "tiers")
LEVEL = 0.90
LIFT_COLUMNS = ("channel", "x", "delta_x", "delta_y", "sigma")  # PyMC-Marketing's layout


class LiftTestError(ValueError):
    """A design the lab refuses; the message names the option and what is allowed."""


@dataclass(frozen=True)
class Design:
    """One lift test: ``channel`` withheld from the control in days ``start_day`` to
    ``end_day`` (end excluded)."""

    channel: str
    design: str
    start_day: int
    end_day: int
    share: float = 0.5  # control share of consumers (holdout) or of regions (geo regions)
    geo: str = "regions"
    regions: int = 20
    control_tier: str = "lower"

    @property
    def days(self) -> int:
        return self.end_day - self.start_day

    def comparison_days(self, calendar_days: int) -> np.ndarray:
        """Days a geo (before the window) or pulse (around it) test compares with."""
        if self.design == "geo":
            return np.arange(0, self.start_day)
        before = np.arange(max(0, self.start_day - self.days), self.start_day)
        after = np.arange(self.end_day, min(calendar_days, self.end_day + self.days))
        return np.concatenate([before, after])


def check_design(scenario: Scenario, design: Design) -> None:
    """Refuse a design that cannot measure anything, naming the option."""
    names = [c.name for c in scenario.channels]
    if design.channel not in names:
        raise LiftTestError(f"--channel: unknown channel {design.channel!r}; the scenario "
                            f"{scenario.name!r} has {', '.join(names)}")
    if design.design not in DESIGNS:
        raise LiftTestError(f"--design: must be one of {', '.join(DESIGNS)}, got "
                            f"{design.design!r}")
    days = scenario.calendar.days
    if not 0 <= design.start_day < design.end_day <= days:
        raise LiftTestError(f"--window: START:END must satisfy 0 <= START < END <= {days} "
                            f"(the calendar's days), got {design.start_day}:{design.end_day}")
    if design.design == "holdout" or (design.design == "geo" and design.geo == "regions"):
        if not 0 < design.share < 1:
            raise LiftTestError(f"--share: the control share must be strictly between 0 and "
                                f"1 (a test needs treated and control consumers), got "
                                f"{design.share}")
    if design.design == "geo":
        _check_geo(design)
    if design.design != "holdout":
        compared = len(design.comparison_days(days))
        if compared < 1 or compared + design.days < 3:
            where = "before the window (START >= 1)" if design.design == "geo" else \
                "around the window"
            raise LiftTestError(f"--window: a {design.design} test compares the window with "
                                f"days {where}; it needs at least one such day and 3 days in "
                                f"all, got window {design.start_day}:{design.end_day} of "
                                f"{days} days")


def _check_geo(design: Design) -> None:
    if design.geo not in GEO_UNITS:
        raise LiftTestError(f"--geo: must be one of {', '.join(GEO_UNITS)}, got {design.geo!r}")
    if design.geo == "tiers" and design.control_tier not in TIERS:
        raise LiftTestError(f"--control-tier: must be one of {', '.join(TIERS)}, got "
                            f"{design.control_tier!r}")
    if design.geo == "regions":
        control = round(design.share * design.regions)
        if design.regions < 2 or not 1 <= control <= design.regions - 1:
            raise LiftTestError(f"--regions: {design.regions} regions with control share "
                                f"{design.share} give {control} control regions; need at "
                                "least 2 regions and 1 to regions - 1 in control")


def control_mask(design: Design, tier: np.ndarray, *, rng: np.random.Generator) -> np.ndarray:
    """Bool per consumer of one world: True for the control group."""
    n = len(tier)
    if design.design == "pulse":
        return np.ones(n, dtype=bool)
    if design.design == "geo" and design.geo == "tiers":
        return tier == TIERS.index(design.control_tier)
    mask = np.zeros(n, dtype=bool)
    if design.design == "holdout":
        mask[rng.permutation(n)[:round(design.share * n)]] = True
        return mask
    region = rng.integers(design.regions, size=n)
    dark = rng.choice(design.regions, size=round(design.share * design.regions),
                      replace=False)
    return np.isin(region, dark)


@dataclass(frozen=True)
class LiftTest:
    """The measured lifts, one row per seed, in PyMC-Marketing's columns (``LIFT_COLUMNS``,
    outcome GMV per day, spend per day) and beside them ``lo``/``hi`` (the ``LEVEL``
    interval of ``delta_y``), ``truth`` (the world's counterfactual lift per day),
    ``covered`` (the interval holds the mean truth over the seeds),
    ``seed``, ``design``, ``start_day``, ``end_day``."""

    scenario: str
    design: Design
    table: pd.DataFrame

    @property
    def coverage(self) -> float:
        return float(self.table["covered"].mean())

    def lift_frame(self) -> pd.DataFrame:
        """The rows in PyMC-Marketing's lift-test layout only."""
        return self.table[list(LIFT_COLUMNS)].copy()

    def pooled(self) -> pd.DataFrame:
        """The seeds' tests as one (their mean, ``sigma`` the standard error of the mean of
        independent tests): the row to calibrate an MMM with, in ``LIFT_COLUMNS`` and
        ``truth`` (the mean truth)."""
        t = self.table
        return pd.DataFrame({"channel": [self.design.channel], "x": [0.0],
                             "delta_x": [t["delta_x"].mean()],
                             "delta_y": [t["delta_y"].mean()],
                             "sigma": [float(np.sqrt((t["sigma"] ** 2).sum())) / len(t)],
                             "truth": [t["truth"].mean()],
                             "start_day": [self.design.start_day],
                             "end_day": [self.design.end_day],
                             "design": [self.design.design]})

    def to_json(self) -> dict:
        t = self.table
        return {"scenario": self.scenario, "design": asdict(self.design), "level": LEVEL,
                "seeds": t["seed"].tolist(), "coverage": self.coverage,
                "mean_delta_y": float(t["delta_y"].mean()),
                "mean_truth": float(t["truth"].mean()),
                "mean_sigma": float(t["sigma"].mean()),
                "mean_delta_x": float(t["delta_x"].mean())}

    def save(self, out_dir: str | Path) -> Path:
        """Write lift_tests.csv (the table), lift_tests_pooled.csv (``pooled``) and
        lift_tests.json (summary) atomically."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        write_atomic(out / "lift_tests.csv", lambda p: self.table.to_csv(p, index=False))
        pooled = self.pooled()
        write_atomic(out / "lift_tests_pooled.csv", lambda p: pooled.to_csv(p, index=False))
        text = json.dumps(self.to_json(), indent=2)
        write_atomic(out / "lift_tests.json", lambda p: p.write_text(text))
        return out


def run_lift_test(scenario: Scenario, design: Design, seeds: tuple[int, ...], *,
                  population: int | None = None) -> LiftTest:
    """Run ``design`` in ``scenario`` once per seed (one batch of worlds) and its
    counterfactual (a second batch on the same random numbers)."""
    if population is not None and population != scenario.market.population:
        scenario = rescale(scenario, population)
    check_design(scenario, design)
    worlds = build_worlds([scenario] * len(seeds), seeds)
    tier = worlds.population.tier
    control = np.concatenate([
        control_mask(design, tier[worlds.offsets[w]:worlds.offsets[w + 1]],
                     rng=Streams(seed)("experiment:assignment"))
        for w, seed in enumerate(worlds.seeds)])
    hours = (24 * design.start_day, 24 * design.end_day)
    runs = [scenario] * len(seeds)
    # paired: world w of each batch draws its own run's numbers, so the three are the same
    # campaign but for the holdout (exact common random numbers, whatever the batch size)
    reference = run_batch(runs, seeds, paired=True)
    dark = run_batch(runs, seeds, holdouts=[Holdout(design.channel, np.ones_like(control),
                                                    *hours, paid=False)], paired=True)
    test = dark if design.design == "pulse" else run_batch(
        runs, seeds, holdouts=[Holdout(design.channel, control, *hours)], paired=True)
    gmv_test, gmv_ref, gmv_dark = (consumer_days(b) for b in (test, reference, dark))
    channel = [c.name for c in scenario.channels].index(design.channel)
    spend = reference.metric("spend")[:, :, channel]
    window = np.arange(design.start_day, design.end_day)
    rows = []
    for w, seed in enumerate(worlds.seeds):
        block = slice(int(worlds.offsets[w]), int(worlds.offsets[w + 1]))
        lost = gmv_ref[block][:, window].sum() - gmv_dark[block][:, window].sum()
        rows.append({"channel": design.channel, "x": 0.0,
                     "delta_x": float(spend[w, window].sum()) / design.days,
                     **_estimate(design, gmv_test[block], control[block], window,
                                 scenario.calendar.days),
                     "truth": lost / design.days, "seed": seed, "design": design.design,
                     "start_day": design.start_day, "end_day": design.end_day})
    table = pd.DataFrame(rows)
    truth = table["truth"].mean()
    table["covered"] = (table["lo"] <= truth) & (truth <= table["hi"])
    return LiftTest(scenario.name, design, table)


def consumer_days(batch) -> np.ndarray:
    """(consumers, days) GMV of each consumer of a batch on each day (from its order log)."""
    consumer, hour, _, _, price, units, *_ = batch.model.recorder.order_log()
    n, days = batch.model.population.size, batch.model.scenario.calendar.days
    cell = consumer.astype(np.int64) * days + hour // 24
    return np.bincount(cell, weights=price * units, minlength=n * days).reshape(n, days)


def _estimate(design: Design, test: np.ndarray, control: np.ndarray, window: np.ndarray,
              calendar_days: int) -> dict:
    """delta_y, sigma, lo and hi (GMV per day) of one world's test, from its
    (consumers, days) GMV."""
    n, treated = len(control), ~control
    if design.design == "pulse":
        daily = test.sum(axis=0)
        return _day_contrast(daily[design.comparison_days(calendar_days)], daily[window])
    if design.design == "geo":
        d = n * (test[treated].mean(axis=0) - test[control].mean(axis=0))
        return _day_contrast(d[window], d[design.comparison_days(calendar_days)])
    y = test[:, window].sum(axis=1)
    yt, yc = y[treated], y[control]
    lift = n * (yt.mean() - yc.mean()) / design.days
    se = n * np.sqrt(yt.var(ddof=1) / len(yt) + yc.var(ddof=1) / len(yc)) / design.days
    half = stats.norm.ppf(0.5 + LEVEL / 2) * se
    return {"delta_y": lift, "sigma": se, "lo": lift - half, "hi": lift + half}


def _day_contrast(on: np.ndarray, off: np.ndarray) -> dict:
    """mean(on) - mean(off) over days, with the pooled day-to-day spread and a t interval."""
    lift = on.mean() - off.mean()
    dof = len(on) + len(off) - 2
    pooled = (((on - on.mean()) ** 2).sum() + ((off - off.mean()) ** 2).sum()) / dof
    se = np.sqrt(pooled * (1 / len(on) + 1 / len(off)))
    half = stats.t.ppf(0.5 + LEVEL / 2, dof) * se
    return {"delta_y": lift, "sigma": se, "lo": lift - half, "hi": lift + half}
