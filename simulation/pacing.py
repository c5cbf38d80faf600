"""How each channel spreads its budget over the hours of the campaign.

A channel's budget is split over phases by budget weights (the calendar's, or the channel's
own ``phase_weights``), within a phase by the hour-of-day activity profile, and, for a
channel with livestream sessions in a phase, only over those sessions' hours. The plan is a
(channels, hours) array whose rows sum to the budgets; what a tick cannot spend carries over.
"""

from __future__ import annotations

import numpy as np

from scenarios.schema import Livestream, Scenario


def hour_weights(scenario: Scenario) -> np.ndarray:
    """Activity weight of every campaign hour, mean 1 over a day."""
    profile = np.asarray(scenario.market.hour_profile, dtype=np.float64)
    profile = profile / profile.mean()
    return np.tile(profile, scenario.calendar.days)


def phase_index(scenario: Scenario) -> np.ndarray:
    """Index of the phase each hour belongs to (-1 for hours outside every phase)."""
    out = np.full(scenario.calendar.hours, -1, dtype=np.int16)
    for i, phase in enumerate(scenario.calendar.phases):
        start, end = int(np.ceil(phase.start_day * 24)), int(np.ceil(phase.end_day * 24))
        out[start:end] = i
    return out


def _channel_phase_weights(scenario: Scenario) -> np.ndarray:
    phases = scenario.calendar.phases
    rows = []
    for ch in scenario.channels:
        given = ch.phase_weights
        w = [given.get(p.name, 0.0) if given is not None else p.budget_weight for p in phases]
        rows.append(w)
    w = np.asarray(rows, dtype=np.float64)
    totals = w.sum(axis=1, keepdims=True)
    return np.divide(w, totals, out=np.zeros_like(w), where=totals > 0)


def session_mask(scenario: Scenario) -> np.ndarray:
    """(channels, hours) True where a livestream session of the channel is on."""
    names = {c.name: i for i, c in enumerate(scenario.channels)}
    mask = np.zeros((len(scenario.channels), scenario.calendar.hours), dtype=bool)
    for e in scenario.calendar.events:
        if isinstance(e, Livestream):
            mask[names[e.channel], e.start_hour : e.end_hour] = True
    return mask


def activity_plan(scenario: Scenario) -> np.ndarray:
    """(channels, hours) share of each channel's effort per hour; rows sum to 1 (or 0)."""
    hours = hour_weights(scenario)
    phase = phase_index(scenario)
    sessions = session_mask(scenario)
    weights = _channel_phase_weights(scenario)
    plan = np.zeros((len(scenario.channels), len(hours)))
    for p in range(len(scenario.calendar.phases)):
        in_phase = phase == p
        for c in range(len(scenario.channels)):
            if weights[c, p] == 0:
                continue
            shape = hours * in_phase
            live = sessions[c] & in_phase
            if live.any():
                shape = hours * live
            plan[c] += weights[c, p] * shape / shape.sum()
    return plan


def spend_plan(scenario: Scenario) -> np.ndarray:
    """(channels, hours) planned spend for CPM/CPC channels; zero rows for the others."""
    budgets = np.array([c.budget if c.reach_bought else 0.0 for c in scenario.channels])
    return activity_plan(scenario) * budgets[:, None]


def impression_capacity(scenario: Scenario) -> np.ndarray:
    """(channels, hours) impressions commission and owned channels can serve; zero rows for
    the others.

    Such a channel serves ``daily_impressions`` per day on average over the hours its
    activity plan covers, shaped like that plan, times its schedule's level of the day.
    """
    plan = activity_plan(scenario)
    active_days = np.count_nonzero(plan, axis=1) / 24.0
    out = np.zeros_like(plan)
    for c, ch in enumerate(scenario.channels):
        if not ch.reach_bought and active_days[c] > 0:
            level = np.ones(scenario.calendar.days)
            for row in ch.schedule:
                level[row.day:] = row.level
            out[c] = plan[c] * ch.daily_impressions * active_days[c] * np.repeat(level, 24)
    return out


def trailing_day(plan: np.ndarray) -> np.ndarray:
    """Sum of ``plan`` over each hour and the 23 before it (hours on the last axis)."""
    cum = np.cumsum(plan, axis=-1)
    out = cum.copy()
    out[..., 24:] -= cum[..., :-24]
    return out


def per_tick(plan: np.ndarray, tick: int) -> np.ndarray:
    """``plan`` (hours on the last axis) with each tick's hours summed onto its first hour
    (zeros elsewhere), so a step at hour h reads the whole tick [h, h + tick) at index h."""
    if tick == 1:
        return plan
    out = np.zeros_like(plan)
    ticks = plan.reshape(*plan.shape[:-1], -1, tick).sum(axis=-1)
    out[..., ::tick] = ticks
    return out
