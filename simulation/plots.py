"""Plots of one run. Each returns a matplotlib ``Figure``; nothing is shown."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

PHASE_COLOURS = ("#e8f0fe", "#fef7e0", "#fce8e6", "#e6f4ea", "#f3e8fd", "#e0f7fa")


def close(fig: Figure) -> None:
    fig.clear()


def timeline(result) -> Figure:
    hourly = result.hourly()
    fig = Figure(figsize=(11, 5.5), layout="constrained")
    ax_orders, ax_gmv = fig.subplots(2, 1, sharex=True)
    ax_orders.plot(hourly.index, hourly["orders"], color="#1a73e8", lw=1, label="orders")
    if hourly["deposits"].any():
        ax_orders.plot(hourly.index, hourly["deposits"], color="#e37400", lw=1, ls="--",
                       label="presale deposits placed")
        ax_orders.legend(loc="upper left", fontsize=8)
    ax_orders.set_ylabel("orders per hour")
    ax_gmv.plot(hourly.index, hourly["gmv"], color="#188038", lw=1)
    ax_gmv.set_ylabel("GMV per hour")
    for ax in (ax_orders, ax_gmv):  # presale balances land in one hour; keep the rest visible
        ax.set_yscale("symlog", linthresh=max(1.0, float(ax.get_lines()[0].get_ydata().max())
                                              / 100))
    ax_gmv.set_xlabel(f"hour from {result.scenario.calendar.start_date}")
    calendar = result.scenario.calendar
    for ax in (ax_orders, ax_gmv):
        for i, phase in enumerate(calendar.phases):
            ax.axvspan(phase.start_day * 24, phase.end_day * 24, alpha=0.6, lw=0,
                       color=PHASE_COLOURS[i % len(PHASE_COLOURS)])
        for event in calendar.events:
            ax.axvline(event.start_hour, color="#5f6368", lw=0.6, ls=":")
    top = ax_orders.get_ylim()[1]
    for phase in calendar.phases:
        ax_orders.text(phase.start_day * 24 + 2, top * 0.92, phase.name, fontsize=8)
    for event in calendar.events:
        ax_gmv.annotate(event.name, (event.start_hour, 1.0), xycoords=("data", "axes fraction"),
                        rotation=90, fontsize=6, va="top", ha="right", color="#5f6368")
    fig.suptitle(f"{result.scenario.name}: hourly orders and GMV (seed {result.seed})")
    return fig


def funnel(result) -> Figure:
    by = result.summary["by_channel"]
    names = list(by)
    stages = ("impressions", "clicks", "orders")
    fig = Figure(figsize=(10, 4.5), layout="constrained")
    ax = fig.subplots()
    x = np.arange(len(names))
    width = 0.27
    for i, stage in enumerate(stages):
        values = [max(by[n][stage], 0.5) for n in names]
        ax.bar(x + (i - 1) * width, values, width, label=stage)
    ax.set_yscale("log")
    ax.set_xticks(x, names, rotation=20, ha="right")
    ax.set_ylabel("count (log scale)")
    ax.legend()
    ax.set_title("Funnel by channel (organic: own-need visits, no impressions)")
    return fig


def spend_vs_gmv(result) -> Figure:
    fig = Figure(figsize=(10, 4.5), layout="constrained")
    ax = fig.subplots()
    draw_spend_vs_gmv(ax, result.summary["by_channel"],
                      gmv_label="GMV (orders the channel triggered)")
    ax.set_ylabel("currency")
    ax.legend()
    ax.set_title("Spend vs GMV by channel")
    return fig


def draw_spend_vs_gmv(ax, by_channel: dict, *, gmv_label: str = "GMV", fontsize: int = 8,
                      rotation: int = 20) -> None:
    """Spend and GMV bars per paid channel on ``ax``, each annotated with its ROAS
    (GMV / spend); the app draws its side-by-side panels with it too."""
    names = [n for n in by_channel if n != "organic"]
    spend = np.array([by_channel[n]["spend"] for n in names])
    gmv = np.array([by_channel[n]["gmv"] for n in names])
    x = np.arange(len(names))
    ax.bar(x - 0.2, spend, 0.4, label="spend", color="#d93025")
    ax.bar(x + 0.2, gmv, 0.4, label=gmv_label, color="#188038")
    for xi, s, g in zip(x, spend, gmv, strict=True):
        if s > 0:
            ax.annotate(f"ROAS {g / s:.1f}", (xi, max(s, g)), ha="center", va="bottom",
                        fontsize=fontsize)
    ax.set_xticks(x, names, rotation=rotation, ha="right", fontsize=fontsize)
