"""Reference-dependent choice: the memory-based reference, recovery of known gain and loss
coefficients, the sampling coordinates (same likelihood, same priors), convergence of the
random-coefficient fit, and what the Ecdat panels say about loss aversion."""

import dataclasses

import numpy as np
import pymc as pm
import pytest
from pymc.model.transform.conditioning import remove_value_transforms
from pymc_extras.prior import Prior
from scipy import stats

from analysis.calibration.data import load_choice_panel
from analysis.calibration.price import (
    fit_price,
    lagged_prices,
    occasion_index,
    price_model,
    simulate_panel,
    smoothing_weights,
)

from .test_data import PANELS

TRUTH = {"price_coef": -3.0, "gain_coef": 2.0, "loss_coef": 4.0, "ref_memory": 0.7}


def test_truncated_smoothing_equals_the_recursion():
    panel = simulate_panel(TRUTH, 3, 45, rng=np.random.default_rng(0))
    relative = panel.price / panel.price.mean()
    gamma = 0.6
    weights = smoothing_weights(gamma).eval()
    assert weights.sum() == pytest.approx(1.0)
    got = np.einsum("nkj,k->nj", lagged_prices(panel, relative), weights)
    pos = occasion_index(panel.household)
    ref = np.empty_like(relative)
    for n in range(len(ref)):
        ref[n] = relative[n] if pos[n] == 0 else gamma * ref[n - 1] + (1 - gamma) * \
            relative[n - 1]
    np.testing.assert_allclose(got, ref, atol=gamma ** 30)
    np.testing.assert_allclose(got[pos < 30], ref[pos < 30], rtol=1e-12)


def test_model_has_the_named_parameters():
    panel = load_choice_panel(PANELS / "ecdat_Yogurt.csv")
    names = {v.name for v in price_model(panel, heterogeneous=True).unobserved_RVs}
    assert {"loss_aversion", "gain_coef", "loss_coef", "ref_memory", "price_sd",
            "feature_coef"} <= names
    assert "display_coef" not in names  # Yogurt has feature but no display columns


def _featured_panel(households, occasions, seed):
    """A synthetic panel with random feature and display indicators (and price_sd > 0)."""
    rng = np.random.default_rng(seed)
    panel = simulate_panel({**TRUTH, "price_sd": 1.5}, households, occasions, rng=rng)
    shape = panel.price.shape
    return dataclasses.replace(panel, feature=(rng.random(shape) < 0.2).astype(float),
                               display=(rng.random(shape) < 0.1).astype(float))


def _log_likelihood(panel, par, heterogeneous):
    """The module docstring's likelihood in NumPy, from the named parameters, with the exact
    smoothing recursion (the panel has fewer than 30 occasions per household)."""
    relative = panel.price / panel.price.mean()
    pos = occasion_index(panel.household)
    ref = np.empty_like(relative)
    for n in range(len(ref)):
        ref[n] = relative[n] if pos[n] == 0 else par["ref_memory"] * ref[n - 1] + \
            (1 - par["ref_memory"]) * relative[n - 1]
    beta = par["price_coef"] + (par["price_sd"] * par["price_z"][panel.household]
                                if heterogeneous else 0.0)
    u = (np.r_[0.0, par["brand_const"]] + beta[..., None] * relative
         + par["gain_coef"] * np.maximum(ref - relative, 0)
         - par["loss_coef"] * np.maximum(relative - ref, 0)
         + par["feature_coef"] * panel.feature + par["display_coef"] * panel.display)
    logp = u - np.log(np.exp(u).sum(axis=1, keepdims=True))
    rows = np.flatnonzero(pos > 0)
    return logp[rows, panel.choice[rows]].sum()


