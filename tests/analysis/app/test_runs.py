"""The app's runs: the experiments' paired comparison, cached, cancellable, with details."""

import numpy as np
import pytest

import scenarios
from analysis.app import export, figures
from analysis.app import levers as lv
from analysis.app.runs import KPIS, Workers, compare_pair
from analysis.experiments.compare import compare
from analysis.experiments.store import RunStore

from ...conftest import MINI


@pytest.fixture(scope="module")
def pair():
    s = scenarios.load(MINI)
    variant = lv.apply(s, lv.levers_of(s).with_budget("video", 800, keep_total=False))
    return s, variant


def test_the_table_is_the_compare_command_s(pair, tmp_path):
    s, variant = pair
    steps = []
    outcome = compare_pair(Workers(1), ("baseline", s), ("variant", variant), replications=3,
                           progress=lambda done, total: steps.append((done, total)))
    assert steps[0] == (0, 6) and steps[-1] == (6, 6)
    cli = compare({"baseline": s, "variant": variant}, "baseline", replications=3,
                  store=RunStore(tmp_path), kpis=KPIS, progress=False)
    ours = outcome.comparison.table.set_index(["plan", "kpi"]).sort_index()
    theirs = cli.table.set_index(["plan", "kpi"]).sort_index()
    assert np.allclose(ours.to_numpy(float), theirs.to_numpy(float), equal_nan=True)
    rows = {r["KPI"]: r for r in export.kpi_rows(outcome)}
    assert set(rows) == {"GMV", "orders", "ROAS (GMV / spend)", "CAC", "new customers",
                         "complaint rate", "spend", "profit"}
    assert rows["spend"]["P(better)"] == "0.00"  # more budget spent: worse on spend
    for make in figures.FIGURES.values():
        assert len(make(outcome).axes) == 2  # baseline and variant side by side
    assert export.report_html(outcome).startswith(b"<!doctype html>")
    assert export.kpi_csv(outcome).splitlines()[0].startswith("kpi,baseline mean")


def test_finished_runs_are_reused_whatever_their_label(pair):
    s, variant = pair
    workers = Workers(1)
    first = compare_pair(workers, ("baseline", s), ("variant 1", variant), replications=2)
    calls = []
    again = compare_pair(workers, ("baseline", s), ("variant 2", variant), replications=2,
                         progress=lambda done, total: calls.append(done))
    assert calls == [4]  # everything came from the cache
    a = first.comparison.table["mean"].to_numpy()
    assert np.allclose(a, again.comparison.table["mean"].to_numpy(), equal_nan=True)


def test_a_cancelled_comparison_returns_nothing(pair):
    s, variant = pair
    assert compare_pair(Workers(1), ("baseline", s), ("variant", variant), replications=2,
                        cancelled=lambda: True) is None


@pytest.mark.slow
def test_the_process_pool_gives_the_in_process_result_and_shares_prefetched_runs(pair):
    from analysis.experiments.compare import paired_tasks

    s, variant = pair
    pool = Workers(2)
    try:
        pool.prefetch(paired_tasks({"baseline": s}, replications=2))
        assert len(pool._running) == 2  # the baseline's runs started in the background
        a = compare_pair(pool, ("baseline", s), ("variant", variant), replications=2)
    finally:
        pool.close()
    assert not pool._running and len(pool._cache) == 4  # waited for, not run again
    b = compare_pair(Workers(1), ("baseline", s), ("variant", variant), replications=2)
    assert a.comparison.table.equals(b.comparison.table)


@pytest.mark.slow  # about 12 s: two workers start and warm
def test_closing_the_pool_stops_a_run_under_way_at_once(pair):
    """Stopping the app does not wait for a large run nobody will see."""
    import time

    from analysis.experiments.tasks import RunTask

    pool = Workers(2)
    try:
        for future in pool.warm():
            future.result()
        workers = list(pool.pool()._processes.values())
        pool.prefetch([RunTask("big", pair[0], 0, population=300_000)])  # about a minute
        time.sleep(1.0)
        started = time.monotonic()
    finally:
        pool.close()
    assert time.monotonic() - started < 3
    assert not any(p.is_alive() for p in workers)
