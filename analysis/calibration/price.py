r"""Reference-dependent brand choice on a household purchase panel.

At purchase occasion :math:`n` of household :math:`h`, brand :math:`j` has price
:math:`p_{nj}` (divided by the panel's mean price, so coefficients are per unit of relative
price, as the simulator's ``price_sensitivity``) and a memory-based reference price, the
exponential smoothing of the brand's own past prices the household saw (Briesch et al.
1997):

.. math::

    r_{0j} = p_{0j}, \qquad r_{nj} = \gamma\, r_{n-1,j} + (1-\gamma)\, p_{n-1,j},

with :math:`\gamma` = ``ref_memory`` (1: the first price is remembered for ever; 0: only the
last one). Unrolled, :math:`r_{nj} = \sum_{i=1}^{n} (1-\gamma)\gamma^{i-1} p_{n-i,j} +
\gamma^n p_{0j}`; the model keeps the last :math:`K = 30` lags and puts the remaining weight
:math:`\gamma^{K-1}` on lag :math:`K` (exact for :math:`n < K`; the error is below
:math:`\gamma^{K} \le 0.04` of a price difference for :math:`\gamma \le 0.9`).

Utility and choice (multinomial logit, Kalyanaram & Winer 1995; Bell & Lattin 2000):

.. math::

    U_{nj} = \alpha_j + \beta_h p_{nj} + \eta_G \max(r_{nj} - p_{nj}, 0)
             - \eta_L \max(p_{nj} - r_{nj}, 0) + \beta_F F_{nj} + \beta_D D_{nj},
    \qquad P(y_n = j) = \frac{e^{U_{nj}}}{\sum_k e^{U_{nk}}},

with brand constants :math:`\alpha_j` (the first brand's fixed at 0), feature and display
indicators :math:`F, D` when the panel has them, ``gain_coef`` :math:`\eta_G \ge 0`,
``loss_coef`` :math:`\eta_L \ge 0` and ``loss_aversion`` :math:`\lambda = \eta_L / \eta_G`.
Homogeneous: :math:`\beta_h = \beta`. Heterogeneous (random coefficients):
:math:`\beta_h = \beta + \sigma_\beta z_h`, :math:`z_h \sim N(0, 1)`; Bell & Lattin (2000)
find that allowing this shrinks :math:`\lambda`, because price-sensitive households are also
the ones who see most losses. The first occasion of each household is left out of the
likelihood (its reference is its own price).

Priors: :math:`\alpha_j, \beta_F, \beta_D \sim N(0, 2)`, :math:`\beta \sim N(0, 5)`,
:math:`\eta_G, \eta_L \sim \mathrm{HalfNormal}(5)`, :math:`\gamma \sim \mathrm{Beta}(2, 2)`,
:math:`\sigma_\beta \sim \mathrm{HalfNormal}(2)`.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping

import numpy as np
import pymc as pm
import pytensor.tensor as pt
from pymc_extras.prior import Prior

from .base import Calibration, PosteriorCheck, predictive, resolve_priors, sample
from .data import ChoicePanel

LAGS = 30

PRIORS: dict[str, Prior] = {
    "brand_const": Prior("Normal", mu=0.0, sigma=2.0),
    "price_coef": Prior("Normal", mu=0.0, sigma=5.0),
    "gain_coef": Prior("HalfNormal", sigma=5.0),
    "loss_coef": Prior("HalfNormal", sigma=5.0),
    "ref_memory": Prior("Beta", alpha=2.0, beta=2.0),
    "feature_coef": Prior("Normal", mu=0.0, sigma=2.0),
    "display_coef": Prior("Normal", mu=0.0, sigma=2.0),
    "price_sd": Prior("HalfNormal", sigma=2.0),
}


def occasion_index(household: np.ndarray) -> np.ndarray:
    """Position of each row within its household (0 for the first occasion)."""
    start = np.r_[0, np.flatnonzero(np.diff(household) != 0) + 1]
    first = np.repeat(start, np.diff(np.r_[start, len(household)]))
    return np.arange(len(household)) - first


def lagged_prices(panel: ChoicePanel, relative: np.ndarray, lags: int = LAGS) -> np.ndarray:
    """Prices ``i = 1..lags`` occasions back in the same household, clipped at its first
    occasion: shape (occasions, lags, brands)."""
    pos = occasion_index(panel.household)
    rows = np.arange(len(pos))[:, None] - np.minimum(np.arange(1, lags + 1)[None, :],
                                                     pos[:, None])
    return relative[rows]


def smoothing_weights(gamma, lags: int = LAGS):
    """Weights of lags 1..K: :math:`(1-\\gamma)\\gamma^{i-1}`, and :math:`\\gamma^{K-1}` on K."""
    i = np.arange(lags - 1, dtype=float)
    head = (1 - gamma) * gamma ** i
    return pt.concatenate([head, pt.reshape(gamma ** (lags - 1), (1,))])


def price_model(panel: ChoicePanel, *, heterogeneous: bool = False,
                priors: Mapping[str, Prior] | None = None) -> pm.Model:
    """The PyMC model of ``panel`` (equations in the module docstring)."""
    pri = resolve_priors(PRIORS, priors)
    scale = float(panel.price.mean())
    relative = panel.price / scale
    lagged = lagged_prices(panel, relative)
    keep = occasion_index(panel.household) > 0
    n_house = int(panel.household.max()) + 1
    n_brands = len(panel.brands)
    coords = {"brand": list(panel.brands), "other_brand": list(panel.brands[1:]),
              "household": np.arange(n_house)}
    with pm.Model(coords=coords) as model:
        const_prior = copy.deepcopy(pri["brand_const"])
        const_prior.dims = ("other_brand",)
        const = const_prior.create_variable("brand_const")
        price_coef = pri["price_coef"].create_variable("price_coef")
        gain = pri["gain_coef"].create_variable("gain_coef")
        loss = pri["loss_coef"].create_variable("loss_coef")
        gamma = pri["ref_memory"].create_variable("ref_memory")
        pm.Deterministic("loss_aversion", loss / gain)
        # (occasions*brands, lags) @ (lags,): a matrix-vector product keeps the gradient cheap
        flat = lagged[keep].transpose(0, 2, 1).reshape(-1, LAGS)
        ref = pt.dot(flat, smoothing_weights(gamma)).reshape((int(keep.sum()), n_brands))
        p = relative[keep]
        if heterogeneous:
            sd = pri["price_sd"].create_variable("price_sd")
            z = pm.Normal("price_z", 0.0, 1.0, dims="household")
            beta = (price_coef + sd * z)[panel.household[keep]][:, None]
        else:
            beta = price_coef
        utility = (pt.concatenate([pt.zeros(1), const])[None, :] + beta * p
                   + gain * pt.maximum(ref - p, 0.0) - loss * pt.maximum(p - ref, 0.0))
        for kind, values in (("feature", panel.feature), ("display", panel.display)):
            if values.any():
                coef = pri[f"{kind}_coef"].create_variable(f"{kind}_coef")
                utility = utility + coef * values[keep]
        pm.Categorical("choice", logit_p=utility, observed=panel.choice[keep])
    return model


def fit_price(panel: ChoicePanel, *, heterogeneous: bool = False,
              priors: Mapping[str, Prior] | None = None, draws: int = 1000, tune: int = 1000,
              chains: int = 2, seed: int = 0, cores: int | None = None,
              progressbar: bool = False) -> Calibration:
    """Fit the reference-dependent logit with NUTS.

    Returns
    -------
    Calibration
        Parameters ``loss_aversion``, ``gain_coef``, ``loss_coef``, ``ref_memory``,
        ``price_coef`` (and ``price_sd`` when heterogeneous); coefficients are utility per
        unit of relative price (price / the panel's mean price, recorded in ``meta``).
    """
    model = price_model(panel, heterogeneous=heterogeneous, priors=priors)
    idata = sample(model, draws=draws, tune=tune, chains=chains, seed=seed,
                   target_accept=0.9, cores=cores, progressbar=progressbar)
    chosen = predictive(model, idata, ["choice"], seed=seed, max_draws=300)
    n_brands = len(panel.brands)
    counts = np.stack([np.bincount(row, minlength=n_brands) for row in chosen])
    keep = occasion_index(panel.household) > 0
    check = PosteriorCheck(np.arange(n_brands), np.bincount(panel.choice[keep],
                           minlength=n_brands).astype(float), counts.astype(float),
                           "brand (" + ", ".join(panel.brands) + ")", "purchases")
    names = ("loss_aversion", "gain_coef", "loss_coef", "ref_memory", "price_coef")
    return Calibration("price", idata, names + (("price_sd",) if heterogeneous else ()), check,
                       {"source": panel.source, "brands": list(panel.brands),
                        "price_scale": float(panel.price.mean()),
                        "heterogeneous": heterogeneous})


def simulate_panel(truth: Mapping[str, float], households: int, occasions: int, *,
                   rng: np.random.Generator, brands: int = 3) -> ChoicePanel:
    """A synthetic panel from known parameters (exact smoothing recursion, no truncation).

    ``truth`` holds ``price_coef``, ``gain_coef``, ``loss_coef``, ``ref_memory`` and
    optionally ``price_sd``; brand constants are 0. Prices are list prices with random
    20-30% promotions (probability 0.25) and 5% noise, so references move.
    """
    base = np.linspace(0.8, 1.2, brands)
    n = households * occasions
    promo = rng.random((n, brands)) < 0.25
    price = base * (1 - promo * rng.uniform(0.2, 0.3, (n, brands))) \
        * np.exp(rng.normal(0, 0.05, (n, brands)))
    household = np.repeat(np.arange(households), occasions)
    beta = truth["price_coef"] + truth.get("price_sd", 0.0) * rng.normal(size=households)
    gamma = truth["ref_memory"]
    choice = np.empty(n, dtype=np.int64)
    relative = price / price.mean()
    for h in range(households):
        rows = np.arange(h * occasions, (h + 1) * occasions)
        ref = relative[rows[0]].copy()
        for i in rows:
            if i != rows[0]:
                ref = gamma * ref + (1 - gamma) * relative[i - 1]
            p = relative[i]
            u = beta[h] * p + truth["gain_coef"] * np.maximum(ref - p, 0) \
                - truth["loss_coef"] * np.maximum(p - ref, 0)
            e = np.exp(u - u.max())
            choice[i] = rng.choice(brands, p=e / e.sum())
    zeros = np.zeros((n, brands))
    return ChoicePanel("synthetic", tuple(f"b{j}" for j in range(brands)), household, price,
                       zeros, zeros, choice)
