"""Simulation-based calibration: the uniformity test against closed-form posteriors, the
resumable runner on a conjugate model, and SBC of the Bass and price models."""

import numpy as np
import pymc as pm
import pytest

from analysis.calibration import sbc as sbc_module
from analysis.calibration.bass import bass_model, simulate_bass
from analysis.calibration.price import price_model, simulate_panel
from analysis.calibration.sbc import SBCResult, run_sbc


def _conjugate_ranks(rng, simulations, draws, shrink):
    """Ranks of theta* ~ N(0, 1) among draws from the exact posterior of five N(theta, 1)
    observations, N(sum(y) / 6, 1/6), with its sd multiplied by ``shrink``."""
    theta = rng.normal(size=simulations)
    y = theta[:, None] + rng.normal(size=(simulations, 5))
    post = y.sum(axis=1)[:, None] / 6 + shrink * np.sqrt(1 / 6) \
        * rng.normal(size=(simulations, draws))
    return (post < theta[:, None]).sum(axis=1)


def test_uniformity_test_accepts_exact_posteriors_and_rejects_wrong_ones():
    """Talts et al. (2018): ranks are uniform under the exact posterior; an over-confident
    posterior (sd halved) gives a U shape, an under-confident one (sd doubled) a hump. 500
    simulations, 99 draws each."""
    rng = np.random.default_rng(11)
    exact = SBCResult("conjugate", {"theta": _conjugate_ranks(rng, 500, 99, 1.0)}, 99)
    assert exact.uniform() and exact.p_values()["theta"] > 0.01
    for shrink in (0.5, 2.0):
        wrong = SBCResult("conjugate", {"theta": _conjugate_ranks(rng, 500, 99, shrink)}, 99)
        assert not wrong.uniform(), shrink
        observed, expected = wrong.bin_counts("theta", 10)
        edges = observed[[0, -1]].sum() - expected[[0, -1]].sum()
        assert edges > 0 if shrink < 1 else edges < 0
    np.testing.assert_allclose(exact.bin_counts("theta", 10)[1].sum(), 500)


def test_bins_of_unequal_width_get_their_exact_expected_share():
    result = SBCResult("x", {"a": np.arange(12)}, 11)  # 12 rank values, 5 bins: 3,2,3,2,2
    observed, expected = result.bin_counts("a", 5)
    assert observed.tolist() == [3, 2, 3, 2, 2]
    np.testing.assert_allclose(expected, observed)
    assert result.p_values(5)["a"] == pytest.approx(1.0)


def _conjugate_model():
    with pm.Model() as model:
        theta = pm.Normal("theta", 0.0, 1.0)
        pm.Normal("y", theta, 1.0, observed=np.zeros(5))
    return model


def test_runner_on_a_conjugate_model_resumes_from_its_chunks(tmp_path, monkeypatch):
    """25 NUTS refits in three chunks; a rerun reads every chunk back instead of refitting
    and gives the same ranks, and the saved summary and plot are written."""
    first = run_sbc(_conjugate_model(), 25, draws=40, tune=100, chains=1, seed=3,
                    checkpoint=tmp_path / "chunks")
    assert first.max_rank == 40 and first.simulations == 25
    assert set(first.ranks) == {"theta"}
    assert first.ranks["theta"].min() >= 0 and first.ranks["theta"].max() <= 40
    assert len(list((tmp_path / "chunks").glob("*.npz"))) == 3

    def refuse(*args, **kwargs):
        raise AssertionError("a finished chunk was refitted")

    monkeypatch.setattr(sbc_module, "_chunk_ranks", refuse)
    again = run_sbc(_conjugate_model(), 25, draws=40, tune=100, chains=1, seed=3,
                    checkpoint=tmp_path / "chunks")
    np.testing.assert_array_equal(again.ranks["theta"], first.ranks["theta"])
    paths = first.save(tmp_path / "out")
    assert paths["sbc"].exists() and paths["sbc_plot"].stat().st_size > 1000
    with pytest.raises(ValueError, match="at least 1"):
        run_sbc(_conjugate_model(), 0)
    monkeypatch.undo()
    other = run_sbc(_conjugate_model(), 5, draws=40, tune=100, chains=1, seed=3, key="new data",
                    checkpoint=tmp_path / "chunks")  # another key: nothing is reused
    assert len(list((tmp_path / "chunks").glob("*.npz"))) == 4 and other.simulations == 5


