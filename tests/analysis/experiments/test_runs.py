"""The run store, resuming, common random numbers, and identical results on any workers."""

import os
import signal
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import scenarios
from analysis.experiments import runner, tasks
from analysis.experiments.compare import compare, summarise
from analysis.experiments.store import RunStore, StaleRunsWarning
from analysis.experiments.tasks import RunTask

from ...conftest import MINI


@pytest.fixture(scope="module")
def mini():
    return scenarios.load(MINI)


def sweep(mini, n=6, plan="base"):
    return [RunTask(plan, mini, seed) for seed in range(n)]


def stable(table: pd.DataFrame) -> pd.DataFrame:
    return table.drop(columns="wall_seconds").sort_values("key").reset_index(drop=True)


def test_store_keeps_each_run_and_answers_sql(tmp_path, mini):
    store = RunStore(tmp_path)
    rows = runner.run_tasks(sweep(mini, 3), store, progress=False)
    assert len(rows) == 3 and store.done() == set(rows["key"])
    top = store.query("SELECT seed, gmv FROM runs ORDER BY gmv DESC LIMIT 1")
    assert top["gmv"].iloc[0] == rows["gmv"].max()


def test_an_interrupted_sweep_resumes_without_redoing_finished_runs(tmp_path, mini,
                                                                    monkeypatch):
    store, calls = RunStore(tmp_path), []
    real, grouping = tasks.execute_batch, runner.batches

    def flaky(batch):
        calls.extend(t.seed for t in batch)
        if len(calls) > 4:
            raise KeyboardInterrupt
        return real(batch)

    monkeypatch.setattr(runner, "batches", lambda todo, **kw: grouping(todo, max_worlds=2))
    monkeypatch.setattr(runner, "execute_batch", flaky)
    with pytest.raises(KeyboardInterrupt):
        runner.run_tasks(sweep(mini), store, progress=False)
    assert len(store.done()) == 4  # two batches of two finished, the third interrupted
    calls.clear()
    rows = runner.run_tasks(sweep(mini), store, progress=False)
    assert len(rows) == 6 and sorted(calls) == [4, 5]  # only the unfinished runs
    monkeypatch.setattr(runner, "execute_batch", real)
    fresh = runner.run_tasks(sweep(mini), RunStore(tmp_path / "fresh"), progress=False)
    pd.testing.assert_frame_equal(stable(rows), stable(fresh))


def test_a_plan_compared_with_itself_differs_by_exactly_zero(tmp_path, mini):
    c = compare({"a": mini, "b": mini}, "a", replications=4, store=RunStore(tmp_path),
                progress=False)
    b = c.table[c.table["plan"] == "b"]
    assert (b["diff"] == 0).all() and (b["diff_lo"] == 0).all()
    assert (b["p_better"] == 0.5).all()  # every pair a tie: no evidence either way


def test_p_better_on_a_known_paired_sample_counts_a_tie_as_one_half():
    """By hand: GMV differences 2, 0, -1, 5, 0 are 2 wins and 2 ties in 5 pairs, so
    (2 + 2/2) / 5 = 0.6; spend (lower is better) -1, -1, -1, 1, 0 gives (3 + 1/2) / 5 = 0.7;
    ROAS 1, -0.5, undefined, 0, 0 leaves the undefined pair out: (1 + 2/2) / 4 = 0.5."""
    nan = float("nan")
    runs = pd.DataFrame({
        "plan": ["a"] * 5 + ["b"] * 5, "seed": list(range(5)) * 2, "draw": -1,
        "gmv": [10, 20, 30, 40, 50, 12, 20, 29, 45, 50],
        "spend": [5, 5, 5, 5, 5, 4, 4, 4, 6, 5],
        "roas": [1, 1, nan, 1, 1, 2, 0.5, 1, 1, 1],
    })
    kpis = ("gmv", "spend", "roas")
    b = summarise(runs, "a", kpis).set_index(["plan", "kpi"]).loc["b"]
    assert b["p_better"].to_dict() == {"gmv": 0.6, "spend": 0.7, "roas": 0.5}
    assert b.loc["gmv", "diff"] == pytest.approx(1.2)
    a = summarise(runs, "b", kpis).set_index(["plan", "kpi"]).loc["a"]
    assert (a["p_better"] + b["p_better"]).tolist() == [1.0, 1.0, 1.0]  # ties split evenly


