"""The fast engine against the per-agent Mesa reference: same KPI distributions.

Both engines run the test market (tests/data/mini.toml: every cost model and event kind)
over 30 seeds each. They use different random streams and a different order of draws, so
single runs differ; their KPI distributions must not. For each KPI the difference of means
must be within 4 standard errors (sqrt(s1^2/n + s2^2/n)): a false alarm has probability
about 6e-5 per KPI. The orders distributions are also compared with a two-sample
Kolmogorov-Smirnov test (p > 0.001).
"""

import numpy as np
import pytest
from scipy import stats

import scenarios
import simulation

from ..conftest import MINI

KPIS = ("spend", "impressions", "clicks", "orders", "gmv", "new_customers", "complaints",
        "optouts", "repeat_customers")


def _kpis(engine, seeds):
    s = scenarios.load(MINI)
    rows = [simulation.run(s, seed=seed, engine=engine).summary for seed in seeds]
    return {k: np.array([r[k] for r in rows], dtype=float) for k in KPIS}


def _compare(fast, ref):
    n = len(fast["orders"])
    for kpi in KPIS:
        a, b = fast[kpi], ref[kpi]
        se = np.sqrt(a.var(ddof=1) / n + b.var(ddof=1) / n)
        assert abs(a.mean() - b.mean()) <= 4 * se + 1e-9, (kpi, a.mean(), b.mean(), se)


@pytest.mark.slow
def test_fast_engine_matches_the_per_agent_reference():
    fast = _kpis("array", range(100, 130))
    ref = _kpis("agents", range(200, 230))
    _compare(fast, ref)
    assert stats.ks_2samp(fast["orders"], ref["orders"]).pvalue > 0.001
    assert fast["orders"].mean() > 30  # enough activity for the comparison to bite


def test_fast_engine_matches_the_reference_smoke():
    """The same comparison on 6 seeds each, in the default suite."""
    _compare(_kpis("array", range(100, 106)), _kpis("agents", range(200, 206)))
