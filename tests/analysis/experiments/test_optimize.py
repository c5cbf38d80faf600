"""The optimizer: feasibility, bad input, the brute-force optimum, and front-loading under
carry-over."""

import numpy as np
import pytest

import scenarios
import simulation
from analysis.cli import main
from analysis.experiments.optimize import (
    Constraints,
    SearchOptions,
    objective_value,
    optimize,
    project,
    simulate_allocations,
)
from analysis.experiments.plans import BudgetPlan, load_plan
from analysis.experiments.store import RunStore

from ...conftest import MINI

CARRY_OVER = """
name = "carry_over"
seed = 1
[market]
population = 3000
existing_customer_share = 0.0
[behaviour]
awareness_half_life_hours = {half_life}
awareness_weight = 2.0
awareness_saturation = 3.0
[[products]]
name = "tea"
list_price = 50.0
margin = 0.6
reference_price = 50.0
repurchase_days = 60
[[channels]]
name = "video"
kind = "short_video"
budget = 900.0
cost_model = "cpm"
cost = 20.0
ctr = 0.002
frequency_cap = 4
[calendar]
days = 10
phases = [
  {{ name = "first", start_day = 0, end_day = 5, budget_weight = 0.5 }},
  {{ name = "second", start_day = 5, end_day = 10, budget_weight = 0.5 }},
]
"""


def test_projection_meets_floors_caps_and_the_pacing_limit():
    rng = np.random.default_rng(0)
    lo, hi = np.array([0.1, 0.0, 0.2]), np.array([0.5, 0.6, 0.9])
    for _ in range(200):
        s = project(rng.dirichlet(np.ones(6)).reshape(3, 2) * rng.uniform(0.1, 5), lo, hi,
                    0.6)
        assert s.sum() == pytest.approx(1.0)
        rows = s.sum(axis=1)
        assert (rows >= lo - 1e-9).all() and (rows <= hi + 1e-9).all()
        assert s.sum(axis=0).max() <= 0.6 + 1e-6 and (s >= 0).all()


@pytest.mark.parametrize("constraints, field, message", [
    (Constraints(600.0, floors={"video": 0.7}, caps={"video": 0.5}), "video", "above cap"),
    (Constraints(600.0, floors={"video": 0.7, "search": 0.5}), "floors", "infeasible"),
    (Constraints(600.0, caps={"video": 0.3, "search": 0.3, "crm": 0.3}), "caps", "cannot"),
    (Constraints(600.0, floors={"affiliate": 0.1}), "affiliate", "without a budget"),
    (Constraints(600.0, max_period_share=0.4), "max_period_share", "at least 1/2"),
])
def test_infeasible_constraints_are_refused_before_any_run(tmp_path, constraints, field,
                                                           message):
    store = RunStore(tmp_path / "store")
    with pytest.raises(scenarios.ScenarioError, match=message) as err:
        optimize(scenarios.load(MINI), constraints, store,
                 options=SearchOptions(by_period=True, progress=False))
    assert field in str(err.value)
    assert not store.done()


def test_plans_that_do_not_fit_are_refused(tmp_path):
    s = scenarios.load(MINI)
    with pytest.raises(scenarios.ScenarioError, match="sum"):
        BudgetPlan("p", 600.0, {"video": 100.0, "search": 100.0}).check(s)
    with pytest.raises(scenarios.ScenarioError, match="unknown phase"):
        BudgetPlan("p", 600.0, {"video": {"launch": 600.0}}).check(s)


def test_cli_writes_a_schedule_that_compare_reads(tmp_path, capsys):
    out = tmp_path / "opt"
    status = main(["optimize", str(MINI), "--budget", "600", "--by-period",
                   "--max-period-share", "0.8", "--evaluations", "8", "--replications", "2",
                   "--population", "800", "--out", str(out), "--no-progress",
                   "--workers", "2"])
    assert status == 0
    printed = capsys.readouterr().out
    assert "gain over the input plan" in printed
    for name in ("optimization.json", "plan.toml", "schedule.png", "curves.png",
                 "history.csv"):
        assert (out / name).is_file()
    plan = load_plan(out / "plan.toml")
    plan.check(scenarios.load(MINI))
    assert set(plan.allocation) == {"video", "search", "crm"}  # the affiliate is no lever
    assert max(sum(v[p] for v in plan.allocation.values()) for p in ("warm_up", "peak")) \
        <= 0.8 * 600 + 1e-6
    assert main(["compare", str(MINI), "--plan", str(out / "plan.toml"), "--replications",
                 "2", "--population", "500", "--out", str(tmp_path / "cmp"),
                 "--no-progress"]) == 0


