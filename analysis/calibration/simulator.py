"""The full agent-based model fitted to a campaign's daily series: PyMC ``Simulator`` + SMC.

The likelihood of the agent model is intractable, so the fit is likelihood-free (approximate
Bayesian computation by sequential Monte Carlo, PyMC's ``sample_smc`` with a ``Simulator``):
each particle's parameters are turned into a scenario, the campaign is simulated, and the
simulated summary statistics are compared with the observed ones with a Gaussian kernel of
width ``epsilon`` (in standardised units).

Parameters (scenario fields they set):

- ``awareness_half_life_hours`` -> ``behaviour.awareness_half_life_hours`` (ad-stock decay);
- ``base_utility_shift`` -> added to every generation's ``base_utility.mean`` (base
  conversion);
- ``loss_aversion`` -> every generation's ``loss_aversion.mean`` (lambda);
- ``word_of_mouth`` -> multiplies ``network.word_of_mouth.post_probability`` (scenarios
  with a network; otherwise ``behaviour.social_weight`` takes its place).

Summary statistics, chosen for what each parameter moves: the log of total orders (level:
base conversion), the log mean price paid over the list price (how much buying waits for
deals, which loss aversion drives), the log orders in each third of the calendar (timing:
awareness carry-over after the media bursts) and the lag-1 autocorrelation of daily orders
(carry-over again), and the log share of orders on the days after the peak day (word of
mouth and repurchase keep buying going). Each statistic is divided by its spread across
simulator replications at the prior mean (``scale``), so one ``epsilon`` fits all.

The population is scaled down (``population``) with budgets per consumer kept (``rescale``);
the statistics are per-consumer shapes and log levels shifted by the log population ratio,
so the fit stays faithful to a larger market (checked by the parameter-recovery test).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from scenarios import GENERATIONS, Scenario, with_overrides

from .base import Calibration, PosteriorCheck

PARAMETERS = ("awareness_half_life_hours", "base_utility_shift", "loss_aversion",
              "word_of_mouth")


def baseline(scenario: Scenario) -> dict[str, Any]:
    """The scenario values the parameters shift or scale (kept in the calibration's meta)."""
    network = scenario.network
    return {"base_utility": {g: scenario.segments[g].base_utility.mean for g in GENERATIONS},
            "post_probability": (dict(network.word_of_mouth.post_probability)
                                 if network is not None else None),
            "social_weight": scenario.behaviour.social_weight}


def overrides(scenario: Scenario, values: dict[str, float]) -> dict[str, Any]:
    """Scenario field overrides for one set of parameter values."""
    return value_overrides(values, baseline(scenario))


def value_overrides(values: dict[str, float], base: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "awareness_half_life_hours" in values:
        out["behaviour.awareness_half_life_hours"] = float(values["awareness_half_life_hours"])
    for g in GENERATIONS:
        if "base_utility_shift" in values:
            out[f"segments.{g}.base_utility.mean"] = (base["base_utility"][g]
                                                      + float(values["base_utility_shift"]))
        if "loss_aversion" in values:
            out[f"segments.{g}.loss_aversion.mean"] = float(values["loss_aversion"])
    if "word_of_mouth" in values:
        scale = float(values["word_of_mouth"])
        if base["post_probability"] is not None:
            out["network.word_of_mouth.post_probability"] = {
                g: min(1.0, p * scale) for g, p in base["post_probability"].items()}
        else:
            out["behaviour.social_weight"] = base["social_weight"] * scale
    return out


def statistics(daily_orders: np.ndarray, daily_gmv: np.ndarray, list_price: float,
               population: int) -> np.ndarray:
    """The summary statistics of a daily orders / GMV series (see the module docstring)."""
    orders = np.asarray(daily_orders, dtype=np.float64)
    gmv = np.asarray(daily_gmv, dtype=np.float64)
    total = orders.sum()
    per_k = np.log1p(1000 * total / population)
    price = np.log((gmv.sum() / total) / list_price) if total > 0 else 0.0
    thirds = [np.log1p(1000 * part.sum() / population) for part in np.array_split(orders, 3)]
    centred = orders - orders.mean()
    denom = (centred ** 2).sum()
    lag1 = float((centred[1:] * centred[:-1]).sum() / denom) if denom > 0 else 0.0
    peak = int(np.argmax(orders))
    after = np.log1p(orders[peak + 1:].sum()) - np.log1p(total)
    return np.array([per_k, price, *thirds, lag1, after])


@dataclass(frozen=True)
class CampaignSimulator:
    """The simulator PyMC calls: parameters in, summary statistics out (picklable)."""

    scenario: Scenario  # already rescaled to the simulated population
    names: tuple[str, ...]
    scale: np.ndarray

    def __call__(self, rng: np.random.Generator, *params) -> np.ndarray:
        import simulation

        params = params[:len(self.names)]  # PyMC appends the output size
        values = {n: float(np.asarray(p).ravel()[0]) for n, p in zip(self.names, params,
                                                                   strict=True)}
        s = with_overrides(self.scenario, overrides(self.scenario, values))
        seed = int(rng.integers(0, 2**31 - 1))
        r = simulation.run(s, seed=seed, log_touchpoints=False)
        return self.stats_of(r) / self.scale

    def stats_of(self, result) -> np.ndarray:
        daily = result.timeseries.groupby("day")[["orders", "gmv"]].sum()
        return statistics(daily["orders"].to_numpy(), daily["gmv"].to_numpy(),
                          self.scenario.products[0].list_price,
                          self.scenario.market.population)


PRIORS = {
    "awareness_half_life_hours": ("lognormal", np.log(72.0), 0.5),
    "base_utility_shift": ("normal", 0.0, 0.5),
    "loss_aversion": ("lognormal", np.log(1.955), 0.3),
    "word_of_mouth": ("lognormal", 0.0, 0.5),
}


def fit_simulator(daily: pd.DataFrame, scenario: Scenario, *, population: int = 5000,
                  parameters: tuple[str, ...] = PARAMETERS, draws: int = 200, chains: int = 2,
                  epsilon: float = 1.0, seed: int = 0, cores: int | None = None,
                  scale_replications: int = 8, correlation_threshold: float = 0.5,
                  progressbar: bool = False) -> Calibration:
    """Fit ``parameters`` of ``scenario`` to observed ``daily`` orders and GMV by SMC-ABC.

    ``daily`` has one row per campaign day with columns ``orders`` and ``gmv`` (the
    campaign layout's aggregates); its length must match the scenario's calendar.
    """
    import pymc as pm

    import simulation

    unknown = sorted(set(parameters) - set(PRIORS))
    if unknown:
        raise ValueError(f"unknown simulator parameters {unknown}; allowed: {list(PRIORS)}")
    missing = [c for c in ("orders", "gmv") if c not in daily]
    if missing:
        raise ValueError(f"the observed series needs columns orders and gmv; missing {missing}")
    if len(daily) != scenario.calendar.days:
        raise ValueError(f"the observed series has {len(daily)} days, the scenario's calendar "
                         f"{scenario.calendar.days}")
    observed_population = scenario.market.population
    small = simulation.rescale(scenario, population) if population != observed_population \
        else scenario
    names = tuple(parameters)
    probe = CampaignSimulator(small, names, np.ones(7))
    rng = np.random.default_rng(seed)
    at_prior = [_prior_centre(n) for n in names]
    reps = np.array([probe(rng, *at_prior) for _ in range(scale_replications)])
    scale = np.maximum(reps.std(axis=0, ddof=1), 0.02)
    sim = CampaignSimulator(small, names, scale)
    observed = statistics(daily["orders"].to_numpy(), daily["gmv"].to_numpy(),
                          scenario.products[0].list_price, observed_population) / scale

    with pm.Model() as model:
        params = [_prior(pm, n) for n in names]
        pm.Simulator("stats", sim, *params, epsilon=epsilon, observed=observed)
        # IMH mutates each stage until the particles decorrelate below the threshold (PyMC's
        # default 0.01 costs up to 25 simulations per particle per stage); 0.5 keeps the
        # four-parameter fit within minutes, and R-hat across chains reports what it costs.
        idata = pm.sample_smc(draws=draws, chains=chains, cores=cores or chains,
                              random_seed=seed, progressbar=progressbar,
                              compute_convergence_checks=False,
                              correlation_threshold=correlation_threshold)
    post = {n: idata.posterior[n].values.ravel() for n in names}
    pick = np.random.default_rng(seed + 1).choice(len(post[names[0]]), size=20, replace=False)
    predicted = np.array([sim(rng, *[post[n][i] for n in names]) * scale for i in pick])
    check = PosteriorCheck(np.arange(len(observed)), observed * scale, predicted,
                           "statistic", "value")
    del model
    return Calibration("simulator", idata, names, check,
                       meta={"population": population, "epsilon": epsilon, **baseline(scenario),
                             "statistics": ["log orders per 1,000", "log price / list",
                                            "third 1", "third 2", "third 3", "lag-1 acf",
                                            "log share after peak"]})


def _prior_centre(name: str) -> float:
    kind, mu, _ = PRIORS[name]
    return float(np.exp(mu)) if kind == "lognormal" else float(mu)


def _prior(pm, name: str):
    kind, mu, sigma = PRIORS[name]
    if kind == "lognormal":
        return pm.LogNormal(name, mu=mu, sigma=sigma)
    return pm.Normal(name, mu=mu, sigma=sigma)
