"""The agent model fitted to a campaign's daily series: an emulated synthetic likelihood.

The agent model has no tractable likelihood, and one simulation costs far more than a
sampler step, so the fit is done in two parts (Wood 2010's synthetic likelihood, with the
simulations amortised by an emulator, as in Wilkinson 2014 and Järvenpää et al. 2021):

1. **Design.** ``N`` parameter points in prior coordinates ``z`` (a scrambled Sobol sequence
   through the normal quantile, over the prior) are simulated once each, in batches of
   worlds (:mod:`analysis.calibration.design`), and summarised by the statistics of
   :mod:`analysis.calibration.agent_model`. A further ``M`` points are simulated ``R`` times
   each to measure how far the emulator's mean misses (its lack of fit), and a few points
   at the observed market's own size measure how far its statistics sit from the emulator
   (the simulator is not exactly size-free: a 2,000-consumer market may have no KOL at
   all); both gaps join the likelihood's variance.
2. **Emulator.** For each statistic ``s_j``: a mean ``m_j(z)``, a polynomial of degree 3 in
   ``z`` fitted by least squares, and a log-variance ``log v_j(z)``, of degree 2, fitted to
   the squared residuals; the residuals' correlation ``C`` is pooled.
3. **Posterior.** In PyMC, the priors on the parameters and
   ``s_obs ~ MvNormal(m(z), D(z) C D(z) (n_sim / n_obs + F / N) + diag(lack of fit))`` with
   ``D = diag(sqrt(v))``, whitened at the posterior mode, widened by the emulator's leverage
   away from it, sampled by NUTS in the prior's standard-normal coordinates. The
   statistics' simulation noise shrinks as ``1 / n`` with the number of consumers ``n``
   (they are per-consumer rates and shares), so data from a large market are matched with
   the noise of that market, not of the small simulated one; ``F / N`` (features over
   design points) is the emulator's own estimation noise. A model discrepancy
   ``diag((tau_g u_j)^2)``, one half-normal ``tau_g`` per group of statistics (level,
   price, timing, flash, source, repeat) in units ``u_j`` of each statistic's spread over
   the prior, is estimated with the parameters (Kennedy & O'Hagan 2001), so data with
   effects the model lacks widen the posterior rather than pin it.
4. **Refinement.** A second design, half as many points, is simulated around the first
   posterior (its mean, ``refine_width`` posterior sds each way, never wider than the
   prior's design), the emulator, its lack of fit and the size check are fitted again there,
   and the posterior is sampled again: a cubic over the whole prior is biased where the
   truth lies in the prior's tails (measured: truths 2-3 prior sds out missed by the
   one-stage fit, covered by the two-stage one; ``test_recovery_with_truths_two_to_three_
   prior_sds_out``).
5. **Check.** Posterior draws are simulated at the observed market's size, so the
   predictive spread carries that market's counting noise (not a small market's, scaled).

The result is an ordinary :class:`~analysis.calibration.base.Calibration` (InferenceData,
R-hat, ESS), so ``compare --posterior`` and the notebooks take it unchanged.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import norm, qmc

from scenarios import Scenario

from ..parallel import START_METHOD
from ..seeds import replication_seeds, stream_of
from .agent_model import (
    PARAMETERS,
    PRIORS,
    baseline,
    statistic_groups,
    statistic_names,
    statistics,
)
from .base import Calibration, PosteriorCheck
from .design import Design, fingerprint, run_design
from .order_statistics import repeat_counts, scenario_sources
from .priors import Prior, from_z, to_z, transformed_normal

# seed streams of a fit (analysis.seeds), one per purpose
DESIGN, LACK_OF_FIT, MODE_STARTS, CHECK_DRAWS, CHECK_RUNS, SIZE_CHECK = range(6)
LOG_CHI2_MEAN = -1.2703628454614782  # E[log X], X ~ chi-squared(1)


def monomials(p: int, degree: int) -> list[tuple[int, ...]]:
    """Index tuples of every monomial of degree <= ``degree`` in ``p`` variables."""
    return [c for d in range(degree + 1)
            for c in itertools.combinations_with_replacement(range(p), d)]


def features(z: np.ndarray, terms: list[tuple[int, ...]]) -> np.ndarray:
    """(N, F) monomial features of (N, P) points."""
    z = np.atleast_2d(z)
    return np.column_stack([np.prod(z[:, list(t)], axis=1) if t else np.ones(len(z))
                            for t in terms])


@dataclass(frozen=True)
class Emulator:
    """Mean, log-variance and correlation of the statistics as functions of ``z``."""

    mean_terms: list[tuple[int, ...]]
    mean_coef: np.ndarray  # (F, S)
    var_terms: list[tuple[int, ...]]
    var_coef: np.ndarray  # (F2, S)
    corr: np.ndarray  # (S, S)
    lack_of_fit: np.ndarray  # (S,) variance the mean misses by, at design scale
    design_size: int
    gram_inv: np.ndarray  # (F, F) inverse of the design's feature Gram matrix (leverage)
    centre: np.ndarray | float = 0.0  # the polynomials are in u = (z - centre) / scale
    scale: np.ndarray | float = 1.0
    signal_sd: np.ndarray | None = None  # (S,) sd of the fitted mean over the design

    @classmethod
    def fit(cls, z: np.ndarray, stats: np.ndarray, *, degree: int = 3, centre=0.0,
            scale=1.0) -> Emulator:
        mean_terms, var_terms = monomials(z.shape[1], degree), monomials(z.shape[1], 2)
        z = (z - centre) / scale
        phi = features(z, mean_terms)
        ridge = 1e-8 * len(z) * np.eye(phi.shape[1])
        coef = np.linalg.solve(phi.T @ phi + ridge, phi.T @ stats)
        resid = stats - phi @ coef
        phi2 = features(z, var_terms)
        log_sq = np.log(resid ** 2 + 1e-12) - LOG_CHI2_MEAN
        var_coef = np.linalg.lstsq(phi2, log_sq, rcond=None)[0]
        standard = resid / np.sqrt(np.exp(phi2 @ var_coef))
        corr = np.corrcoef(standard, rowvar=False)
        return cls(mean_terms, coef, var_terms, var_coef, corr,
                   np.zeros(stats.shape[1]), len(z), np.linalg.inv(phi.T @ phi + ridge),
                   centre, scale, (phi @ coef).std(axis=0))

    def _u(self, z):
        return (z - self.centre) / self.scale

    def mean(self, z: np.ndarray) -> np.ndarray:
        return features(self._u(z), self.mean_terms) @ self.mean_coef

    def variance(self, z: np.ndarray) -> np.ndarray:
        return np.exp(features(self._u(z), self.var_terms) @ self.var_coef)

    def with_lack_of_fit(self, z: np.ndarray, replicates: np.ndarray) -> Emulator:
        """Measure the mean's misfit on points ``z`` (M, P) simulated R times each
        (``replicates``: (M, R, S)): squared error of the replicate mean beyond what the
        replicates' own noise and the emulator's estimation noise explain."""
        r = replicates.shape[1]
        err = (replicates.mean(axis=1) - self.mean(z)) ** 2
        noise = self.variance(z) * (1.0 / r + len(self.mean_terms) / self.design_size)
        return replace(self, lack_of_fit=np.maximum((err - noise).mean(axis=0), 0.0))

    def with_size_discrepancy(self, z: np.ndarray, replicates: np.ndarray,
                              scale: float) -> Emulator:
        """Correct the emulator (fitted at the design's population) to a larger market whose
        mean statistics at points ``z`` are ``replicates`` ((M, R, S), with noise ``scale``
        times the design's): shift each statistic's mean by its average gap, and add to
        the lack of fit what the gap varies beyond its noise plus the shift's own error.

        The gap is systematic (finite-size effects shift a social source's share the same
        way at every point); counted only as variance it would leave the bias in the
        posterior (SBC at 100x: word of mouth's ranks piled at the low end, p < 0.001)."""
        m, r = replicates.shape[:2]
        gap = replicates.mean(axis=1) - self.mean(z)
        noise = (self.variance(z) * (scale / r + len(self.mean_terms) / self.design_size)
                 ).mean(axis=0)
        offset = gap.mean(axis=0)
        spread = ((gap - offset) ** 2).sum(axis=0) / max(m - 1, 1) - noise
        coef = self.mean_coef.copy()
        coef[self.mean_terms.index(())] += offset
        return replace(self, mean_coef=coef,
                       lack_of_fit=self.lack_of_fit + np.maximum(spread, 0.0) + noise / m)

    def covariance(self, z: np.ndarray, scale: float) -> np.ndarray:
        """Covariance of the statistics at one point ``z`` with the simulation noise scaled by
        ``scale`` (``n_sim / n_obs``), plus the emulator's own noise and lack of fit."""
        sd = np.sqrt(self.variance(z[None, :])[0])
        factor = scale + len(self.mean_terms) / self.design_size
        return np.outer(sd, sd) * self.corr * factor + np.diag(self.lack_of_fit)

    def mode(self, observed: np.ndarray, scale: float, starts: np.ndarray,
             log_prior) -> np.ndarray:
        """The posterior mode in ``z`` (the covariance varying with ``z``), from the best of
        ``starts``."""
        from scipy.optimize import minimize
        from scipy.stats import multivariate_normal

        def loss(z: np.ndarray) -> float:
            cov = self.covariance(z, scale)
            return -(multivariate_normal.logpdf(observed, self.mean(z[None, :])[0], cov,
                                                allow_singular=True) + log_prior(z))

        losses = [loss(z) for z in starts]
        order = np.argsort(losses)[:5]
        best = min((minimize(loss, starts[i], method="Nelder-Mead",
                             options={"maxiter": 4000, "xatol": 1e-4, "fatol": 1e-6})
                    for i in order), key=lambda r: r.fun)
        return best.x

    def pytensor_features(self, z):
        """Every monomial of a PyTensor vector ``z`` at once, as products of a table of the
        powers of ``z``."""
        import pytensor.tensor as pt

        p = sum(1 for t in self.mean_terms if len(t) == 1)
        exponents = np.zeros((len(self.mean_terms), p), dtype=np.int64)
        for f, t in enumerate(self.mean_terms):
            for i in t:
                exponents[f, i] += 1
        z = (z - np.asarray(self.centre, dtype=np.float64)) / np.asarray(self.scale,
                                                                            dtype=np.float64)
        powers = pt.stack([pt.ones_like(z), z, z ** 2, z ** 3])  # (4, P)
        return pt.prod(powers[exponents, np.arange(p)[None, :]], axis=1)

    def pytensor_mean(self, z):
        """The emulated mean at a PyTensor vector ``z``."""
        import pytensor.tensor as pt

        return pt.dot(self.pytensor_features(z), self.mean_coef)

    def pytensor_leverage(self, z):
        """phi(z)' (Phi' Phi)^-1 phi(z): the emulated mean's variance at ``z`` in units of
        the simulation noise (large where the design is thin, in the prior's tails)."""
        import pytensor.tensor as pt

        f = self.pytensor_features(z)
        return pt.dot(f, pt.dot(self.gram_inv, f))


@dataclass(frozen=True)
class FitOptions:
    """How the agent model is fitted; every default is what the CLI uses."""

    population: int = 2000  # consumers per simulated campaign
    simulations: int = 8192  # design points
    lack_of_fit_points: int = 32  # at most; points simulated ``lack_of_fit_replicates`` times
    lack_of_fit_replicates: int = 16
    design_width: float = 1.25  # design spreads z over this many prior sds per prior sd
    batch_size: int = 256  # worlds per batched pass
    cores: int = 2
    draws: int = 2000
    tune: int = 1500
    chains: int = 2
    seed: int = 0
    fit_days: int | None = None  # fit on the first days only (held-out check on the rest)
    check_draws: int = 40  # posterior draws the predictive check simulates (observed size)
    size_points: int = 8  # points simulated at the observed market's size (size discrepancy)
    size_replicates: int = 2
    discrepancy_scale: float | None = 0.1  # half-normal scale of the model discrepancy's sd
    # per statistic group; None: no discrepancy term (the model taken as exact)
    refine: bool = True  # a second, local design around the first posterior (see fit_simulator)
    refine_width: float = 3.0  # the local design spreads z over this many posterior sds

    @property
    def lof_points(self) -> int:
        return min(self.lack_of_fit_points, max(4, self.simulations // 256))

    def batch_at(self, size: int) -> int:
        """Worlds per pass at ``size`` consumers: as many consumers per pass as a design
        pass holds."""
        return max(1, self.batch_size * self.population // size)


@dataclass(frozen=True)
class Evidence:
    """Which kinds of data the statistics are computed from: the daily totals always; per
    product, orders by source (the scenario's ``sources``), an order log's repeats."""

    by_product: bool = False
    sources: tuple[str, ...] | None = None
    repeats: bool = False

    def names(self, scenario: Scenario, days: int) -> list[str]:
        return statistic_names(scenario, days, by_product=self.by_product,
                               sources=None if self.sources is None else list(self.sources),
                               repeats=self.repeats)

    def statistics(self, design: Design, scenario: Scenario, days: int,
                   population: int) -> np.ndarray:
        """Statistics of a design's (or of observed data laid out as one) first ``days``
        days."""
        orders, gmv = design.orders[..., :days], design.gmv[..., :days]
        if not self.by_product:
            orders, gmv = orders.sum(axis=1), gmv.sum(axis=1)
        return statistics(
            orders, gmv, population=population, scenario=scenario,
            by_source=None if self.sources is None else design.by_source[..., :days],
            sources=None if self.sources is None else list(self.sources),
            repeats=design.repeats[:, :days] if self.repeats else None)


def fit_simulator(daily: pd.DataFrame, scenario: Scenario, *,
                  parameters: tuple[str, ...] = PARAMETERS,
                  priors: dict[str, Prior] | None = None, options: FitOptions | None = None,
                  order_log=None, store: Path | None = None,
                  report: Callable[[str], None] | None = None) -> Calibration:
    """Fit ``parameters`` of ``scenario`` to observed ``daily`` orders and GMV.

    ``daily`` has one row per campaign day with columns ``orders`` and ``gmv``; its length
    must match the scenario's calendar. With ``orders_<product>`` and ``gmv_<product>`` for
    every product of the scenario, the price statistic is one per product; with
    ``source_orders_<source>`` columns (a source without one had no orders), the shares of
    orders by source join the statistics; with ``order_log`` (a
    :class:`~analysis.calibration.data.OrderLog`) the repeat buyers' statistics.
    ``priors`` replace the default priors of some parameters (e.g. from a component model's
    posterior); the design always covers the default priors. ``store`` keeps finished
    simulations so that a rerun resumes.
    """
    say = report or (lambda _msg: None)
    _check_inputs(daily, scenario, parameters)
    started = time.perf_counter()
    names, opt = tuple(parameters), options or FitOptions()
    fit_days = opt.fit_days or scenario.calendar.days
    n_obs = scenario.market.population
    observed_design = observed_series(daily, scenario, order_log)
    evidence = Evidence(_by_product(daily, scenario),
                        tuple(scenario_sources(scenario)) if _has_sources(daily) else None,
                        order_log is not None)
    chosen = {n: (priors or {}).get(n, PRIORS[n]) for n in names}
    region, units = None, {}
    for stage in ("the prior", "the first posterior")[:1 + opt.refine]:
        emulator, _, kept = build_emulator(
            scenario, names, opt, evidence=evidence, region=region, say=say,
            store=None if store is None else store if region is None else store / "local")
        stat_names = [n for n, k in zip(evidence.names(scenario, fit_days), kept, strict=True)
                      if k]
        # the discrepancy's unit is each statistic's spread over the prior (a local design
        # spans only the posterior's neighbourhood, which would shrink it)
        units = {**dict(zip(stat_names, emulator.signal_sd, strict=True)), **units}
        observed = evidence.statistics(observed_design, scenario, fit_days, n_obs)[0][kept]
        say(f"emulator fitted over {stage} ({time.perf_counter() - started:.0f} s); "
            "sampling the posterior")
        idata = sample_posterior(names, chosen, emulator, observed, opt.population / n_obs,
                                 opt, groups=statistic_groups(stat_names),
                                 units=np.array([units[n] for n in stat_names]))
        region = local_region(idata, names, opt.refine_width, opt.design_width)
    say(f"simulating {opt.check_draws} posterior draws at the observed {n_obs:,} consumers "
        "for the predictive check")
    check = _predictive_check(idata, names, scenario, daily, opt)
    contraction = {n: float(idata.posterior[n].std()) / _prior_sd(chosen[n]) for n in names}
    say(f"done in {time.perf_counter() - started:.0f} s")
    dropped = [n for n, k in zip(evidence.names(scenario, fit_days), kept, strict=True)
               if not k]
    meta = {"method": "emulated synthetic likelihood (NUTS)", "population": opt.population,
            "simulations": opt.simulations + opt.lof_points * opt.lack_of_fit_replicates,
            "design_points": opt.simulations, "fit_days": fit_days,
            "statistics": stat_names, "observed_statistics": observed.tolist(),
            "constant_statistics_dropped": dropped, "contraction": contraction,
            "discrepancy_sd": _discrepancy_means(idata),
            "discrepancy_unit": {n: float(units[n]) for n in stat_names},
            "priors": {n: p.to_dict() for n, p in chosen.items()},
            "lack_of_fit": dict(zip(stat_names, emulator.lack_of_fit.tolist(), strict=True)),
            "wall_seconds": time.perf_counter() - started, **baseline(scenario)}
    return Calibration("simulator", idata, names, check, meta=meta)


def _discrepancy_means(idata) -> dict[str, float]:
    return {str(v).removeprefix("discrepancy_"): float(idata.posterior[v].mean())
            for v in idata.posterior.data_vars if str(v).startswith("discrepancy_")}


def local_region(idata, names: tuple[str, ...], width: float, limit: float
                 ) -> tuple[np.ndarray, np.ndarray]:
    """(centre, scale) in ``z`` of a design around a posterior: its mean, and ``width``
    posterior sds (at most ``limit``, the prior design's own spread; at least 0.1)."""
    z = np.column_stack([to_z(PRIORS[n], idata.posterior[n].values.ravel()) for n in names])
    return z.mean(axis=0), np.clip(width * z.std(axis=0), 0.1, limit)


def build_emulator(scenario: Scenario, names: tuple[str, ...], opt: FitOptions, *,
                   evidence: Evidence = Evidence(), store: Path | None = None,
                   region: tuple[np.ndarray, np.ndarray] | None = None,
                   say: Callable[[str], None] = lambda _m: None
                   ) -> tuple[Emulator, Scenario, np.ndarray]:
    """Simulate the design (resuming from ``store``) and fit the emulator of the statistics
    ``evidence`` asks for; also returns the scenario at the simulated population and which
    statistics were kept (a statistic constant over the whole design, such as the share of
    a source no design world has, informs nothing and is dropped).

    The design covers the prior (widened by ``opt.design_width``), or, with ``region``
    (centre, scale), the points ``centre + scale z``: half as many, where a first posterior
    lies. A polynomial fitted over the whole prior is biased where the truth sits in the
    prior's tails (a saturating effect, a kink); fitted where the posterior is, it is not,
    and its lack of fit and size check are measured there too (Wilkinson 2014's
    history matching, in one step)."""
    import simulation

    fit_days = opt.fit_days or scenario.calendar.days
    n_obs = scenario.market.population
    small = simulation.rescale(scenario, opt.population) \
        if opt.population != n_obs else scenario
    if region is not None:
        opt = replace(opt, simulations=opt.simulations // 2, seed=opt.seed + 1)
    # design points at centre + spread z; lack-of-fit and size checks, and the emulator's
    # coordinates, at centre + unit z: over the prior the design is wider than the prior
    centre, spread, unit = (0.0, opt.design_width, 1.0) if region is None else (*region, region[1])
    key = fingerprint(small, names, {"simulations": opt.simulations, "seed": opt.seed,
                                     "width": opt.design_width,
                                     "region": None if region is None else
                                     [np.asarray(r).round(12).tolist() for r in region],
                                     "lof": [opt.lof_points, opt.lack_of_fit_replicates]})
    z, seeds = _design_points(len(names), opt, centre, spread, unit)

    def progress(done: int, total: int, elapsed: float) -> None:
        left = elapsed / done * (total - done) if done else float("nan")
        say(f"  simulated {done:,}/{total:,} campaigns, {elapsed:.0f} s, about {left:.0f} s "
            "left")

    say(f"simulating {len(z):,} campaigns of {opt.population:,} consumers "
        f"({opt.simulations:,} design points, {opt.lof_points} x "
        f"{opt.lack_of_fit_replicates} replicates) on {opt.cores} cores")
    design = run_design(small, names, z, seeds, batch_size=opt.batch_size, cores=opt.cores,
                        store=store, key=key, report=progress)
    stats = evidence.statistics(design, scenario, fit_days, opt.population)
    n_design = opt.simulations
    kept = stats[:n_design].std(axis=0) > 1e-9
    stats = stats[:, kept]
    emulator = Emulator.fit(design.z[:n_design], stats[:n_design], centre=centre, scale=unit)
    reps = stats[n_design:].reshape(opt.lof_points, opt.lack_of_fit_replicates, -1)
    emulator = emulator.with_lack_of_fit(design.z[n_design::opt.lack_of_fit_replicates], reps)
    if n_obs <= opt.population:
        return emulator, small, kept
    # The simulator is not exactly size-free (finite-size effects: reach saturation, ties
    # per consumer, KOL accounts that round to none in a small market); measure how far
    # the observed market's statistics sit from the emulator, at its own size, and count
    # that as part of the misfit, so data from a large market are not over-trusted.
    rng = np.random.default_rng(stream_of(opt.seed, SIZE_CHECK))
    points = centre + unit * rng.standard_normal((opt.size_points, len(names)))
    z_big = np.repeat(points, opt.size_replicates, axis=0)
    seeds_big = rng.integers(0, 2**31 - 1, size=len(z_big))
    say(f"simulating {len(z_big)} campaigns of {n_obs:,} consumers for the size check")
    sized = run_design(scenario, names, z_big, seeds_big, batch_size=opt.batch_at(n_obs),
                       cores=opt.cores, store=None if store is None else store / "size",
                       key=key + f"-size-{n_obs}", report=None)
    big_stats = evidence.statistics(sized, scenario, fit_days, n_obs)[:, kept]
    return emulator.with_size_discrepancy(
        points, big_stats.reshape(opt.size_points, opt.size_replicates, -1),
        opt.population / n_obs), small, kept


def _by_product(daily: pd.DataFrame, scenario: Scenario) -> bool:
    """Whether ``daily`` has per-product columns; refuse some without the others."""
    columns = [f"{kind}_{p.name}" for p in scenario.own_products for kind in ("orders", "gmv")]
    missing = [c for c in columns if c not in daily]
    if missing and len(missing) < len(columns):
        raise ValueError(f"per-product columns must cover every product of the scenario; "
                         f"missing {missing}")
    return not missing


def _has_sources(daily: pd.DataFrame) -> bool:
    return any(str(c).startswith("source_orders_") for c in daily.columns)


def observed_series(daily: pd.DataFrame, scenario: Scenario, order_log=None) -> Design:
    """The observed data laid out as a one-world design (so that their statistics are
    computed by the design's own code): orders and GMV per product (the totals as a single
    product without per-product columns), orders by source (zero for a source without a
    column), the order log's repeat counts."""
    days = scenario.calendar.days
    if _by_product(daily, scenario):
        orders, gmv = (daily[[f"{kind}_{p.name}" for p in scenario.own_products]].to_numpy(
            dtype=np.float64).T[None] for kind in ("orders", "gmv"))
    else:
        orders, gmv = (daily[[kind]].to_numpy(dtype=np.float64).T[None]
                       for kind in ("orders", "gmv"))
    sources = scenario_sources(scenario)
    by_source = np.stack([daily[f"source_orders_{s}"].to_numpy(dtype=np.float64)
                          if f"source_orders_{s}" in daily else np.zeros(days)
                          for s in sources])[None]
    repeats = np.zeros((1, days, 4)) if order_log is None else repeat_counts(
        order_log.customer, order_log.hour, order_log.product, order_log.price, days=days)
    return Design(np.zeros((1, 0)), np.zeros(1, dtype=np.int64), orders, gmv, by_source,
                  repeats)


def _check_inputs(daily: pd.DataFrame, scenario: Scenario, parameters) -> None:
    unknown = sorted(set(parameters) - set(PRIORS))
    if unknown:
        raise ValueError(f"unknown simulator parameters {unknown}; allowed: {list(PRIORS)}")
    missing = [c for c in ("orders", "gmv") if c not in daily]
    if missing:
        raise ValueError(f"the observed series needs columns orders and gmv; missing {missing}")
    if len(daily) != scenario.calendar.days:
        raise ValueError(f"the observed series has {len(daily)} days, the scenario's calendar "
                         f"{scenario.calendar.days}")


def _design_points(p: int, opt: FitOptions, centre, spread, unit
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Sobol design ``centre + spread z``, then the lack-of-fit points ``centre + unit z``,
    each repeated."""
    sobol = qmc.Sobol(p, scramble=True, seed=opt.seed).random(opt.simulations)
    z = centre + norm.ppf(np.clip(sobol, 1e-6, 1 - 1e-6)) * spread
    rng = np.random.default_rng(stream_of(opt.seed, LACK_OF_FIT))
    checks = centre + unit * rng.standard_normal((opt.lof_points, p))
    z = np.vstack([z, np.repeat(checks, opt.lack_of_fit_replicates, axis=0)])
    seeds = np.array(replication_seeds(opt.seed, len(z), stream=DESIGN))
    return z, seeds


def _prior_sd(prior: Prior) -> float:
    draws = from_z(prior, np.random.default_rng(0).standard_normal(20_000))
    return float(np.std(draws))


def sample_posterior(names, priors: dict[str, Prior], emulator: Emulator, observed: np.ndarray,
                     scale: float, opt: FitOptions, *, groups: list[str] | None = None,
                     units: np.ndarray | None = None):
    """NUTS on the emulated likelihood (:func:`posterior_model`)."""
    import pymc as pm

    model, initvals = posterior_model(names, priors, emulator, observed, scale, opt,
                                      groups=groups, units=units)
    with model:
        return pm.sample(draws=opt.draws, tune=opt.tune, chains=opt.chains,
                         cores=min(opt.cores, opt.chains), random_seed=opt.seed,
                         initvals=initvals, target_accept=0.95, progressbar=False,
                         compute_convergence_checks=False, mp_ctx=START_METHOD)


def posterior_model(names, priors: dict[str, Prior], emulator: Emulator, observed: np.ndarray,
                    scale: float, opt: FitOptions, *, groups: list[str] | None = None,
                    units: np.ndarray | None = None):
    """The PyMC model of the emulated likelihood and its initial values (at the mode): the
    covariance fixed at the posterior mode (so the statistics can be whitened once and every
    step is a polynomial and a sum of squares).

    With ``groups`` (each statistic's group, :func:`~analysis.calibration.agent_model.
    statistic_groups`) and ``opt.discrepancy_scale``, the likelihood gains a model
    discrepancy, one ``tau_g ~ HalfNormal(discrepancy_scale)`` per group, estimated with the
    parameters (Kennedy & O'Hagan 2001): statistic ``j`` of group ``g`` may miss by
    ``tau_g u_j``, ``u_j`` its unit (``units``; default the spread of its emulated mean over
    the prior's design, ``Emulator.signal_sd``: a miss is measured against how far the
    parameters can move the statistic, so one scale serves a share of orders and a log
    level alike); in the whitened coordinates ``W s`` its variance adds
    ``(W**2) @ (tau u)**2`` (the diagonal of ``W diag((tau u)**2) W'``), so statistics the
    model cannot match widen the posterior instead of pinning it to a wrong value."""
    import pymc as pm
    import pytensor.tensor as pt
    from scipy.stats import norm as normal

    def log_prior(z: np.ndarray) -> float:
        total = 0.0
        for j, n in enumerate(names):  # the chosen prior, in the base prior's coordinates
            theta = from_z(PRIORS[n], z[j])
            total += normal.logpdf(to_z(priors[n], theta)) \
                - np.log(priors[n].parameters["sigma"]) + np.log(PRIORS[n].parameters["sigma"])
        return total

    starts = np.random.default_rng(stream_of(opt.seed, MODE_STARTS)).standard_normal(
        (64, len(names)))
    mode = emulator.mode(observed, scale, starts, log_prior)
    chol = np.linalg.cholesky(emulator.covariance(mode, scale))
    whiten = np.linalg.inv(chol)
    with pm.Model() as model:
        # non-centred: each parameter is its prior's transform of a standard normal, so NUTS
        # moves in the emulator's own coordinates
        z, initvals = [], {}
        for j, n in enumerate(names):
            prior, base = priors[n].parameters, PRIORS[n].parameters
            raw = pm.Normal(f"{n}_z", 0.0, 1.0)
            u = prior["mu"] + prior["sigma"] * raw
            pm.Deterministic(n, transformed_normal(priors[n], u))
            z.append((u - base["mu"]) / base["sigma"])
            initvals[f"{n}_z"] = float((base["mu"] + base["sigma"] * mode[j] - prior["mu"])
                                       / prior["sigma"])
        # the covariance is whitened at the mode; away from it the emulator's own error grows
        # with its leverage, which widens the likelihood where the design cannot vouch for it
        at = pt.stack(z)
        base_factor = scale + len(emulator.mean_terms) / emulator.design_size
        inflation = pt.maximum((scale + emulator.pytensor_leverage(at)) / base_factor, 1.0)
        mean = pt.dot(whiten, emulator.pytensor_mean(at))
        variance = inflation
        if groups is not None and opt.discrepancy_scale is not None:
            # the discrepancy's variance carried into the whitened coordinates, diagonal
            # there (exact at tau = 0; a full covariance would need a Cholesky per step,
            # which costs 40 times the whole step)
            labels = list(dict.fromkeys(groups))
            tau = pt.stack([pm.HalfNormal(f"discrepancy_{g}", sigma=opt.discrepancy_scale)
                            for g in labels])
            unit = emulator.signal_sd if units is None else np.asarray(units)
            miss = tau[np.array([labels.index(g) for g in groups])] * unit
            variance = inflation + pt.dot(whiten ** 2, miss ** 2)
        pm.Normal("whitened_statistics", mu=mean, sigma=pt.sqrt(variance),
                  observed=whiten @ observed)
    return model, initvals


def _predictive_check(idata, names, scenario: Scenario, daily: pd.DataFrame,
                      opt: FitOptions) -> PosteriorCheck:
    """Daily orders of posterior draws, simulated at the observed market's size (so the
    predictive spread has the observed market's counting noise), against the data."""
    post = {n: idata.posterior[n].values.ravel() for n in names}
    total = len(post[names[0]])
    pick = np.random.default_rng(stream_of(opt.seed, CHECK_DRAWS)).choice(total, size=opt.check_draws,
                                                      replace=False)
    z = np.column_stack([to_z(PRIORS[n], post[n][pick]) for n in names])
    seeds = replication_seeds(opt.seed, len(pick), stream=CHECK_RUNS)
    design = run_design(scenario, names, z, seeds,
                        batch_size=opt.batch_at(scenario.market.population), cores=opt.cores)
    predicted = design.orders.sum(axis=1)
    days = np.arange(len(daily))
    return PosteriorCheck(days, daily["orders"].to_numpy(dtype=float), predicted, "day",
                          "orders")


def held_out_coverage(check: PosteriorCheck, fit_days: int, prob: float = 0.9) -> float:
    """Share of the days after ``fit_days`` whose observed orders fall inside the central
    ``prob`` interval of the posterior predictive."""
    lo, hi = np.quantile(check.predicted[:, fit_days:], [(1 - prob) / 2, (1 + prob) / 2],
                         axis=0)
    obs = check.observed[fit_days:]
    return float(np.mean((obs >= lo) & (obs <= hi)))


__all__ = ["Design", "Emulator", "FitOptions", "build_emulator", "fit_simulator",
           "held_out_coverage", "sample_posterior"]
