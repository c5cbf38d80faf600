"""The response surface of the real-market fit: a known quadratic is recovered exactly, a
surface with no interior maximum falls back to the best point, the refined grid is centred
where asked with half the coarse steps."""

import numpy as np
import pytest

from analysis.realdata.surface import Surface, refined_grid

COARSE = [(p, la) for p in (1.0, 3.0, 6.0) for la in (1.0, 2.0, 3.0)]


def quadratic(point, centre=(np.log(2.2), 1.6)):
    x, y = np.log(point[0]) - centre[0], point[1] - centre[1]
    return -1.5 * x * x + 0.4 * x * y - 0.8 * y * y - 1.2


def test_a_concave_quadratic_is_maximised_where_it_peaks():
    """lpd = -1.5 x^2 + 0.4 x y - 0.8 y^2 around (log 2.2, 1.6): the fit is exact on nine
    points, so the maximum is (2.2, 1.6) to rounding."""
    surface = Surface.fit({p: quadratic(p) for p in COARSE})
    (sensitivity, loss), stationary = surface.maximum()
    assert stationary
    assert sensitivity == pytest.approx(2.2, rel=1e-9) and loss == pytest.approx(1.6, abs=1e-9)
    assert surface.value((2.2, 1.6)) == pytest.approx(-1.2, abs=1e-9)


def test_a_maximum_outside_the_region_falls_back_to_the_best_point():
    """The peak at loss aversion 0.2 lies below the grid's 1-3: the best evaluated point
    (on the edge, loss aversion 1) is returned, flagged as not the stationary point."""
    values = {p: quadratic(p, centre=(np.log(2.2), 0.2)) for p in COARSE}
    point, stationary = Surface.fit(values).maximum()
    assert not stationary and point == max(values, key=values.get) and point[1] == 1.0


def test_a_surface_that_is_not_concave_falls_back():
    values = {p: -quadratic(p) for p in COARSE}
    point, stationary = Surface.fit(values).maximum()
    assert not stationary and point == max(values, key=values.get)


def test_too_few_points_are_refused():
    with pytest.raises(ValueError, match=">= 6 points"):
        Surface.fit({p: 0.0 for p in COARSE[:5]})


def test_the_refined_grid_is_centred_with_half_the_coarse_steps():
    """Coarse log steps log 3 and log 2 (mean 0.896), loss steps 1: the fine grid around
    (2, 1.5) steps exp(0.448) and 0.5; its loss aversion stays >= 0.25 + a step."""
    grid = refined_grid((2.0, 1.5), COARSE)
    assert len(grid) == 9 and (2.0, 1.5) in grid
    step = np.exp(0.5 * np.log(6.0) / 2)
    assert sorted({p for p, _ in grid}) == pytest.approx([2 / step, 2.0, 2 * step], rel=1e-3)
    assert sorted({la for _, la in grid}) == [1.0, 1.5, 2.0]
    low = refined_grid((2.0, 0.3), COARSE)
    assert min(la for _, la in low) == pytest.approx(0.25)