def _profit(s: scenarios.Scenario, video_shares, reps: int) -> np.ndarray:
    """(shares, reps) profit of each video share (the rest on search), one batch."""
    worlds = [BudgetPlan("g", 600.0, {"video": 600 * v, "search": 600 * (1 - v),
                                      "crm": 0.0}).apply(s)
              for v in video_shares for _ in range(reps)]
    totals = simulate_allocations(worlds, list(range(len(worlds))))
    profit = totals[:, 1] - totals[:, 2]
    return profit.reshape(len(video_shares), reps)


@pytest.mark.slow
def test_the_recommendation_reaches_the_brute_force_optimum(tmp_path):
    """Two paid channels (crm capped at 0): profit of every video share on a grid of 11,
    64 replications each, against the optimizer's recommendation (16 allocations x 4
    replications) evaluated the same way. The recommendation's profit must be within 3
    standard errors of the grid's best (the difference of two 64-replication means), i.e.
    the optimizer finds the optimum as well as the brute force can tell."""
    s = simulation.rescale(scenarios.load(MINI), 2000)
    grid = np.linspace(0, 1, 11)
    profit = _profit(s, grid, 64)
    best = int(np.argmax(profit.mean(axis=1)))
    o = optimize(s, Constraints(600.0 * 2000 / 3000, caps={"crm": 0.0}),
                 RunStore(tmp_path / "store"),
                 options=SearchOptions(evaluations=16, replications=4, search_population=None,
                                       final_replications=2, workers=2, progress=False))
    share = o.recommended.channel_totals()["video"] / o.recommended.budget
    got = _profit(s, [share], 64)[0]
    se = np.sqrt(got.var(ddof=1) / 64 + profit[best].var(ddof=1) / 64)
    assert got.mean() >= profit[best].mean() - 3 * se, (share, grid[best], got.mean(),
                                                        profit.mean(axis=1))


@pytest.mark.slow
def test_strong_carry_over_front_loads_the_schedule(tmp_path):
    """With ad-stock that hardly decays (half-life 5,000 h over a 240-h campaign), an
    impression bought on day t keeps raising the purchase utility of its viewer on every
    own-need visit until day 10, so the same spend (same CPM, same reach per day) bought in
    the first half buys about three times the awareness-hours of the second half (visits
    after the impression: 7.5 days on average against 2.5). The model's equations therefore
    favour the first phase; the flighting optimizer must put more than 60% of the budget
    there."""
    def schedule(half_life: float) -> float:
        s = scenarios.validate(_toml(CARRY_OVER.format(half_life=half_life)), "carry_over")
        o = optimize(s, Constraints(900.0), RunStore(tmp_path / f"s{half_life}"),
                     options=SearchOptions(evaluations=16, replications=6, by_period=True,
                                           search_population=None, final_replications=2,
                                           progress=False))
        return o.recommended.allocation["video"]["first"] / 900.0

    assert schedule(5000.0) > 0.6


def _toml(text: str) -> dict:
    import tomllib

    return tomllib.loads(text)


def test_objective_counts_the_risk_limit():
    totals = np.array([[100.0, 60.0, 80.0], [300.0, 150.0, 100.0]])  # ROAS 1.25 and 3
    assert objective_value(totals, "profit", None)[0] == pytest.approx(15.0)
    risky = np.array([[50.0, 40.0, 80.0], [300.0, 150.0, 100.0]])  # P(ROAS < 1) = 0.5
    assert objective_value(risky, "profit", 0.1)[0] < objective_value(risky, "profit",
                                                                      None)[0]
    assert objective_value(totals, "roas", None)[0] == pytest.approx((1.25 + 3) / 2)


def test_an_interrupted_optimization_resumes_without_simulating_again(tmp_path, monkeypatch):
    """A second run into the same store finds every allocation of the first in the search
    log and every final run in the run store: it simulates nothing."""
    from analysis.experiments import optimize as module

    s = simulation.rescale(scenarios.load(MINI), 600)
    options = SearchOptions(evaluations=8, replications=2, search_population=None,
                            final_replications=2, workers=1, progress=False)
    store = RunStore(tmp_path / "store")
    first = optimize(s, Constraints(120.0), store, options=options)

    def refuse(*args, **kwargs):
        raise AssertionError("simulated again")

    monkeypatch.setattr(module, "simulate_allocations", refuse)
    monkeypatch.setattr("analysis.experiments.runner.execute_batch", refuse)
    again = optimize(s, Constraints(120.0), store, options=options)
    assert again.recommended.allocation == first.recommended.allocation


def test_the_search_is_the_same_on_one_or_two_workers(tmp_path):
    """Each candidate's totals depend on its allocation and the seeds only: the same
    history and recommendation on one process as on two."""
    s = simulation.rescale(scenarios.load(MINI), 600)
    runs = [optimize(s, Constraints(120.0), RunStore(tmp_path / f"store{workers}"),
                     options=SearchOptions(evaluations=8, replications=2,
                                           search_population=None, final_replications=2,
                                           workers=workers, progress=False))
            for workers in (1, 2)]
    assert runs[0].history.equals(runs[1].history)
    assert runs[0].recommended.allocation == runs[1].recommended.allocation