def test_common_random_numbers_shrink_the_difference_noise(tmp_path, mini):
    """Pairing by seed: Var(A - B) is far below Var(A) + Var(B) when B is a small change."""
    other = scenarios.with_overrides(mini, {"channels.search.budget": 180.0})
    c = compare({"base": mini, "more_search": other}, "base", replications=12,
                store=RunStore(tmp_path), progress=False, kpis=("gmv",))
    wide = c.runs.pivot_table(index="seed", columns="plan", values="gmv")
    paired = (wide["more_search"] - wide["base"]).var()
    unpaired = wide["more_search"].var() + wide["base"].var()
    assert paired < 0.5 * unpaired


def test_rows_do_not_depend_on_how_runs_are_batched_or_on_the_workers(tmp_path, mini,
                                                                       monkeypatch):
    """Plans differing in budgets on shared seeds, with posterior-draw overrides: run one by
    one, as paired batches on one worker, and on two workers, every row is the same (the
    batch's worlds draw from their own runs' streams)."""
    other = scenarios.with_overrides(mini, {"channels.search.budget": 180.0})
    work = [RunTask(plan, s, seed, draw=seed % 2,
                    overrides={"behaviour.awareness_weight": 1.0 + seed % 2})
            for seed in range(4) for plan, s in (("base", mini), ("more", other))]
    assert [len(g) for g in runner.batches(work)] == [8]
    assert [len(g) for g in runner.batches(work, workers=2)] == [4, 4]
    batched = runner.run_tasks(work, RunStore(tmp_path / "batched"), progress=False)
    two = runner.run_tasks(work, RunStore(tmp_path / "two"), workers=2, progress=False)
    grouping = runner.batches
    monkeypatch.setattr(runner, "batches", lambda todo, **kw: grouping(todo, max_worlds=1))
    alone = runner.run_tasks(work, RunStore(tmp_path / "alone"), progress=False)
    pd.testing.assert_frame_equal(stable(alone), stable(batched))
    pd.testing.assert_frame_equal(stable(alone), stable(two))


def test_only_runs_that_can_share_a_pass_are_batched(mini):
    """Another population, another calendar or real-time budget control run apart; the
    consumer limit caps a batch."""
    bigger = scenarios.with_overrides(mini, {"market.population": 2 * mini.market.population})
    days = scenarios.with_overrides(mini, {"calendar.days": mini.calendar.days + 1})
    work = [RunTask("a", mini, 1), RunTask("b", bigger, 1), RunTask("c", days, 1),
            RunTask("d", mini, 2), RunTask("e", bigger, 2)]
    assert [[t.plan for t in g] for g in runner.batches(work)] == [["a", "d"], ["b", "e"],
                                                                   ["c"]]
    capped = runner.batches(work, max_consumers=2 * mini.market.population)
    assert [[t.plan for t in g] for g in capped] == [["a", "d"], ["b"], ["e"], ["c"]]
    even = runner.batches([RunTask("x", mini, s) for s in range(40)], workers=2,
                          max_worlds=16)
    assert [len(g) for g in even] == [10, 10, 10, 10]  # two whole rounds of two workers


@pytest.mark.slow
def test_a_local_dask_cluster_gives_the_serial_results(tmp_path, mini):
    serial = runner.run_tasks(sweep(mini), RunStore(tmp_path / "a"), progress=False)
    dask = runner.run_tasks(sweep(mini), RunStore(tmp_path / "b"), workers=2, progress=False)
    pd.testing.assert_frame_equal(stable(serial), stable(dask))


def _start(args, log):
    return subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


@pytest.fixture
def dask_cluster(tmp_path):
    """A real ``dask scheduler`` and two ``dask worker`` processes on loopback."""
    dask = str(Path(sys.executable).parent / "dask")
    file = tmp_path / "scheduler.json"
    log = open(tmp_path / "dask.log", "w")  # noqa: SIM115 - closed below
    procs = [_start([dask, "scheduler", "--host", "127.0.0.1", "--port", "0",
                     "--no-dashboard", "--scheduler-file", str(file)], log)]
    deadline = time.time() + 60
    while not file.exists() and time.time() < deadline:
        time.sleep(0.2)
    for _ in range(2):
        procs.append(_start([dask, "worker", "--scheduler-file", str(file), "--nworkers", "1",
                             "--nthreads", "1", "--no-dashboard", "--no-nanny"], log))
    from dask.distributed import Client

    address = __import__("json").loads(file.read_text())["address"]
    with Client(address, timeout=60) as client:
        client.wait_for_workers(2, timeout=60)
    yield address, procs
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
            p.wait(timeout=30)
    log.close()


