"""Sobol' and Morris sensitivity: closed forms through the same core, and the simulator."""

import json
import math

import numpy as np
import pytest
from matplotlib.figure import Figure

from analysis.sensitivity import (
    SensitivityResult,
    Uncertainty,
    morris,
    morris_indices,
    sobol,
    sobol_indices,
)

# The Ishigami function (Ishigami & Homma 1990) with a = 7, b = 0.1 on [-pi, pi]^3 has
# closed-form variance components (Sobol' & Levitan 1999; Marrel et al. 2009):
# V1 = (1 + b pi^4 / 5)^2 / 2, V2 = a^2 / 8, V3 = 0, V13 = 8 b^2 pi^8 / 225.
A, B = 7.0, 0.1
V1 = 0.5 * (1 + B * math.pi**4 / 5) ** 2
V2 = A**2 / 8
V13 = 8 * B**2 * math.pi**8 / 225
V = V1 + V2 + V13
ISHIGAMI_S1 = (V1 / V, V2 / V, 0.0)
ISHIGAMI_ST = ((V1 + V13) / V, V2 / V, V13 / V)


def ishigami(x: np.ndarray) -> np.ndarray:
    return np.sin(x[:, 0]) + A * np.sin(x[:, 1]) ** 2 + B * x[:, 2] ** 4 * np.sin(x[:, 0])


def value(result: SensitivityResult, kpi: str, parameter: str, index: str) -> tuple[float, float]:
    t = result.indices
    row = t[(t["kpi"] == kpi) & (t["parameter"] == parameter) & (t["index"] == index)]
    assert len(row) == 1
    return float(row["value"].iloc[0]), float(row["conf"].iloc[0])


def test_closed_form_matches_the_published_indices():
    assert np.allclose(ISHIGAMI_S1, (0.3139, 0.4424, 0.0), atol=1e-4)
    assert np.allclose(ISHIGAMI_ST, (0.5576, 0.4424, 0.2437), atol=1e-4)


def test_sobol_reproduces_ishigami_indices():
    # 2^13 base samples (40,960 evaluations): SALib's 95% bootstrap half-widths are then
    # 0.01-0.03. The estimate must lie within its own interval of the analytic value, and
    # within 0.01 absolutely (the quasi-random design converges faster than the bootstrap
    # suggests; measured errors are below 0.002).
    names = ["x1", "x2", "x3"]
    result = sobol_indices(names, [(-math.pi, math.pi)] * 3, lambda x: {"y": ishigami(x)},
                           n=2**13, seed=1)
    for index, truth in (("S1", ISHIGAMI_S1), ("ST", ISHIGAMI_ST)):
        for name, expected in zip(names, truth, strict=True):
            got, conf = value(result, "y", name, index)
            assert abs(got - expected) <= conf, (index, name, got, expected, conf)
            assert abs(got - expected) < 0.01, (index, name, got, expected)
    assert len(result.samples) == 2**13 * (3 + 2)


def test_sobol_is_reproducible_from_its_seed():
    def run(seed):
        return sobol_indices(["x1", "x2", "x3"], [(-math.pi, math.pi)] * 3,
                             lambda x: {"y": ishigami(x)}, n=256, seed=seed).indices

    assert run(4).equals(run(4))
    assert not run(4).equals(run(5))


def test_morris_ranks_an_inert_parameter_last():
    # y = 3 a + b^2 (c absent): every elementary effect of c is exactly zero, a's is 3.
    result = morris_indices(["a", "b", "c"], [(0.0, 1.0)] * 3,
                            lambda x: {"y": 3 * x[:, 0] + x[:, 1] ** 2}, n=20, seed=0)
    t = result.indices[result.indices["index"] == "mu_star"].set_index("parameter")["value"]
    assert list(t.sort_values(ascending=False).index) == ["a", "b", "c"]
    assert t["c"] == pytest.approx(0.0, abs=1e-12)
    assert t["a"] == pytest.approx(3.0)


def test_sobol_on_the_simulator_separates_inert_from_effective(mini, tmp_path):
    # mini.toml has no [network]: social proof is identically zero, so social_weight cannot
    # change a run (and with common random numbers, runs are then identical). The video
    # budget buys most of the paid impressions, so it must explain most of the variance.
    inert, budget = "behaviour.social_weight", "channels.video.budget"
    result = sobol(mini(), [Uncertainty(inert, 0.0, 5.0), Uncertainty(budget, 50.0, 1000.0)],
                   kpis=("gmv",), n=16, progress=False)
    st, conf = value(result, "gmv", inert, "ST")
    assert abs(st) <= conf + 1e-12
    s1, conf = value(result, "gmv", inert, "S1")
    assert abs(s1) <= conf + 1e-12
    st, conf = value(result, "gmv", budget, "ST")
    assert st - conf > 0.3
    assert len(result.samples) == 16 * 4

    path = tmp_path / "sobol.json"
    result.to_json(path)
    saved = json.loads(path.read_text())
    assert saved["method"] == "sobol" and len(saved["indices"]) == 4
    assert saved["settings"]["uncertainties"][1] == {"path": budget, "low": 50.0, "high": 1000.0}
    assert isinstance(result.plot(), Figure)


