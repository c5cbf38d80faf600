"""From a posterior draw to scenario field overrides.

Each posterior draw of a calibration becomes a set of dotted-path overrides for
``scenarios.with_overrides``, so a forecast can be run once per draw and carry the
calibration's uncertainty. Mappings (field names from ``scenarios/schema.py``):

- ``repurchase``: ``products.<name>.repurchase_days = 7 alpha / r`` (see
  :mod:`analysis.calibration.repurchase`).
- ``price``: ``segments.<generation>.loss_aversion.mean = loss_aversion`` for every
  generation (the panel does not identify generations), and
  ``behaviour.reference_smoothing = 1 - ref_memory`` (the simulator's weight of the price
  paid is the panel model's weight of the last price).
- ``media``: ``behaviour.awareness_half_life_hours`` from the spend-weighted mean carry-over
  :math:`\\bar\\alpha` per period of :math:`h` hours: :math:`h \\ln 2 / -\\ln \\bar\\alpha`.
- ``simulator``: the agent model's own parameters, by
  :func:`analysis.calibration.agent_model.value_overrides` on the scenario values saved in the
  calibration's meta.
- ``bass``: none; the simulator's diffusion comes from its network, and a Bass fit is the
  target its runs are compared with, not an input.

Any other model is refused (a new model must say how its draws map onto a scenario).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .agent_model import PARAMETERS, value_overrides
from .base import Calibration
from .repurchase import repurchase_days


def to_overrides(calibration: Calibration, draw: int, *, product: str | None = None,
                 generations: tuple[str, ...] | None = None) -> dict[str, Any]:
    """Scenario overrides for posterior draw ``draw`` (0-based over chains x draws).

    Parameters
    ----------
    product
        The scenario product that a repurchase calibration describes (required for it).
    generations
        Segments to receive the loss aversion; default: every generation of the schema.
    """
    def value(name: str) -> np.ndarray:
        draws = calibration.draws(name)
        if not 0 <= draw < len(draws):
            raise IndexError(f"draw {draw} out of range: the posterior has {len(draws)}")
        return draws[draw]

    kind = calibration.model
    if kind == "repurchase":
        if not product:
            raise ValueError("a repurchase calibration needs product= (the scenario product "
                             "whose repurchase_days it sets)")
        days = float(repurchase_days(value("r"), value("alpha")))
        return {f"products.{product}.repurchase_days": days}
    if kind == "price":
        if generations is None:
            from scenarios import GENERATIONS

            generations = tuple(GENERATIONS)
        lam = float(value("loss_aversion"))
        out: dict[str, Any] = {f"segments.{g}.loss_aversion.mean": lam for g in generations}
        out["behaviour.reference_smoothing"] = float(1.0 - value("ref_memory"))
        return out
    if kind == "media":
        spend = np.asarray(calibration.meta.get("spend_share") or
                           np.ones(len(calibration.meta["channels"])))
        alpha = float(np.dot(value("adstock_alpha"), spend / spend.sum()))
        hours = 24.0 * float(calibration.meta["days_per_period"])
        if alpha <= 0:
            return {}
        return {"behaviour.awareness_half_life_hours":
                min(hours * math.log(2) / -math.log(alpha), 24.0 * 365)}
    if kind == "simulator":
        values = {p: float(value(p)) for p in PARAMETERS if p in calibration.idata.posterior}
        return value_overrides(values, calibration.meta)
    if kind == "bass":
        return {}
    raise ValueError(f"no scenario mapping for a {kind!r} calibration; known: repurchase, "
                     "price, media, simulator, bass")