@pytest.mark.parametrize(("heterogeneous", "households"), [(False, 12), (True, 12), (True, 1)])
def test_sampling_coordinates_keep_the_likelihood(heterogeneous, households):
    """At prior draws, the model's log-likelihood (evaluated from the coordinates NUTS samples)
    equals the docstring's, computed from the named parameters that those coordinates give."""
    panel = _featured_panel(households, 9 if households > 1 else 25, seed=2)
    model = remove_value_transforms(price_model(panel, heterogeneous=heterogeneous))
    named = ["price_coef", "brand_const", "gain_coef", "loss_coef", "ref_memory",
             "feature_coef", "display_coef"] + (["price_sd", "price_z"] if heterogeneous else [])
    with model:
        prior = pm.sample_prior_predictive(
            draws=5, random_seed=3,
            var_names=sorted({v.name for v in model.free_RVs} | set(named))).prior
    loglik = model.compile_fn(model.observedlogp, inputs=model.value_vars,
                              on_unused_input="ignore")
    for d in range(5):
        at = {k: prior[k].values[0, d] for k in prior.data_vars}
        got = loglik({model.rvs_to_values[v].name: at[v.name] for v in model.free_RVs})
        assert float(got) == pytest.approx(_log_likelihood(panel, at, heterogeneous),
                                           rel=1e-9)


DEFAULT = {"price_coef": stats.norm(0, 5), "price_sd": stats.halfnorm(scale=2),
           "brand_const": stats.norm(0, 2)}


@pytest.mark.parametrize(("priors", "expected", "coordinates"), [
    (None, DEFAULT, {"price_coef_centred", "price_sd_times_radius", "brand_const_centred"}),
    ({"price_coef": Prior("StudentT", nu=5, mu=-2.0, sigma=1.0),
      "price_sd": Prior("Gamma", alpha=3.0, beta=2.0),
      "brand_const": Prior("Laplace", mu=1.0, b=0.5)},
     {"price_coef": stats.t(5, loc=-2, scale=1), "price_sd": stats.gamma(3, scale=0.5),
      "brand_const": stats.laplace(loc=1, scale=0.5)},
     {"price_coef_centred", "price_sd_times_radius", "brand_const_centred"}),
    ({"price_sd": Prior("Exponential", lam=0.5), "brand_const": Prior("Cauchy", alpha=0.0,
                                                                       beta=1.0)},
     {"price_sd": stats.expon(scale=2), "brand_const": stats.cauchy(0, 1)},
     {"price_sd_times_radius", "brand_const_centred"}),
    ({"price_coef": Prior("TruncatedNormal", mu=-3.0, sigma=2.0, upper=0.0),
      "price_sd": Prior("LogNormal", mu=0.0, sigma=0.5),
      "brand_const": Prior("Uniform", lower=-1.0, upper=1.0)},  # sampled as given
     {"price_coef": stats.truncnorm(-np.inf, 1.5, loc=-3, scale=2),
      "price_sd": stats.lognorm(0.5), "brand_const": stats.uniform(-1, 2)},
     {"price_coef", "price_sd", "brand_const"}),
])
def test_sampling_coordinates_keep_the_priors(priors, expected, coordinates):
    """The named parameters keep their stated priors (prior draws pass a Kolmogorov-Smirnov
    test), and so do the household effects: price_z ~ N(0, 1), independent across
    households. Location and scale families are moved or stretched; others sampled as given."""
    panel = simulate_panel(TRUTH, 40, 4, rng=np.random.default_rng(0))
    model = price_model(panel, heterogeneous=True, priors=priors)
    assert coordinates <= {v.name for v in model.free_RVs}
    with model:
        prior = pm.sample_prior_predictive(
            draws=2000, random_seed=5,
            var_names=["price_coef", "price_sd", "brand_const", "price_z"]).prior
    draws = {k: prior[k].values.reshape(2000, -1) for k in prior.data_vars}
    for name, dist in {**DEFAULT, **expected}.items():
        for column in draws[name].T:
            assert stats.kstest(column, dist.cdf).pvalue > 0.001, name
    z = draws["price_z"]
    assert stats.kstest(z[:, 7], "norm").pvalue > 0.001
    assert abs(np.corrcoef(z[:, 0], z[:, 1])[0, 1]) < 0.1
    assert np.std(z.mean(axis=1)) == pytest.approx(1 / np.sqrt(40), rel=0.1)
    assert abs(np.corrcoef(draws["price_coef"][:, 0], draws["price_sd"][:, 0])[0, 1]) < 0.1


def test_tiny_fit_on_a_synthetic_panel():
    panel = simulate_panel(TRUTH, 60, 10, rng=np.random.default_rng(1))
    cal = fit_price(panel, draws=200, tune=200, seed=4)
    par = cal.summary()["parameters"]
    assert par["ref_memory"]["hdi_5%"] < 0.7 < par["ref_memory"]["hdi_95%"]
    assert par["loss_coef"]["mean"] > par["gain_coef"]["mean"]
    assert cal.check.predicted.shape[1] == 3


