"""Marketing-mix models scored on the same simulated world as attribution.

The simulator emits the daily series a marketing-mix model sees (spend per channel, orders,
GMV: the media layout of ``analysis.calibration.data.load_media``); the media calibration
model (ad-stock, saturation, baseline, trend, weekday) is fitted to it, and each channel's
estimated ROAS (total contribution / total spend, with its 90% interval) is set next to the
true incremental ROAS: the channel's incremental GMV from paired counterfactual runs
(``ground_truth``) over its spend. One world, every estimator scored on the same truth.

Commission channels are paid on the GMV they bring, so their "spend" is the commission;
their true ROAS is incremental GMV per unit of commission paid, the same definition.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from scenarios import Scenario

from .ground_truth import GroundTruth, ground_truth


def media_frame(result) -> pd.DataFrame:
    """The run's daily series in the media layout: date, spend_<channel>..., gmv, orders."""
    ts = result.timeseries
    channels = [c.name for c in result.scenario.channels]
    daily = ts[ts["source"].isin(channels)].pivot_table(index="day", columns="source",
                                                         values="spend", aggfunc="sum",
                                                         observed=True)
    totals = ts.groupby("day")[["gmv", "orders"]].sum()
    start = pd.Timestamp(result.scenario.calendar.start_date)
    frame = pd.DataFrame({"date": start + pd.to_timedelta(totals.index, unit="D")})
    for c in channels:
        frame[f"spend_{c}"] = daily[c].to_numpy() if c in daily else 0.0
    frame["gmv"] = totals["gmv"].to_numpy()
    frame["orders"] = totals["orders"].to_numpy()
    return frame


def media_series(frame: pd.DataFrame, source: str = "<simulated>"):
    """A ``MediaSeries`` from a media frame (channels that spent something)."""
    from analysis.calibration.data import MediaSeries

    channels = tuple(c[len("spend_"):] for c in frame.columns if c.startswith("spend_")
                     and frame[c].sum() > 0)
    return MediaSeries(source, pd.DatetimeIndex(frame["date"]), channels,
                       frame[[f"spend_{c}" for c in channels]].to_numpy(dtype=float),
                       frame["gmv"].to_numpy(dtype=float), "gmv", None, None)


@dataclass(frozen=True)
class MMMScore:
    table: pd.DataFrame  # per channel: spend, true ROAS (mean, lo, hi), MMM ROAS (mean, lo, hi)
    truth: GroundTruth
    calibration: object  # analysis.calibration.base.Calibration

    @property
    def error(self) -> float:
        """Mean absolute error of the MMM's ROAS against the true incremental ROAS."""
        return float((self.table["mmm_roas"] - self.table["true_roas"]).abs().mean())


def score_mmm(scenario: Scenario, replications: int = 10, *, seed: int = 0,
              draws: int = 500, tune: int = 500, chains: int = 2,
              truth: GroundTruth | None = None,
              lift_tests: pd.DataFrame | None = None) -> MMMScore:
    """Fit the media model to one simulated campaign (conditioned on ``lift_tests``, the
    layout of ``analysis.calibration.lift_tests``, when given); compare ROAS with the
    truth."""
    import simulation
    from analysis.calibration.media import fit_media

    from .ground_truth import replication_seeds

    seeds = replication_seeds(seed, replications)
    truth = truth or ground_truth(scenario, seeds)
    observed = simulation.run(scenario, seed=seeds[0], log_touchpoints=False)
    frame = media_frame(observed)
    series = media_series(frame, f"simulated {scenario.name}, seed {seeds[0]}")
    cal = fit_media(series, draws=draws, tune=tune, chains=chains, seed=seed,
                    lift_tests=lift_tests)
    summary = cal.summary()["parameters"]
    rows = []
    effects = truth.effects.set_index("channel")
    for c in series.channels:
        spend = float(frame[f"spend_{c}"].sum())
        per_seed = effects.loc[[c], "incremental_gmv"].to_numpy() / spend
        est = summary.get(f"roas[{c}]", {})
        rows.append({"channel": c, "spend": spend, "true_roas": float(per_seed.mean()),
                     "true_lo": float(np.quantile(per_seed, 0.05)),
                     "true_hi": float(np.quantile(per_seed, 0.95)),
                     "mmm_roas": est.get("mean"), "mmm_lo": est.get("hdi_5%"),
                     "mmm_hi": est.get("hdi_95%")})
    table = pd.DataFrame(rows)
    table["covered"] = (table["mmm_lo"] <= table["true_roas"]) & (
        table["true_roas"] <= table["mmm_hi"])
    return MMMScore(table, truth, cal)


def score_with_lift_tests(scenario: Scenario, lift_tests: dict[str, pd.DataFrame],
                          replications: int = 10, *, seed: int = 0, draws: int = 500,
                          tune: int = 500, chains: int = 2) -> pd.DataFrame:
    """The MMM's ROAS per channel without lift tests (variant ``"none"``) and with each set
    of ``lift_tests`` (by name), all against one ground truth.

    Returns one row per variant x channel: ``spend``, ``true_roas`` (with ``true_lo``,
    ``true_hi``), ``mmm_roas`` (with ``mmm_lo``, ``mmm_hi``, the 90% HDI), ``covered``,
    ``abs_error`` = ``|mmm_roas - true_roas|``, ``width`` = ``mmm_hi - mmm_lo`` and
    ``converged``.
    """
    from .ground_truth import replication_seeds

    truth = ground_truth(scenario, replication_seeds(seed, replications))
    tables = []
    for name, tests in {"none": None, **lift_tests}.items():
        score = score_mmm(scenario, replications, seed=seed, draws=draws, tune=tune,
                          chains=chains, truth=truth, lift_tests=tests)
        table = score.table.assign(variant=name,
                                   converged=score.calibration.diagnostics()["converged"])
        tables.append(table)
    out = pd.concat(tables, ignore_index=True)
    out["abs_error"] = (out["mmm_roas"] - out["true_roas"]).abs()
    out["width"] = out["mmm_hi"] - out["mmm_lo"]
    return out[["variant", *[c for c in out.columns if c != "variant"]]]


def plot_roas_variants(table: pd.DataFrame):
    """Each channel's MMM ROAS (90% HDI) per variant next to the true incremental ROAS."""
    from matplotlib.figure import Figure

    channels = list(dict.fromkeys(table["channel"]))
    variants = list(dict.fromkeys(table["variant"]))
    fig = Figure(figsize=(2.5 + 1.8 * len(channels), 4.2))
    ax = fig.add_subplot()
    width = 0.8 / len(variants)
    for i, name in enumerate(variants):
        rows = table[table["variant"] == name].set_index("channel").reindex(channels)
        x = np.arange(len(channels)) + (i - (len(variants) - 1) / 2) * width
        ax.errorbar(x, rows["mmm_roas"], yerr=[rows["mmm_roas"] - rows["mmm_lo"],
                                               rows["mmm_hi"] - rows["mmm_roas"]],
                    fmt="o", capsize=3, label=f"MMM, lift tests: {name}")
    truth = table.drop_duplicates("channel").set_index("channel").reindex(channels)
    ax.scatter(np.arange(len(channels)), truth["true_roas"], marker="_", s=900,
               color="black", label="true incremental ROAS", zorder=3)
    ax.set_xticks(np.arange(len(channels)), channels)
    ax.set_ylabel("ROAS (GMV per unit of spend)")
    ax.set_title("MMM ROAS with and without lift tests vs the truth")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