@pytest.mark.slow
def test_a_sweep_on_a_real_dask_cluster_matches_the_local_run(tmp_path, mini, dask_cluster):
    address, _ = dask_cluster
    local = runner.run_tasks(sweep(mini), RunStore(tmp_path / "local"), progress=False)
    remote = runner.run_tasks(sweep(mini), RunStore(tmp_path / "remote"), scheduler=address,
                              progress=False)
    pd.testing.assert_frame_equal(stable(local), stable(remote))


@pytest.mark.slow
def test_a_worker_killed_mid_sweep_loses_no_run(tmp_path, mini, dask_cluster):
    address, procs = dask_cluster
    longer = scenarios.with_overrides(mini, {"market.population": 50000})
    work = [RunTask("long", longer, seed) for seed in range(24)]
    store = RunStore(tmp_path / "store")
    killed = []

    def kill_after_three_runs():
        deadline = time.time() + 120
        while len(store.done()) < 3 and time.time() < deadline:
            time.sleep(0.05)
        killed.append(len(store.done()))
        os.killpg(procs[1].pid, signal.SIGKILL)

    killer = threading.Thread(target=kill_after_three_runs)
    killer.start()
    rows = runner.run_tasks(work, store, scheduler=address, progress=False)
    killer.join()
    assert procs[1].wait(timeout=30) != 0  # the worker really died
    assert killed[0] < len(work)  # ... while runs were still to do
    assert len(rows) == len(work) and len(store.done()) == len(work)
    serial = runner.run_tasks(work[:3], RunStore(tmp_path / "check"), progress=False)
    got = stable(rows).set_index("key").loc[serial["key"]].reset_index()
    pd.testing.assert_frame_equal(stable(serial), got.sort_values("key").reset_index(drop=True))
    assert np.isfinite(rows["gmv"]).all()


def _key_in_a_copy(tree: Path, scenario_file: Path) -> str:
    """A task's key computed by a fresh interpreter that imports the packages from ``tree``."""
    code = ("import scenarios; from analysis.experiments.tasks import RunTask; "
            f"print(RunTask('a', scenarios.load({str(scenario_file)!r}), 1).key)")
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run([sys.executable, "-c", code], cwd=tree, env=env, check=True,
                         capture_output=True, text=True)
    return out.stdout.strip()


def test_a_code_change_changes_every_run_key(tmp_path):
    """The package version stays 0.1.0 through every edit, so it cannot be the key: a copy
    of the installed source with one comment added to a kernel must key its runs anew."""
    import shutil

    import analysis
    import simulation

    tree = tmp_path / "src"
    for package in (scenarios, simulation, analysis):
        root = Path(package.__file__).parent
        shutil.copytree(root, tree / root.name, ignore=shutil.ignore_patterns("__pycache__"))
    before = _key_in_a_copy(tree, MINI)
    assert _key_in_a_copy(tree, MINI) == before  # stable while nothing changes
    with open(tree / "simulation" / "kernels.py", "a") as f:
        f.write("\n# an edit\n")
    assert _key_in_a_copy(tree, MINI) != before


def test_an_edited_edge_list_changes_the_run_key(tmp_path):
    edges = tmp_path / "edges.csv"
    edges.write_text("follower,followee\n1,0\n2,0\n")
    s = scenarios.load(MINI, {"network.edges": str(edges)})
    before = RunTask("a", s, 1).key
    assert RunTask("a", s, 1).key == before
    edges.write_text("follower,followee\n1,0\n2,0\n3,0\n")
    assert RunTask("a", s, 1).key != before


def test_a_store_with_runs_of_another_version_says_so(tmp_path, mini):
    store = RunStore(tmp_path)
    runner.run_tasks(sweep(mini, 2), store, progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        RunStore(tmp_path)  # every run is of this version: nothing to say
    store.write("old-1", {"key": "old-1", "code": "0123", "gmv": 1.0})
    store.write("older-1", {"key": "older-1", "gmv": 1.0})  # from before rows had ``code``
    with pytest.warns(StaleRunsWarning, match="holds 2 runs made by another version"):
        RunStore(tmp_path)
