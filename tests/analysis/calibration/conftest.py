"""Tiny fits shared by the contract, CLI and override tests (one per model, module scope)."""

import numpy as np
import pytest

from analysis.calibration.bass import fit_bass, simulate_bass
from analysis.calibration.media import fit_media, simulate_media
from analysis.calibration.price import fit_price, simulate_panel
from analysis.calibration.repurchase import fit_repurchase, simulate_transactions

MEDIA_TRUTH = {"tv": {"alpha": 0.6, "lam": 2.0, "coef": 40.0},
               "search": {"alpha": 0.1, "lam": 3.0, "coef": 20.0}}


def tiny(model: str):
    """A small, quick fit of ``model`` on synthetic data (seeded)."""
    if model == "bass":
        series = simulate_bass(0.02, 0.4, 1e4, 12, rng=np.random.default_rng(0))
        return fit_bass(series, draws=200, tune=200, seed=0)
    if model == "repurchase":
        log = simulate_transactions(0.8, 4.0, 1.0, 4.0, 300, 40.0,
                                    rng=np.random.default_rng(0))
        return fit_repurchase(log, draws=200, tune=200, seed=0)
    if model == "price":
        truth = {"price_coef": -3.0, "gain_coef": 2.0, "loss_coef": 4.0, "ref_memory": 0.7}
        panel = simulate_panel(truth, 50, 8, rng=np.random.default_rng(0))
        return fit_price(panel, draws=200, tune=200, seed=0)
    if model == "simulator":
        return _tiny_simulator()
    series = simulate_media(MEDIA_TRUTH, 56, rng=np.random.default_rng(0))
    return fit_media(series, draws=120, tune=120, seed=0)


def _tiny_simulator():
    """The agent model's fit on a 300-consumer test market's own daily series (two
    parameters, 128 design campaigns)."""
    import scenarios
    import simulation
    from analysis.calibration.emulator import FitOptions, fit_simulator

    from ...conftest import MINI

    market = simulation.rescale(scenarios.load(MINI), 300)
    daily = simulation.run(market, seed=1, log_touchpoints=False).timeseries.groupby(
        "day")[["orders", "gmv"]].sum()
    options = FitOptions(population=300, simulations=128, draws=100, tune=100, chains=2,
                         cores=1, check_draws=8)
    return fit_simulator(daily, market, parameters=("base_utility_shift",
                                                    "awareness_half_life_hours"),
                         options=options)


@pytest.fixture(scope="package")
def tiny_fits():
    """Every model's tiny fit, built once for the package's tests."""
    cache: dict = {}

    def get(model: str):
        if model not in cache:
            cache[model] = tiny(model)
        return cache[model]

    return get