@pytest.fixture(scope="module")
def catsup_fits():
    """Ecdat Catsup (300 households, 2,798 purchases) fitted both ways, 2 x (500 tuning +
    1,000 kept) NUTS draws each: about 30 s (homogeneous) + 40 s (heterogeneous) on one core."""
    panel = load_choice_panel(PANELS / "ecdat_Catsup.csv")
    return {het: fit_price(panel, heterogeneous=het, draws=1000, tune=500, seed=1)
            for het in (False, True)}


def _report(cal, label):
    lam = cal.draws("loss_aversion")
    summary = cal.summary()
    print(label, {k: round(v["mean"], 3) for k, v in summary["parameters"].items()},
          f"lambda median {np.median(lam):.3f}, P(lambda>1) = {np.mean(lam > 1):.3f}",
          summary["diagnostics"])
    return lam, summary


@pytest.mark.long
def test_catsup_gains_outweigh_losses_and_heterogeneity(catsup_fits):
    """Kalyanaram & Winer (1995) generalise that losses weigh more than gains; on Ecdat Catsup,
    with a memory-based reference from the brand's own past prices (Briesch et al. 1997) and
    a price term, they do not. Measured: gain_coef 1.50 (90% 1.01-2.07), loss_coef 0.06
    (0-0.13), loss_aversion 0.04, P(lambda > 1) = 0.00, ref_memory 0.19. Yogurt agrees
    (gain 0.13, loss 0.04, P(lambda > 1) = 0.23), and so does dropping the price term
    (Yogurt, Catsup, Ketchup: lambda 0.02-0.23): in these promotion-heavy panels deals
    below the reference move choice, prices above it barely do.

    Heterogeneous price sensitivity (random coefficients, Bell & Lattin 2000): the spread is
    large (price_sd 4.9 against a mean of -5.2; see the module docstring for what it also
    carries) and lambda does not shrink further from its already tiny value (0.04 -> 0.04);
    gain_coef grows to 2.05.
    """
    lam_homo, homo = _report(catsup_fits[False], "Catsup homogeneous")
    lam_hetero, hetero = _report(catsup_fits[True], "Catsup heterogeneous")
    assert homo["diagnostics"]["converged"], homo["diagnostics"]
    assert np.mean(lam_homo > 1) < 0.05 and np.mean(lam_hetero > 1) < 0.05
    assert homo["parameters"]["gain_coef"]["hdi_5%"] > homo["parameters"]["loss_coef"]["hdi_95%"]
    assert hetero["parameters"]["price_sd"]["hdi_5%"] > 1.0


@pytest.mark.long
def test_heterogeneous_fit_converges_on_catsup(catsup_fits):
    """The random-coefficient fit meets the calibration convergence rule (base module: every
    reported parameter R-hat <= 1.01, bulk ESS >= 400, no divergence) at 2 x 1,000 draws.

    Before the sampling coordinates of the module docstring (plain non-centred
    price_coef + price_sd * z): 2 x 500 draws after 500 tuning, bulk ESS 203 (price_coef) and
    272 (price_sd); 2 x 1,000 after 1,000, ESS 589 (price_sd); Yogurt worse (ESS 196, R-hat
    1.011 at 2 x 1,000; ESS 114, R-hat 1.041 at 2 x 500). Now, here: R-hat at most 1.004, bulk
    ESS at least 1,180 (price_sd; price_coef 1,490), no divergence, 15 leapfrog steps a draw
    as before. At 2 x 500 draws (seeds 1-4) the minimum ESS is 537-829 but split R-hat reached
    1.011 once (ref_memory, seed 3, ESS 1,362: the noise of R-hat from 4 half-chains of 250),
    hence 1,000 draws here; Yogurt at 2 x 500 (seeds 1-3): minimum ESS 610-758, R-hat at most
    1.0096.

    Bell & Lattin's (2000) question, whether allowing for heterogeneous price response
    shrinks loss aversion: Catsup, lambda 0.039 (median 0.025) homogeneous against 0.036
    (0.023) heterogeneous, P(lambda > 1) = 0 both ways, so no; the gain coefficient grows
    (1.50 -> 2.05) with the loss coefficient (0.055 -> 0.072). Yogurt (2 x 500): median
    lambda 0.31 -> 0.16, P(lambda > 1) 0.23 -> 0.13, gain 0.13 -> 0.29: the direction they
    report, but from well below 1 (no loss aversion either way), where they found estimates
    above 1 falling towards it.
    """
    lam_homo, homo = _report(catsup_fits[False], "Catsup homogeneous")
    lam_hetero, hetero = _report(catsup_fits[True], "Catsup heterogeneous")
    diag = hetero["diagnostics"]
    assert diag["divergences"] == 0, diag
    assert diag["max_r_hat"] <= 1.01 and diag["min_ess"] >= 400, diag
    assert diag["converged"], diag
    # the two fits agree on lambda: both far below 1, medians within 0.02 of each other
    assert np.quantile(lam_hetero, 0.95) < 0.2 and np.quantile(lam_homo, 0.95) < 0.2
    assert abs(np.median(lam_hetero) - np.median(lam_homo)) < 0.02


