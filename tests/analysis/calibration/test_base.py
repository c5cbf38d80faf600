"""The contract every calibration model keeps: summary layout, diagnostics, saving, plots."""

import json
import math

import numpy as np
import pytest
from matplotlib.figure import Figure

from analysis.calibration import Calibration
from analysis.calibration.posterior import load_calibration

MODELS = ("bass", "repurchase", "price", "media", "simulator")
KEYS = {"mean", "sd", "hdi_5%", "hdi_95%", "r_hat", "ess_bulk"}


@pytest.mark.parametrize("model", MODELS)
def test_summary_layout(tiny_fits, model):
    cal = tiny_fits(model)
    assert isinstance(cal, Calibration) and cal.model == model
    s = cal.summary()
    assert s["parameters"] and all(set(row) == KEYS for row in s["parameters"].values())
    for row in s["parameters"].values():
        # a skewed posterior's mean may fall outside its 90% HDI (a tiny price fit's did)
        assert row["hdi_5%"] < row["hdi_95%"] and row["sd"] > 0
    d = s["diagnostics"]
    assert set(d) == {"divergences", "max_r_hat", "min_ess", "converged", "warnings"}
    # tiny fits have fewer than 400 effective draws: the rule must say so
    assert d["min_ess"] < 400 and d["converged"] is False
    assert any("ESS" in w for w in d["warnings"])
    json.dumps(s)


@pytest.mark.parametrize("model", MODELS)
def test_save_writes_everything_atomically(tiny_fits, model, tmp_path):
    cal = tiny_fits(model)
    paths = cal.save(tmp_path / "out")
    assert {p.name for p in paths.values()} == {"posterior.nc", "summary.json", "trace.png",
                                                  "ppc.png"}
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        p.name for p in paths.values())  # no temporary file left behind
    assert json.loads(paths["summary"].read_text())["model"] == model
    assert all(p.stat().st_size > 0 for p in paths.values())


@pytest.mark.parametrize("model", MODELS)
def test_a_saved_calibration_loads_with_its_summary_and_plots(tiny_fits, model, tmp_path):
    """What ``compare --posterior`` and a notebook load from disk summarises and plots as the
    fitted calibration does (media's vector parameters included), its check restored."""
    cal = tiny_fits(model)
    cal.save(tmp_path)
    loaded = load_calibration(tmp_path)
    assert loaded.parameters == cal.parameters
    assert loaded.summary()["parameters"] == cal.summary()["parameters"]
    for name in ("x", "observed", "predicted"):
        np.testing.assert_array_equal(getattr(loaded.check, name), getattr(cal.check, name))
    assert (loaded.check.xlabel, loaded.check.ylabel) == (cal.check.xlabel, cal.check.ylabel)
    trace = loaded.plot_trace()
    assert len(trace.axes) == 2 * len(cal.parameters)
    band = loaded.plot_ppc().axes[0]
    assert band.collections and band.get_legend() is not None  # the band, not "no check"
    loaded.save(tmp_path / "again")  # a loaded calibration saves as it loaded
    assert load_calibration(tmp_path / "again").check.predicted.shape == cal.check.predicted.shape


@pytest.mark.parametrize("model", MODELS)
def test_plots_return_figures(tiny_fits, model):
    cal = tiny_fits(model)
    assert isinstance(cal.plot_trace(), Figure)
    assert isinstance(cal.plot_ppc(), Figure)


def test_parameter_names(tiny_fits):
    assert set(tiny_fits("bass").summary()["parameters"]) == {"p", "q", "m"}
    assert set(tiny_fits("repurchase").summary()["parameters"]) == {"r", "alpha", "a", "b"}
    assert {"loss_aversion", "gain_coef", "loss_coef", "ref_memory"} <= set(
        tiny_fits("price").summary()["parameters"])
    media = set(tiny_fits("media").summary()["parameters"])
    assert {"adstock_alpha[tv]", "adstock_alpha[search]", "roas[tv]", "roas[search]",
            "saturation_lam[tv]"} <= media


def test_one_chain_cannot_claim_convergence():
    import numpy as np

    from analysis.calibration.bass import fit_bass, simulate_bass

    series = simulate_bass(0.02, 0.4, 1e4, 10, rng=np.random.default_rng(0))
    d = fit_bass(series, draws=100, tune=100, chains=1, seed=0).summary()["diagnostics"]
    assert d["converged"] is False and math.isnan(d["max_r_hat"] or math.nan)
    assert any("one chain" in w for w in d["warnings"])
