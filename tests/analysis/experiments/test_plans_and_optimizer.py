"""Budget plans, the optimizer's constraints and answers, the report, and the CLI."""

import json
import warnings

import numpy as np
import pytest

import scenarios
from analysis.cli import main
from analysis.experiments import runner
from analysis.experiments.optimize import Constraints, SearchOptions, optimize, project
from analysis.experiments.plans import BudgetPlan, load_plan, plan_of
from analysis.experiments.store import RunStore
from analysis.report import build
from scenarios import ScenarioError, budget_levers

from ...conftest import MINI


@pytest.fixture(scope="module")
def mini():
    return scenarios.load(MINI)


def test_a_toml_plan_sets_budgets_and_phase_weights(tmp_path, mini):
    path = tmp_path / "plan.toml"
    path.write_text('[plan]\nname = "p"\nbudget = 1000\n[plan.allocation]\nvideo = 600\n'
                    'search = { warm_up = 100, peak = 300 }\n')
    s = load_plan(path).apply(mini)
    budgets = {c.name: c.budget for c in s.channels}
    # crm, a paid channel left out, gets nothing; the affiliate (commission) keeps its cap
    assert budgets == {"video": 600, "search": 400, "affiliate": 300, "crm": 0}
    assert s.channels[1].phase_weights == {"warm_up": 100, "peak": 300}


def test_plans_move_only_paid_budgets_and_leave_commission_channels_alone(mini):
    """A commission channel is paid a share of the GMV it brings: its budget only caps the
    commissions, so it is no lever of a plan, the optimizer or the controller."""
    assert budget_levers(mini) == ["video", "search", "crm"]
    current = plan_of(mini)
    assert current.channel_totals() == {"video": 400, "search": 150, "crm": 40}
    assert current.budget == 590
    assert current.apply(mini) == mini  # the plan a scenario holds changes nothing
    with pytest.raises(ScenarioError, match="commission channel") as err:
        BudgetPlan("p", 890, {"video": 590, "affiliate": 300}).apply(mini)
    assert err.value.field == "plan.allocation.affiliate"


def test_a_csv_plan(tmp_path, mini):
    path = tmp_path / "plan.csv"
    path.write_text("channel,phase,amount\nvideo,,500\nsearch,peak,200\n")
    plan = load_plan(path)
    assert plan.budget == 700 and plan.channel_totals() == {"video": 500, "search": 200}
    assert plan.apply(mini).channels[0].budget == 500


@pytest.mark.parametrize("allocation, budget, field, words", [
    ({"video": 600, "tv": 400}, 1000, "plan.allocation.tv", "unknown channel"),
    ({"video": 600, "search": 300}, 1000, "plan.allocation", "sum to 900"),
    ({"video": -5, "search": 1005}, 1000, "plan.allocation.video", ">= 0"),
    ({"video": {"launch": 1000}}, 1000, "plan.allocation.video.launch", "unknown phase"),
    ({"video": 1000}, float("nan"), "plan.budget", "> 0"),
])
def test_bad_plans_are_refused_before_any_run(mini, allocation, budget, field, words):
    with pytest.raises(ScenarioError) as err:
        BudgetPlan("bad", budget, allocation, "plan.toml").apply(mini)
    assert err.value.field == field and words in str(err.value)


@pytest.mark.parametrize("constraints, words", [
    (Constraints(1000, floors={"video": 0.7, "search": 0.5}), "infeasible"),
    (Constraints(1000, floors={"tv": 0.1}), "unknown channel"),
    (Constraints(1000, floors={"video": 0.5}, caps={"video": 0.4}), "above cap"),
    (Constraints(1000, caps={c: 0.3 for c in ("video", "search", "crm")}),
     "cannot be spent"),
    (Constraints(1000, floors={"affiliate": 0.1}), "unknown channel"),  # not a lever
    (Constraints(0), "> 0"),
])
def test_infeasible_constraints_are_refused(mini, constraints, words):
    with pytest.raises(ScenarioError, match=words):
        constraints.bounds(budget_levers(mini))


def test_projection_stays_in_bounds_and_sums_to_one():
    rng = np.random.default_rng(0)
    for _ in range(200):
        k = rng.integers(2, 7)
        lo = rng.uniform(0, 1 / k, k) * 0.9
        hi = np.maximum(lo, rng.uniform(1 / k, 1, k))
        s = project(rng.exponential(size=k), lo, hi)
        assert s.sum() == pytest.approx(1.0)
        assert (s >= lo - 1e-9).all() and (s <= hi + 1e-9).all()


@pytest.fixture(scope="module")
def optimized(mini, tmp_path_factory):
    """Mini with a channel that cannot sell (CTR ~0, no awareness): every unit spent on it
    is lost, so its response curve falls."""
    s = scenarios.with_overrides(mini, {"channels.crm.ctr": 1e-9,
                                        "channels.crm.awareness_per_impression": 0.0})
    store = RunStore(tmp_path_factory.mktemp("opt"))
    return optimize(s, Constraints(890, floors={"crm": 0.05}), store,
                    options=SearchOptions(evaluations=16, replications=3, final_replications=6,
                                          search_population=None, progress=False))