@pytest.mark.long  # 5-15 min: `make test-long`
def test_bass_ranks_are_uniform():
    """SBC of the period-difference Bass model as built on a 14-period series of Poisson counts
    (its m prior scaled to that series; negative binomial likelihood): 100 prior draws,
    2 x 100 posterior draws each. Every parameter's ranks pass the chi-square test (10 bins)
    at 0.01 / 4. Measured p-values: p 0.77, q 0.95, m_rel 0.97, inv_phi 0.71 (with the
    normal likelihood before: p 0.83, q 0.92, m_rel 0.55, sigma 0.10)."""
    series = simulate_bass(0.02, 0.4, 10_000, 14, rng=np.random.default_rng(0))
    result = run_sbc(bass_model(series), 100, name="bass", draws=100, tune=400, seed=1)
    print("bass SBC p-values:", {k: round(v, 3) for k, v in result.p_values().items()})
    assert set(result.ranks) == {"p", "q", "m_rel", "inv_phi"}
    assert result.uniform(), result.p_values()


@pytest.mark.long  # 4-10 min: `make test-long`
def test_price_ranks_are_uniform():
    """SBC of the homogeneous reference-price logit on a 40-household x 8-occasion panel's
    prices: 100 prior draws, 2 x 100 posterior draws each; the ranks of the sampler's
    coordinates (the two brand constants at the panel's mean covariates, price, gain and loss
    coefficients, reference memory) pass the chi-square test (10 bins) at 0.01 / 6. Measured
    p-values: 0.245, 0.748, 0.416, 0.704, 0.019, 0.821 (before the brand constants were
    re-centred: 0.65, 0.89, 0.57, 0.72, 0.32, 0.40)."""
    truth = {"price_coef": -3.0, "gain_coef": 2.0, "loss_coef": 4.0, "ref_memory": 0.7}
    panel = simulate_panel(truth, 40, 8, rng=np.random.default_rng(0))
    result = run_sbc(price_model(panel), 100, name="price", draws=100, tune=400, seed=1)
    print("price SBC p-values:", {k: round(v, 3) for k, v in result.p_values().items()})
    assert {"gain_coef", "loss_coef", "ref_memory", "price_coef"} <= set(result.ranks)
    assert result.uniform(), result.p_values()


def test_a_rerun_with_another_count_refits_the_chunks_it_does_not_share(tmp_path, monkeypatch):
    """A chunk's file is named by its number of simulations too: going from 15 to 20
    simulations keeps the first chunk (10) and refits the second (5 -> 10); going back to 15
    does not take the first 5 of a 10-simulation chunk. Each result equals a fresh run of
    its count. (Sampling is replaced by ranks that depend on the chunk's size and seed.)"""
    fits = []

    def fake(model, n, seed, sample):
        fits.append(n)
        return {"theta": (np.arange(n) * 7 + seed + 3 * n) % 41}

    monkeypatch.setattr(sbc_module, "_chunk_ranks", fake)

    def run(count, folder="chunks"):
        return run_sbc(_conjugate_model(), count, draws=40, chains=1, seed=3,
                       checkpoint=tmp_path / folder).ranks["theta"]

    refits = []
    for count in (15, 20, 15):
        fits.clear()
        got = run(count)
        refits.append(list(fits))
        assert len(got) == count
        np.testing.assert_array_equal(got, run(count, folder=f"fresh{count}"))
    assert refits == [[10, 5], [10], []]  # only the chunk of another size is refitted
