"""A saved calibration's posterior as scenario overrides, so that runs carry its uncertainty.

``campaign-lab calibrate ... --out DIR`` writes ``DIR/posterior.nc`` and ``DIR/summary.json``;
``scenario_draws(DIR, n)`` picks ``n`` posterior draws (at random, seeded) and turns each
into dotted-path overrides for ``scenarios.with_overrides`` (``overrides.to_overrides``).
``campaign-lab compare --posterior DIR`` pairs each replication seed with one draw, the same
for every plan. ``priors_from(DIR)`` turns a component model's posterior into priors of the
agent model's parameters.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import arviz as az
import numpy as np

from ..errors import UsageError
from .agent_model import PRIORS
from .base import CHECK_GROUP, Calibration, PosteriorCheck
from .overrides import to_overrides
from .priors import Prior, fitted_to


def load_calibration(folder: str | Path) -> Calibration:
    """The calibration saved in ``folder`` by :meth:`Calibration.save`.

    Its summary and trace plot cover the saved parameters' variables (``roas[tv]`` and
    ``roas[search]`` are elements of ``roas``), and its posterior-predictive plot is the
    saved check (none in files written before the check was saved).
    """
    folder = Path(folder)
    nc, summary = folder / "posterior.nc", folder / "summary.json"
    for path in (nc, summary):
        if not path.is_file():
            raise UsageError(str(folder), "--posterior", f"no {path.name} here; give the "
                                "output folder of `campaign-lab calibrate`")
    try:
        meta = json.loads(summary.read_text())
        idata = az.from_netcdf(str(nc))
    except (json.JSONDecodeError, OSError, ValueError) as exc:
        raise UsageError(str(folder), "--posterior", f"cannot read the posterior: {exc}") \
            from None
    variables = tuple(dict.fromkeys(name.split("[")[0] for name in meta.get("parameters", {})))
    check = PosteriorCheck.from_dataset(idata[CHECK_GROUP]) \
        if CHECK_GROUP in idata.groups() else None
    return Calibration(meta["model"], idata, variables, check, meta.get("meta", {}))


def scenario_draws(folder: str | Path, n: int, *, seed: int = 0,
                   product: str | None = None) -> list[dict[str, Any]]:
    """``n`` posterior draws of the calibration in ``folder`` as scenario overrides."""
    cal = load_calibration(folder)
    if cal.model == "bass":
        raise UsageError(str(folder), "--posterior", "a Bass posterior has no scenario "
                            "parameters to vary (it is what simulated adoption is compared "
                            "with); use a price, media, repurchase or simulator calibration")
    total = int(cal.idata.posterior.sizes["chain"] * cal.idata.posterior.sizes["draw"])
    picks = np.random.default_rng(seed).choice(total, size=n, replace=n > total)
    return [draw_overrides(cal, int(i), product=product) for i in picks]


def draw_overrides(cal: Calibration, draw: int, *, product: str | None = None) -> dict:
    """Kept for callers of the old name; :func:`.overrides.to_overrides` is the one mapping."""
    return to_overrides(cal, draw, product=product)


def priors_from(folder: str | Path) -> dict[str, Prior]:
    """Priors of the agent model's parameters from a component model's posterior in
    ``folder`` (a ``calibrate --out`` folder): each posterior draw mapped onto the scenario
    (:func:`.overrides.to_overrides`), then a prior of the parameter's family fitted to the
    draws' moments. Price gives ``loss_aversion``; media ``awareness_half_life_hours``."""
    cal = load_calibration(folder)
    total = len(cal.draws(cal.parameters[0]))
    picks = np.linspace(0, total - 1, min(total, 1000)).astype(int)
    rows = [] if cal.model == "repurchase" else [to_overrides(cal, int(d)) for d in picks]
    found: dict[str, list[float]] = {}
    for row in rows:
        for path, value in row.items():
            if path.endswith(".loss_aversion.mean"):
                found.setdefault("loss_aversion", []).append(value)
            elif path == "behaviour.awareness_half_life_hours":
                found.setdefault("awareness_half_life_hours", []).append(value)
    if not found:
        raise UsageError(str(folder), "--prior-from", f"a {cal.model} posterior sets none "
                            "of the agent model's parameters; use a price (loss_aversion) or "
                            "media (awareness_half_life_hours) calibration")
    return {n: fitted_to(PRIORS[n].distribution, np.asarray(v)) for n, v in found.items()}