@pytest.mark.long
def test_a_ten_times_smaller_market_ranks_allocations_as_the_full_one():
    """The optimizer searches at a smaller population (budgets per consumer kept). On
    double11_beauty, three allocations of the paid budget (the preset's, livestream-heavy,
    search-heavy), 8 replications each at 2,000 and at 20,000 consumers: each allocation's
    gain in profit per consumer over the preset's at 2,000 lies within 4 standard errors of
    its gain at 20,000, and every difference between allocations that the 20,000-consumer
    runs resolve (3 standard errors) has the same sign at 2,000. The level itself is not
    size-free (measured: profit per consumer 7.2-8.2 at 2,000 against 6.4-7.3 at 20,000,
    the same shift for every allocation), which is why the optimizer compares allocations
    at the search size but reports the recommendation's gain from runs at full size."""
    base = scenarios.load("double11_beauty")
    levers = scenarios.budget_levers(base)
    budget = sum(c.budget for c in base.channels if c.name in levers)
    shapes = {"preset": {c.name: c.budget / budget for c in base.channels
                         if c.name in levers},
              "live": {"douyin_live": 0.7, "xiaohongshu": 0.1, "search": 0.1,
                       "wechat_crm": 0.1},
              "search": {"douyin_live": 0.2, "xiaohongshu": 0.1, "search": 0.6,
                         "wechat_crm": 0.1}}

    def per_consumer(size: int) -> np.ndarray:
        s = simulation.rescale(base, size)
        scale = size / base.market.population
        worlds = [BudgetPlan(n, budget * scale, {c: v * budget * scale
                                                 for c, v in shares.items()}).apply(s)
                  for n, shares in shapes.items() for _ in range(8)]
        totals = simulate_allocations(worlds, list(range(len(worlds))))
        return ((totals[:, 1] - totals[:, 2]) / size).reshape(len(shapes), 8)

    small, full = per_consumer(2_000), per_consumer(20_000)
    m_small, m_full = small.mean(axis=1), full.mean(axis=1)
    var_small, var_full = small.var(axis=1, ddof=1) / 8, full.var(axis=1, ddof=1) / 8
    print("profit per consumer at 2,000:", m_small, "at 20,000:", m_full)
    gain_small, gain_full = m_small[1:] - m_small[0], m_full[1:] - m_full[0]
    se = np.sqrt(var_small[1:] + var_small[0] + var_full[1:] + var_full[0])
    assert (np.abs(gain_small - gain_full) < 4 * se).all()
    for i, j in ((0, 1), (0, 2), (1, 2)):  # a difference the full market resolves keeps sign
        if abs(m_full[i] - m_full[j]) > 3 * np.sqrt(var_full[i] + var_full[j]):
            assert np.sign(m_small[i] - m_small[j]) == np.sign(m_full[i] - m_full[j])


def test_the_risk_limit_bounds_the_probability_that_gmv_falls_below_spend():
    """Rows are (GMV, margin, spend) per replication; one of four has GMV below spend, so
    P(GMV < spend) = 0.25: a limit of 0.25 leaves the objective alone, 0.1 penalises it by
    PENALTY x |mean| x 0.15."""
    from analysis.experiments.optimize import PENALTY, objective_value

    totals = np.array([[90.0, 30.0, 100.0], [150.0, 50.0, 100.0], [100.0, 40.0, 100.0],
                       [200.0, 60.0, 100.0]])
    mean, _ = objective_value(totals, "gmv", None)
    assert mean == 135.0
    assert objective_value(totals, "gmv", 0.25)[0] == mean
    assert objective_value(totals, "gmv", 0.1)[0] == pytest.approx(
        mean - PENALTY * mean * 0.15)


def test_optimize_has_no_scheduler_option(capsys):
    """The optimizer's batched passes run on the local process pool only, so the option
    that would be ignored is refused."""
    with pytest.raises(SystemExit) as exit_:
        main(["optimize", str(MINI), "--budget", "100", "--scheduler", "tcp://x:8786"])
    assert exit_.value.code == 2 and "--scheduler" in capsys.readouterr().err


def test_the_old_roi_objective_is_refused_with_its_new_name(capsys, tmp_path):
    """GMV / spend was the objective ``roi``; it is ``roas`` now (``roi`` is the KPI profit /
    spend), so the old name is refused before any run, naming the new one."""
    with pytest.raises(SystemExit) as exit_:
        main(["optimize", str(MINI), "--budget", "100", "--objective", "roi"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2
    assert "'roi' (GMV / spend) is now called 'roas'; allowed: gmv, profit, roas" in err
    with pytest.raises(ValueError, match="is now called 'roas'"):
        optimize(scenarios.load(MINI), Constraints(100.0), RunStore(tmp_path),
                 options=SearchOptions(objective="roi"))