def test_evaluate_gets_every_point_on_the_same_seeds(mini):
    calls = []

    def evaluate(runs, seeds):
        calls.append((runs, seeds))
        return [{"gmv": s.behaviour.awareness_weight * 10, "profit": 1.0} for s in runs]

    result = morris(mini(), [Uncertainty("behaviour.awareness_weight", 0.0, 2.0),
                             Uncertainty("behaviour.social_weight", 0.0, 2.0)],
                    n=4, replications=2, evaluate=evaluate, progress=False)
    (runs, seeds), = calls
    assert len(runs) == len(seeds) == 4 * 3 * 2
    assert len(set(seeds)) == 2 and seeds[:2] * 12 == seeds  # common random numbers
    mu_star, _ = value(result, "gmv", "behaviour.awareness_weight", "mu_star")
    # SALib's effects are per step on the unit box (scaled=False): 10 x the range of 2.
    assert mu_star == pytest.approx(10 * 2.0)
    assert value(result, "gmv", "behaviour.social_weight", "mu_star")[0] == 0.0
    assert isinstance(result.plot(), Figure)


def test_integer_fields_are_rounded(mini):
    seen = []

    def evaluate(runs, seeds):
        seen.extend(s.channels[0].frequency_cap for s in runs)
        return [{"gmv": 1.0} for _ in runs]

    sobol(mini(), [Uncertainty("channels.video.frequency_cap", 1, 6)], kpis=("gmv",), n=4,
          evaluate=evaluate, progress=False)
    assert all(isinstance(v, int) and 1 <= v <= 6 for v in seen)


@pytest.mark.parametrize(("uncertainties", "message"), [
    ([], "no uncertainties"),
    ([Uncertainty("behaviour.no_such_field", 0, 1)], "no such field `behaviour.no_such_field`"),
    ([Uncertainty("channels.tv.budget", 0, 1)], "no list item named 'tv'"),
    ([Uncertainty("behaviour.social_weight", 0, 50)], "behaviour.social_weight"),
    ([Uncertainty("behaviour.social_weight", 0, 1)] * 2, "repeated"),
    (Uncertainty("behaviour.social_weight", 0, 1), "must be a list"),
])
def test_bad_uncertainties_are_refused(mini, uncertainties, message):
    with pytest.raises(ValueError, match=message):
        sobol(mini(), uncertainties, evaluate=lambda r, s: [], progress=False)


def test_bad_arguments_are_refused(mini):
    with pytest.raises(ValueError, match="low .* must be below high"):
        Uncertainty("behaviour.social_weight", 2.0, 1.0)
    with pytest.raises(ValueError, match="finite"):
        Uncertainty("behaviour.social_weight", 0.0, math.inf)
    ok = [Uncertainty("behaviour.social_weight", 0.0, 1.0)]
    fake = lambda runs, seeds: [{"gmv": 1.0} for _ in runs]  # noqa: E731
    with pytest.raises(ValueError, match="power of two"):
        sobol(mini(), ok, n=48, evaluate=fake, progress=False)
    with pytest.raises(ValueError, match="unknown KPI 'revenue'"):
        sobol(mini(), ok, kpis=("revenue",), n=4, evaluate=fake, progress=False)
    with pytest.raises(ValueError, match="replications"):
        morris(mini(), ok, replications=0, evaluate=fake, progress=False)
    with pytest.raises(ValueError, match="kpis"):
        morris(mini(), ok, kpis="gmv", evaluate=fake, progress=False)
    with pytest.raises(ValueError, match="returned 0 results"):
        sobol(mini(), ok, n=4, evaluate=lambda runs, seeds: [], progress=False)


@pytest.mark.long
def test_morris_on_the_simulator_with_replications(mini):
    # Two replications per point on a 10,000-consumer market; the inert parameter's
    # elementary effects are exactly zero under common random numbers.
    result = morris(mini(), [Uncertainty("behaviour.social_weight", 0.0, 5.0),
                             Uncertainty("segments.millennial.base_utility.mean", -6.0, -4.0),
                             Uncertainty("channels.video.budget", 50.0, 1000.0)],
                    kpis=("gmv", "profit"), n=8, replications=2, population=10_000,
                    progress=False)
    for kpi in ("gmv", "profit"):
        t = result.indices[(result.indices["kpi"] == kpi)
                           & (result.indices["index"] == "mu_star")].set_index("parameter")
        assert t.loc["behaviour.social_weight", "value"] == 0.0
        assert t["value"].idxmin() == "behaviour.social_weight"
        for name in ("segments.millennial.base_utility.mean", "channels.video.budget"):
            assert t.loc[name, "value"] - t.loc[name, "conf"] > 0