@pytest.mark.long
def test_price_sd_recovered_on_a_synthetic_panel():
    """Random coefficients with a known spread: 100 households x 30 occasions, price_sd 2
    around price_coef -3 (gain 2, loss 4, memory 0.7); 2 x 500 NUTS draws (35-60 s on one
    core). The 90% interval of price_sd covers 2: measured 1.96 (1.61-2.29); panel seed 0
    gave 1.72 (1.38-2.03). R-hat is held to 1.02 here: with 2 chains of 500 the split R-hat
    of six parameters exceeds 1.01 in about 4% of runs from independent-enough draws alone
    (AR(1) draws with 0.67 ESS a draw, simulated), so 1.01 would be a flaky bar."""
    truth = {**TRUTH, "price_sd": 2.0}
    panel = simulate_panel(truth, 100, 30, rng=np.random.default_rng(1))
    cal = fit_price(panel, heterogeneous=True, draws=500, tune=500, seed=1)
    summary = cal.summary()
    par, diag = summary["parameters"], summary["diagnostics"]
    print("synthetic price_sd:", {k: round(par["price_sd"][k], 3) for k in
                                  ("mean", "hdi_5%", "hdi_95%")}, diag)
    assert par["price_sd"]["hdi_5%"] < 2.0 < par["price_sd"]["hdi_95%"]
    assert par["price_coef"]["hdi_5%"] < -3.0 < par["price_coef"]["hdi_95%"]
    assert diag["divergences"] == 0 and diag["max_r_hat"] <= 1.02, diag


@pytest.mark.long  # 4-5 min each: beyond the CI budget; `make test-long`
def test_interval_coverage_on_20_synthetic_panels():
    """Parameter recovery: 20 panels (60 households x 10 occasions, 3 brands) from known
    coefficients drawn around loss aversion 2; a 90% interval covers the truth in
    Binomial(20, 0.9) of them, so 14..20 is accepted (probability 0.998). NUTS with
    2 x 300 draws per panel (about 6 s each) keeps the run near 2 minutes. Measured: gain_coef
    18, loss_coef 18, loss_aversion 18, ref_memory 19 of 20."""
    rng = np.random.default_rng(7)
    names = ("gain_coef", "loss_coef", "loss_aversion", "ref_memory")
    covered = dict.fromkeys(names, 0)
    for i in range(20):
        gain = rng.uniform(1.0, 3.0)
        truth = {"price_coef": rng.uniform(-4, -2), "gain_coef": gain,
                 "loss_coef": gain * rng.uniform(1.5, 2.5), "ref_memory": rng.uniform(0.4, 0.85)}
        truth["loss_aversion"] = truth["loss_coef"] / gain
        panel = simulate_panel(truth, 60, 10, rng=rng)
        par = fit_price(panel, draws=300, tune=300, seed=i).summary()["parameters"]
        for k in names:
            covered[k] += par[k]["hdi_5%"] <= truth[k] <= par[k]["hdi_95%"]
    print("price coverage of 90% intervals out of 20:", covered)
    assert all(14 <= c <= 20 for c in covered.values()), covered
