"""The shared contract of the calibration models: sampling, the result, its diagnostics.

Every model is a function ``fit_<model>(data, *, priors=None, draws, tune, chains, seed)``
that takes validated data (see :mod:`analysis.calibration.data`) and returns a
:class:`Calibration`: the ArviZ ``InferenceData`` and what is needed to summarise, check and
save it.

Convergence rule (Vehtari et al. 2021, as ArviZ reports it): a calibration is converged when
every summarised parameter has split rank-normalised :math:`\\hat R \\le 1.01`, bulk effective
sample size :math:`\\mathrm{ESS}_{bulk} \\ge 400` (100 per chain for the recommended 4 chains)
and the sampler reported no divergent transition. Intervals are 90% highest-density intervals
(``hdi_5%`` to ``hdi_95%``).
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import arviz as az
import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from simulation.io import write_atomic

from ..parallel import START_METHOD, available_cores

R_HAT_MAX = 1.01
ESS_MIN = 400
HDI_PROB = 0.90
CHECK_GROUP = "posterior_check"
"""The group of ``posterior.nc`` that holds the :class:`PosteriorCheck`."""


@dataclass(frozen=True)
class PosteriorCheck:
    """Observed values and posterior-predictive draws to plot against each other.

    ``predicted`` has shape (draws, len(x)); ``x`` is what the horizontal axis shows.
    """

    x: np.ndarray
    observed: np.ndarray
    predicted: np.ndarray
    xlabel: str
    ylabel: str

    def to_dataset(self) -> xr.Dataset:
        """The check as a dataset (dims ``point`` and ``draw``; labels as attributes)."""
        return xr.Dataset({"x": ("point", self.x), "observed": ("point", self.observed),
                           "predicted": (("draw", "point"), self.predicted)},
                          attrs={"xlabel": self.xlabel, "ylabel": self.ylabel})

    @classmethod
    def from_dataset(cls, data: xr.Dataset) -> PosteriorCheck:
        return cls(data["x"].values, data["observed"].values, data["predicted"].values,
                   str(data.attrs["xlabel"]), str(data.attrs["ylabel"]))


@dataclass(frozen=True)
class Calibration:
    """A fitted calibration model.

    Attributes
    ----------
    model
        The model's name (``"bass"``, ``"media"``, ``"price"``, ``"repurchase"``).
    idata
        Posterior (and sample statistics, observed data, posterior predictive when drawn).
    parameters
        The variable names that :meth:`summary` reports and the trace plot shows.
    check
        Observed versus posterior predictive, for :meth:`plot_ppc`.
    meta
        Facts about the fit that the scenario mapping needs (units, names, variant).
    """

    model: str
    idata: az.InferenceData
    parameters: tuple[str, ...]
    check: PosteriorCheck | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)

    def draws(self, name: str) -> np.ndarray:
        """Posterior draws of one variable, chains stacked first: shape (chains*draws, ...)."""
        values = self.idata.posterior[name].values
        return values.reshape(-1, *values.shape[2:])

    def summary(self) -> dict[str, Any]:
        """Posterior summary and convergence diagnostics, as plain JSON-ready data."""
        table = az.summary(self.idata, var_names=list(self.parameters), hdi_prob=HDI_PROB,
                           kind="all", round_to="none")
        parameters = {
            str(name): {k: _num(row[k]) for k in
                        ("mean", "sd", "hdi_5%", "hdi_95%", "r_hat", "ess_bulk")}
            for name, row in table.iterrows()
        }
        return {"model": self.model, "parameters": parameters,
                "diagnostics": self.diagnostics(table), "meta": dict(self.meta)}

    def diagnostics(self, table=None) -> dict[str, Any]:
        if table is None:
            table = az.summary(self.idata, var_names=list(self.parameters), kind="diagnostics",
                               round_to="none")
        stats = self.idata.get("sample_stats")
        divergences = int(stats["diverging"].sum()) if stats is not None and \
            "diverging" in stats else 0
        chains = int(self.idata.posterior.sizes["chain"])
        r_hat = table["r_hat"].to_numpy(dtype=float)
        max_r_hat = float(np.nanmax(r_hat)) if chains > 1 and np.isfinite(r_hat).any() \
            else math.nan
        min_ess = float(np.nanmin(table["ess_bulk"].to_numpy(dtype=float)))
        warnings = []
        if chains < 2:
            warnings.append("one chain: R-hat cannot be computed; run at least 2 chains")
        elif not max_r_hat <= R_HAT_MAX:
            warnings.append(f"R-hat {max_r_hat:.3f} > {R_HAT_MAX} "
                            f"({table['r_hat'].astype(float).idxmax()}); chains disagree")
        if not min_ess >= ESS_MIN:
            warnings.append(f"bulk ESS {min_ess:.0f} < {ESS_MIN} "
                            f"({table['ess_bulk'].astype(float).idxmin()}); draw more")
        if divergences:
            warnings.append(f"{divergences} divergent transitions; the posterior may be "
                            "biased (raise target_accept or reparametrise)")
        return {"divergences": divergences, "max_r_hat": _num(max_r_hat),
                "min_ess": _num(min_ess), "converged": not warnings, "warnings": warnings}

    def plot_trace(self) -> Figure:
        """Trace plot of the summarised parameters (one row per parameter)."""
        axes = az.plot_trace(self.idata, var_names=list(self.parameters), compact=True,
                             show=False)
        fig = np.asarray(axes).ravel()[0].figure
        fig.tight_layout()
        return fig

    def plot_ppc(self) -> Figure:
        """Observed data against the posterior predictive median and 90% band."""
        fig = Figure(figsize=(7, 4))
        ax = fig.add_subplot()
        if self.check is None:
            ax.text(0.5, 0.5, "no posterior predictive check for this model", ha="center")
            return fig
        c = self.check
        lo, mid, hi = np.quantile(c.predicted, [0.05, 0.5, 0.95], axis=0)
        ax.fill_between(c.x, lo, hi, alpha=0.3, label="posterior predictive 90%")
        ax.plot(c.x, mid, label="posterior predictive median")
        ax.plot(c.x, c.observed, "o", color="black", ms=3, label="observed")
        ax.set_xlabel(c.xlabel)
        ax.set_ylabel(c.ylabel)
        ax.set_title(f"{self.model}: posterior predictive check")
        ax.legend()
        return fig

    def _write_posterior(self, path: Path) -> None:
        """The InferenceData, and the check as the group :data:`CHECK_GROUP`, to ``path``."""
        groups = [g for g in self.idata.groups() if g != CHECK_GROUP]
        self.idata.to_netcdf(str(path), groups=groups)
        if self.check is not None:
            self.check.to_dataset().to_netcdf(path, mode="a", group=CHECK_GROUP,
                                              engine="h5netcdf")

    def save(self, out_dir: str | Path) -> dict[str, Path]:
        """Write posterior.nc, summary.json, trace.png and ppc.png into ``out_dir``.

        posterior.nc holds the InferenceData and the posterior-predictive check (group
        :data:`CHECK_GROUP`), so that a loaded calibration plots as the fitted one did.

        Each file is written to a temporary name in the same directory and then renamed, so a
        reader never sees a half-written file.
        """
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = {k: out / n for k, n in (("posterior", "posterior.nc"),
                                         ("summary", "summary.json"),
                                         ("trace", "trace.png"), ("ppc", "ppc.png"))}
        write_atomic(paths["posterior"], self._write_posterior)
        text = json.dumps(self.summary(), indent=2, default=str)
        write_atomic(paths["summary"], lambda tmp: tmp.write_text(text, encoding="utf-8"))
        for key, make in (("trace", self.plot_trace), ("ppc", self.plot_ppc)):
            fig = make()
            write_atomic(paths[key], lambda tmp, fig=fig: fig.savefig(tmp, dpi=100, format="png"))
            _close(fig)
        return paths


def _num(x: Any) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def _close(fig: Figure) -> None:
    """Release a figure whether or not pyplot created it."""
    if fig.canvas.manager is not None:
        import matplotlib.pyplot as plt

        plt.close(fig)


def resolve_priors(defaults: Mapping[str, Any], given: Mapping[str, Any] | None) -> dict:
    """Defaults updated by ``given``; unknown names are refused with a hint."""
    given = dict(given or {})
    for name in given:
        if name not in defaults:
            hint = difflib.get_close_matches(name, list(defaults), n=1)
            raise ValueError(f"no prior named {name!r}; this model has: "
                             + ", ".join(defaults) + (f" (did you mean {hint[0]!r}?)"
                                                      if hint else ""))
    return {**defaults, **given}


def sample(model, *, draws: int, tune: int, chains: int, seed: int,
           target_accept: float = 0.9, cores: int | None = None,
           progressbar: bool = False, init: str = "jitter+adapt_diag") -> az.InferenceData:
    """NUTS on ``model`` with a fixed seed (identical draws for the same seed and cores).

    ``init="jitter+adapt_full"`` adapts a dense mass matrix (PyMC calls it experimental)."""
    import warnings

    import pymc as pm

    cores = min(chains, available_cores()) if cores is None else cores
    with model, warnings.catch_warnings():
        warnings.filterwarnings("ignore", "QuadPotentialFullAdapt is an experimental feature")
        return pm.sample(draws=draws, tune=tune, chains=chains, cores=cores,
                         random_seed=seed, target_accept=target_accept, init=init,
                         progressbar=progressbar, compute_convergence_checks=False,
                         mp_ctx=START_METHOD)


def predictive(model, idata: az.InferenceData, names: list[str], *, seed: int,
               max_draws: int = 500) -> np.ndarray:
    """Posterior-predictive draws of ``names[0]`` (at most ``max_draws``), shape (draws, ...).

    Draws are added to ``idata`` as its ``posterior_predictive`` group.
    """
    import pymc as pm

    post = idata.posterior
    step = max(1, math.ceil(post.sizes["chain"] * post.sizes["draw"] / max_draws))
    thinned = post.isel(draw=slice(None, None, step))
    with model:
        pp = pm.sample_posterior_predictive(thinned, var_names=names, random_seed=seed,
                                            progressbar=False)
    idata.add_groups(posterior_predictive=pp.posterior_predictive)
    values = pp.posterior_predictive[names[0]].values
    return values.reshape(-1, *values.shape[2:])

