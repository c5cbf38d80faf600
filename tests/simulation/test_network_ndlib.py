"""The cascade kernel against NDlib's IndependentCascadesModel (a peer implementation).

Same graph, same seed nodes, same per-edge probabilities; 300 runs each. The final-spread
distributions must agree: two-sample Kolmogorov-Smirnov p > 0.001 and means within 4
standard errors. NDlib draws from NumPy's global generator, seeded per run here.
"""

import numpy as np
import pytest
from scipy import stats

from simulation import network as net
from simulation.diffusion import independent_cascade

RUNS = 300
TIE_P = (0.05, 0.3, 0.15)


def _graph():
    rng = np.random.default_rng(11)
    settings = net.NetworkSettings(kol_share=0.01, kol_mean_followers=60, koc_share=0.05,
                                   koc_followers=(5, 20), friend_degree=3, homophily=0.5)
    return net.generate(rng.integers(0, 8, 600), settings, rng=rng)


def _ndlib_spread(graph, seeds, runs):
    import ndlib.models.epidemics as ep
    import ndlib.models.ModelConfig as mc

    g = graph.to_networkx()
    probability = np.array(TIE_P)[graph.tie]
    sizes = []
    for run in range(runs):
        model = ep.IndependentCascadesModel(g, seed=run)
        config = mc.Configuration()
        config.add_model_initial_configuration("Infected", [int(s) for s in seeds])
        for (u, v), p in zip(zip(graph.sources(), graph.indices, strict=True), probability,
                             strict=True):
            config.add_edge_configuration("threshold", (int(u), int(v)), float(p))
        model.set_initial_status(config)
        while True:
            it = model.iteration()
            if it["iteration"] > 0 and it["node_count"][1] == 0:
                break
        sizes.append(it["node_count"][2])
    return np.array(sizes)


@pytest.mark.slow
def test_final_spread_matches_ndlib():
    graph = _graph()
    seeds = np.flatnonzero(graph.role == net.ROLE_KOL)[:3]
    rng = np.random.default_rng(5)
    ours = np.array([independent_cascade(graph, seeds, TIE_P, rng=rng).size
                     for _ in range(RUNS)])
    theirs = _ndlib_spread(graph, seeds, RUNS)
    assert ours.std() > 0 and theirs.std() > 0
    se = np.sqrt(ours.var(ddof=1) / RUNS + theirs.var(ddof=1) / RUNS)
    assert abs(ours.mean() - theirs.mean()) < 4 * se
    assert stats.ks_2samp(ours, theirs).pvalue > 0.001