def test_the_optimizer_respects_constraints_and_recommends_its_best_evaluation(optimized):
    rec = optimized.recommended.channel_totals()
    assert list(rec) == ["video", "search", "crm"]  # paid channels only: no affiliate
    assert sum(rec.values()) == pytest.approx(890)
    assert rec["crm"] >= 0.05 * 890 - 1e-6  # its floor
    history = optimized.history
    channels = optimized.channels
    # the search starts from the input plan (mini's paid budgets 400 / 150 / 40) ...
    start = project(np.array([400.0, 150.0, 40.0]), np.array([0, 0, 0.05]), np.ones(3))
    np.testing.assert_allclose(history[channels].iloc[0], start, atol=1e-9)
    # ... and recommends one of the allocations it simulated (the surrogate's best of them)
    shares = np.array([rec[c] / 890 for c in channels])
    assert np.abs(history[channels].to_numpy(dtype=float) - shares).sum(axis=1).min() < 1e-9
    curve = optimized.curves[optimized.curves["channel"] == "crm"]
    assert curve["profit"].iloc[0] > curve["profit"].iloc[-1]  # more on crm, less profit
    fig = optimized.plot_curves()
    assert len(fig.axes[0].lines) >= len(optimized.channels)


def test_report_embeds_tables_and_plots(tmp_path, optimized):
    folder = tmp_path / "opt"
    folder.mkdir()
    (folder / "optimization.json").write_text(json.dumps(optimized.to_dict(), default=float))
    page = build(folder).read_text()
    assert "Budget optimization" in page and "recommended" in page
    with pytest.raises(ScenarioError, match="not a results folder"):
        build(tmp_path / "nothing")


def test_cli_compare_plans_then_report(tmp_path, capsys):
    plan = tmp_path / "video.toml"
    plan.write_text('[plan]\nname = "video_heavy"\nbudget = 590\n[plan.allocation]\n'
                    "video = 420\nsearch = 130\ncrm = 40\n")
    out = tmp_path / "cmp"
    assert main(["compare", str(MINI), "--plan", str(plan), "--replications", "3",
                 "--out", str(out), "--no-progress"]) == 0
    result = json.loads((out / "comparison.json").read_text())
    assert set(result["plans"]) == {"mini", "video_heavy"}
    # P(better) is what the stored runs say, pairing seed with seed (ties count 1/2)
    gmv = RunStore(out / "store").table().pivot(index="seed", columns="plan",
                                                 values="gmv")
    d = gmv["video_heavy"] - gmv["mini"]
    expected = ((d > 0).sum() + 0.5 * (d == 0).sum()) / 3
    assert result["plans"]["video_heavy"]["gmv"]["p_better"] == pytest.approx(expected)
    assert main(["report", str(out)]) == 0
    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64") == 2 and "video_heavy" in page


@pytest.mark.parametrize("argv, words", [
    (["compare", str(MINI), "--replications", "3"], "give a second scenario"),
    (["compare", str(MINI), "--plan", "missing.toml"], "no such plan file"),
    (["optimize", str(MINI), "--budget", "900", "--floor", "video=0.8", "--floor",
      "search=0.5"], "infeasible"),
    (["optimize", str(MINI), "--budget", "900", "--floor", "video"], "channel=share"),
    (["compare", str(MINI), str(MINI), "--replications", "1"], "must be >= 2"),
])
def test_cli_bad_input_exits_2_with_one_line(argv, words, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err


@pytest.mark.parametrize("argv", [
    ["compare", str(MINI), str(MINI), "--kpi", "gmv", "--kpi", "gmw"],
    ["sensitivity", str(MINI), "--uncertain", "behaviour.social_weight=0.5:2", "--kpi", "gmw"],
], ids=["compare", "sensitivity"])
def test_cli_refuses_an_unknown_kpi_before_any_run(argv, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(runner, "execute_batch", lambda tasks: pytest.fail("a run started"))
    assert main([*argv, "--out", str(tmp_path), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert "unknown KPI 'gmw' (did you mean 'gmv'?); allowed: gmv, orders, spend" in err


def test_the_optimizer_restores_the_warning_filters(mini, tmp_path):
    """It silences scikit-learn's Gaussian-process convergence warnings for its own call
    only."""
    before = list(warnings.filters)
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        inside = list(warnings.filters)
        optimize(mini, Constraints(590), RunStore(tmp_path),
                 options=SearchOptions(evaluations=10, replications=2, round_size=4,
                                       final_replications=2, curve_points=2,
                                       search_population=600, progress=False))
        assert warnings.filters == inside
    assert warnings.filters == before


def test_cli_sensitivity_ranks_an_inert_parameter_last(tmp_path, capsys):
    """mini has no network, so social proof is zero and its weight cannot matter."""
    out = tmp_path / "sens"
    assert main(["sensitivity", str(MINI), "--uncertain", "channels.video.budget=200:600",
                 "--uncertain", "behaviour.social_weight=0.5:2", "--method", "morris",
                 "-n", "4", "--out", str(out), "--no-progress"]) == 0
    result = json.loads((out / "sensitivity.json").read_text())
    assert (out / "sensitivity.png").exists()
    text = json.dumps(result)
    assert "mu_star" in text and "behaviour.social_weight" in text
    assert main(["sensitivity", str(MINI), "--uncertain", "behaviour.social_weight=2:1",
                 "--out", str(out)]) == 2
