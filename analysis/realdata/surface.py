r"""A quadratic response surface of the training log density over the two pooled parameters.

The agent model's likelihood on store data has no closed form; each evaluation is a
simulation of every store. The fit evaluates a coarse grid, fits
:math:`\ell(x, y) \approx c + b^\top u + u^\top A u` with :math:`u = (\log\beta, \lambda)`
(price sensitivity on the log scale, where its effect is multiplicative) by least squares,
evaluates a finer grid centred at the surface's maximum, refits on every point, and takes
that surface's maximum as the estimate. A surface that is not concave, or whose maximum
lies outside the evaluated region, falls back to the best point evaluated (inside the
region, on its edge).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

Point = tuple[float, float]  # (price sensitivity, loss aversion)


def _coordinates(points: Sequence[Point]) -> np.ndarray:
    p = np.asarray(points, dtype=float)
    return np.column_stack([np.log(p[:, 0]), p[:, 1]])


def _features(u: np.ndarray) -> np.ndarray:
    x, y = u[:, 0], u[:, 1]
    return np.column_stack([np.ones_like(x), x, y, x * x, x * y, y * y])


@dataclass(frozen=True)
class Surface:
    """``value(u) = c + b.u + u.A.u`` in the coordinates (log price sensitivity, loss
    aversion), fitted to ``evaluated``."""

    coefficients: np.ndarray  # (6,) c, b_x, b_y, a_xx, a_xy, a_yy
    evaluated: Mapping[Point, float]

    @classmethod
    def fit(cls, evaluated: Mapping[Point, float]) -> Surface:
        points = list(evaluated)
        if len(points) < 6:
            raise ValueError(f"a quadratic surface needs >= 6 points, got {len(points)}")
        design = _features(_coordinates(points))
        coef, *_ = np.linalg.lstsq(design, np.array([evaluated[p] for p in points]),
                                   rcond=None)
        return cls(coef, dict(evaluated))

    def value(self, point: Point) -> float:
        return float((_features(_coordinates([point])) @ self.coefficients)[0])

    def hessian(self) -> np.ndarray:
        _, _, _, axx, axy, ayy = self.coefficients
        return np.array([[2 * axx, axy], [axy, 2 * ayy]])

    def maximum(self) -> tuple[Point, bool]:
        """The surface's maximum inside the evaluated region, and whether it is the
        surface's stationary point (False: the best evaluated point, the fallback)."""
        u = _coordinates(list(self.evaluated))
        low, high = u.min(axis=0), u.max(axis=0)
        h = self.hessian()
        if np.all(np.linalg.eigvalsh(h) < 0):
            stationary = np.linalg.solve(h, -self.coefficients[1:3])
            if np.all((stationary >= low) & (stationary <= high)):
                return (float(np.exp(stationary[0])), float(stationary[1])), True
        best = max(self.evaluated, key=self.evaluated.get)
        return best, False


def refined_grid(centre: Point, coarse: Sequence[Point], *, shrink: float = 0.5,
                 min_loss_aversion: float = 0.25) -> list[Point]:
    """A 3 x 3 grid centred at ``centre`` whose steps are ``shrink`` times the coarse grid's
    mean steps (log scale for price sensitivity); loss aversion kept >= ``min_loss_aversion``."""
    u = _coordinates(coarse)
    steps = [shrink * np.diff(np.unique(u[:, k])).mean() for k in range(2)]
    x0, y0 = np.log(centre[0]), centre[1]
    y0 = max(y0, min_loss_aversion + steps[1])
    return [(round(float(np.exp(x0 + i * steps[0])), 4), round(float(y0 + j * steps[1]), 4))
            for i in (-1, 0, 1) for j in (-1, 0, 1)]
