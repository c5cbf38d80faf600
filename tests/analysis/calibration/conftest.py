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
    series = simulate_media(MEDIA_TRUTH, 56, rng=np.random.default_rng(0))
    return fit_media(series, draws=120, tune=120, seed=0)


@pytest.fixture(scope="package")
def tiny_fits():
    """Every model's tiny fit, built once for the package's tests."""
    cache: dict = {}

    def get(model: str):
        if model not in cache:
            cache[model] = tiny(model)
        return cache[model]

    return get
