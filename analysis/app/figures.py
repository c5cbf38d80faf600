"""The app's plots: baseline and variant side by side, each a mean over the replications.

Each function takes an ``Outcome`` (``analysis.app.runs``) and returns a matplotlib
``Figure`` with one panel per plan on shared axes, so the eye compares like with like.
Nothing is shown; the page and the report embed the figures.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from simulation import plots
from simulation.plots import PHASE_COLOURS

STRATEGY_COLOURS = ("#5f6368", "#1a73e8")
FUNNEL_STAGES = ("impressions", "clicks", "orders")


def _panels(outcome, height: float = 3.6, *, by_rows: bool = False) -> tuple[Figure, list]:
    fig = Figure(figsize=(11, height), layout="constrained")
    share = {"sharex": True} if by_rows else {"sharey": True}
    axes = fig.subplots(1, len(outcome.scenarios), squeeze=False, **share)[0]
    return fig, list(zip(outcome.scenarios, axes, strict=True))


def timeline(outcome) -> Figure:
    """Mean hourly GMV with the 90% band over replications; phases shaded."""
    fig, panels = _panels(outcome)
    for i, (name, ax) in enumerate(panels):
        d = outcome.details[name]
        gmv, lo, hi = d["hourly"]["gmv"], d["hourly_lo"]["gmv"], d["hourly_hi"]["gmv"]
        hours = np.arange(len(gmv))
        calendar = outcome.scenarios[name].calendar
        for j, phase in enumerate(calendar.phases):
            ax.axvspan(phase.start_day * 24, phase.end_day * 24, alpha=0.6, lw=0,
                       color=PHASE_COLOURS[j % len(PHASE_COLOURS)])
        ax.fill_between(hours, lo, hi, color=STRATEGY_COLOURS[i], alpha=0.25, lw=0,
                        label="90% of replications")
        ax.plot(hours, gmv, color=STRATEGY_COLOURS[i], lw=0.9, label="mean")
        ax.set_yscale("symlog", linthresh=max(1.0, float(hi.max()) / 100))
        ax.set_xlabel("hour")
        ax.set_title(f"{name}: GMV per hour", fontsize=10)
    panels[0][1].set_ylabel("GMV per hour")
    panels[0][1].legend(loc="upper left", fontsize=8)
    return fig


def funnel(outcome) -> Figure:
    """Impressions, clicks and orders per channel (log scale)."""
    fig, panels = _panels(outcome, 3.8)
    for name, ax in panels:
        by = outcome.details[name]["by_channel"]
        names = list(by)
        x = np.arange(len(names))
        for k, stage in enumerate(FUNNEL_STAGES):
            ax.bar(x + (k - 1) * 0.27, [max(by[n][stage], 0.5) for n in names], 0.27,
                   label=stage)
        ax.set_yscale("log")
        ax.set_xticks(x, names, rotation=25, ha="right", fontsize=8)
        ax.set_title(f"{name}: funnel by channel", fontsize=10)
    panels[0][1].set_ylabel("count per campaign (log)")
    panels[0][1].legend(fontsize=8)
    return fig


def spend_vs_gmv(outcome) -> Figure:
    """Spend and GMV per channel, with each channel's ROAS (GMV / spend)."""
    fig, panels = _panels(outcome, 3.8)
    for name, ax in panels:
        plots.draw_spend_vs_gmv(ax, outcome.details[name]["by_channel"], fontsize=8,
                                rotation=25)
        ax.set_title(f"{name}: spend vs GMV", fontsize=10)
    panels[0][1].set_ylabel("currency per campaign")
    panels[0][1].legend(fontsize=8)
    return fig


def by_source(outcome) -> Figure:
    """Conversions by influence source (paid channels, KOL, KOC, friends, group buy,
    organic)."""
    fig, panels = _panels(outcome, 3.8, by_rows=True)
    for i, (name, ax) in enumerate(panels):
        by = outcome.details[name]["by_source"]
        names = list(by)
        ax.barh(np.arange(len(names)), [by[n]["conversions"] for n in names],
                color=STRATEGY_COLOURS[i])
        ax.set_yticks(np.arange(len(names)), names, fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel("conversions per campaign")
        ax.set_title(f"{name}: conversions by source", fontsize=10)
    return fig


FIGURES = {"timeline": timeline, "funnel": funnel, "spend_vs_gmv": spend_vs_gmv,
           "by_source": by_source}


def render_png(outcome, dpi: int = 80) -> dict[str, bytes]:
    """Every figure as PNG bytes (done once per outcome, off the page's render)."""
    import io

    out = {}
    for name, make in FIGURES.items():
        buffer = io.BytesIO()
        make(outcome).savefig(buffer, format="png", dpi=dpi)
        out[name] = buffer.getvalue()
    return out
