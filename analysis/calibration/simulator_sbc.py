"""Simulation-based calibration of the agent-model fit (Talts et al. 2018).

``n`` truths are drawn from the prior; each is simulated once, in the observed market:
``scenario``'s own population, which may be far larger than the design's (the regime real
fits use, where the likelihood's noise is the design's scaled by ``n_sim / n_obs``), or the
design's population itself. With a model-discrepancy term (``options.discrepancy_scale``)
each truth also draws its discrepancy sds from their prior and adds that noise to its
statistics (in the fit's units: each statistic's spread over the prior's design), so the
data come from the model being fitted. Each data set is fitted with the
same emulator (:mod:`analysis.calibration.emulator`, its design simulated once); the rank
of every truth among ``L`` thinned posterior draws is recorded.
If the fit is calibrated, each parameter's ranks are uniform on ``0..L``: a chi-squared
test over ``bins`` equal bins gives its p-value. Finished fits are kept in ``store``
(one JSON line per truth), so an interrupted study resumes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from scipy.stats import chisquare

from scenarios import Scenario
from simulation.fingerprint import work_key

from ..resumable import ResumableLog
from . import agent_model
from . import emulator as emulator_module
from .agent_model import PRIORS, statistic_groups
from .design import run_design
from .emulator import Evidence, FitOptions, build_emulator, sample_posterior
from .order_statistics import scenario_sources
from .priors import from_z


@dataclass(frozen=True)
class SimulatorSBC:
    names: tuple[str, ...]
    ranks: np.ndarray  # (n, P) in 0..draws
    draws: int
    contraction: np.ndarray  # (n, P) posterior sd / prior sd

    def p_values(self, bins: int = 10) -> dict[str, float]:
        edges = np.linspace(0, self.draws + 1, bins + 1)
        return {n: float(chisquare(np.histogram(self.ranks[:, j], edges)[0]).pvalue)
                for j, n in enumerate(self.names)}

    def plot(self, bins: int = 10) -> Figure:
        fig = Figure(figsize=(3 * len(self.names), 2.6))
        expected = len(self.ranks) / bins
        for j, n in enumerate(self.names):
            ax = fig.add_subplot(1, len(self.names), j + 1)
            ax.hist(self.ranks[:, j], bins=np.linspace(0, self.draws + 1, bins + 1))
            ax.axhline(expected, color="black", lw=1)
            ax.set_title(n, fontsize=8)
            ax.set_xlabel("rank")
        fig.tight_layout()
        return fig


def study_key(small: Scenario, names: tuple[str, ...], *, n: int, seed: int, draws: int,
              options: FitOptions, evidence: Evidence | None = None) -> str:
    """The key of a study's fits: its scenario, parameters, settings, data kinds and the
    source of the engine, the emulator and the agent model's mapping."""
    return work_key({"scenario": small.model_dump(mode="json"), "names": names, "n": n,
                     "seed": seed, "draws": draws, "options": asdict(options),
                     "evidence": repr(evidence)},
                    Path(__file__), Path(emulator_module.__file__), Path(agent_model.__file__))


def simulator_sbc(scenario: Scenario, n: int, *, names: tuple[str, ...] = tuple(PRIORS),
                  options: FitOptions | None = None, draws: int = 99, seed: int = 0,
                  evidence: Evidence | None = None, store: Path | None = None,
                  design_store: Path | None = None, progress=None) -> SimulatorSBC:
    """SBC over ``n`` prior truths simulated in ``scenario``'s market (its population; the
    design at ``options.population``); ``evidence`` says which statistics (default: every
    kind the engine records, orders by source and repeats); ``design_store`` may be a fit's
    ``simulations`` folder with the same design, reused."""
    options = options or FitOptions(draws=500, tune=500)
    evidence = evidence or Evidence(sources=tuple(scenario_sources(scenario)), repeats=True)
    if design_store is None and store is not None:
        design_store = store / "design"
    emulator, small, kept = build_emulator(scenario, names, options, evidence=evidence,
                                           store=design_store)
    rng = np.random.default_rng(seed)
    truths_z = rng.standard_normal((n, len(names)))
    seeds = rng.integers(0, 2**31 - 1, size=n)
    n_obs = scenario.market.population
    truths = run_design(scenario, names, truths_z, seeds, batch_size=options.batch_at(n_obs),
                        cores=options.cores,
                        store=None if store is None else store / "truths",
                        key=f"sbc-truths-{seed}-{n}")
    fit_days = options.fit_days or scenario.calendar.days
    stat_names = [s for s, k in zip(evidence.names(scenario, fit_days), kept, strict=True) if k]
    groups = statistic_groups(stat_names)
    observed = evidence.statistics(truths, scenario, fit_days, n_obs)[:, kept]
    if options.discrepancy_scale is not None:
        labels = list(dict.fromkeys(groups))
        tau = np.abs(rng.normal(0.0, options.discrepancy_scale, size=(n, len(labels))))
        index = np.array([labels.index(g) for g in groups])
        observed = observed + tau[:, index] * emulator.signal_sd * rng.standard_normal(
            observed.shape)
    prior_sd = {k: float(np.std(from_z(PRIORS[k],
        np.random.default_rng(0).standard_normal(20_000)))) for k in names}
    log = None if store is None else ResumableLog(
        store / "sbc.jsonl", study_key(small, names, n=n, seed=seed, draws=draws,
                                       options=options, evidence=evidence))
    done = {} if log is None else {row["i"]: (row["ranks"], row["contraction"])
                                   for row in log.rows()}
    for i in range(n):
        if i in done:
            continue
        idata = sample_posterior(names, {k: PRIORS[k] for k in names}, emulator, observed[i],
                                 options.population / n_obs, options, groups=groups)
        ranks, ratio = [], []
        for j, name in enumerate(names):
            post = idata.posterior[name].values.ravel()
            thinned = post[np.linspace(0, len(post) - 1, draws).astype(int)]
            truth = from_z(PRIORS[name], truths_z[i, j])
            ranks.append(int((thinned < truth).sum()))
            ratio.append(float(post.std() / prior_sd[name]))
        done[i] = (ranks, ratio)
        if log is not None:
            log.append({"i": i, "ranks": ranks, "contraction": ratio})
        if progress is not None:
            progress(len(done), n)
    order = sorted(done)
    return SimulatorSBC(names, np.array([done[i][0] for i in order]), draws,
                        np.array([done[i][1] for i in order]))
