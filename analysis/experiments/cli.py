"""``campaign-lab compare``, ``campaign-lab optimize`` and ``campaign-lab sensitivity``.

    campaign-lab compare BASELINE OTHER ... [--plan FILE ...] [--replications R] [--kpi K ...]
        [--posterior DIR] [--population N] [--workers N | --scheduler ADDRESS] [--out DIR]
    campaign-lab sensitivity SCENARIO --uncertain PATH=LOW:HIGH ... [--method sobol|morris]
        [-n N] [--kpi K ...] [--replications R] [--workers N] [--out DIR]
    campaign-lab optimize SCENARIO --budget B [--objective gmv|profit|roas]
        [--floor channel=share ...] [--cap channel=share ...] [--max-gmv-below-spend-probability P]
        [--evaluations N] [--replications R] [--population N] [--workers N] [--out DIR]

Runs are stored under ``DIR/store`` as they finish; rerunning the same command resumes.
``roas`` is GMV / spend and ``roi`` (a KPI) profit / spend; the objective ``roi`` (GMV /
spend before it was renamed ``roas``) is refused with the new name.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import scenarios
from scenarios import ScenarioError
from simulation.io import write_atomic

from ..errors import UsageError
from .compare import DEFAULT_KPIS, compare, format_table
from .optimize import (
    OBJECTIVES,
    RENAMED_OBJECTIVES,
    Constraints,
    SearchOptions,
    objective_problem,
    optimize,
)
from .plans import load_plan
from .store import RunStore
from .tasks import check_kpis


def _common(parser: argparse.ArgumentParser, replications: int, *,
            scheduler: bool = True) -> None:
    parser.add_argument("--replications", type=int, default=replications, metavar="R",
                        help=f"seeds per plan, shared by all (default {replications})")
    parser.add_argument("--population", type=int, default=None,
                        help="consumers per run (budgets scale with it)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the replication seeds")
    parser.add_argument("--workers", type=int, default=1,
                        help="local worker processes (a process pool when > 1)")
    if scheduler:  # the optimizer's batched passes run on the local pool only
        parser.add_argument("--scheduler", default=None, metavar="ADDRESS",
                            help="send the runs to this Dask scheduler instead")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def compare_add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenarios", nargs="+", metavar="SCENARIO",
                        help="baseline first, then the plans to compare with it")
    parser.add_argument("--plan", action="append", default=[], metavar="FILE",
                        help="a budget plan (TOML or CSV) applied to the baseline (repeatable)")
    parser.add_argument("--posterior", type=Path, default=None, metavar="DIR",
                        help="a calibration's output folder: runs use its posterior draws")
    parser.add_argument("--kpi", action="append", default=None,
                        help="KPIs to compare (default gmv, profit, roas, orders, ...; "
                        "roas = GMV / spend, roi = profit / spend)")
    _common(parser, replications=20)


def compare_main(args) -> int:
    _check(args)
    kpis = check_kpis(args.kpi) if args.kpi else DEFAULT_KPIS
    loaded = [(p, scenarios.load(p)) for p in args.scenarios]
    plans = {}
    for path, s in loaded:
        name = s.name if s.name not in plans else Path(path).stem
        if name in plans:
            raise ScenarioError(path, "name", "two plans have the same name")
        plans[name] = s
    baseline_name, baseline = next(iter(plans.items()))
    for file in args.plan:
        plan = load_plan(file)
        plans[plan.name] = plan.apply(baseline)
    if len(plans) < 2:
        raise UsageError(args.scenarios[0], "", "give a second scenario or a --plan to "
                            "compare with the baseline")
    draws = None
    if args.posterior is not None:
        from analysis.calibration.posterior import scenario_draws

        draws = scenario_draws(args.posterior, args.replications, seed=args.seed)
    out = args.out or Path("results") / f"compare-{baseline_name}"
    result = compare(plans, baseline_name, replications=args.replications,
                     store=RunStore(out / "store"), seed=args.seed, population=args.population,
                     draws=draws, kpis=kpis, workers=args.workers, scheduler=args.scheduler,
                     progress=not args.no_progress)
    result.save(out)
    print(format_table(result))
    print(f"\nwrote {out}/comparison.json, comparison.csv, forest.png, distributions.png "
          f"({len(result.runs)} runs in {out}/store)")
    return 0


def optimize_add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", help="preset name or TOML file")
    parser.add_argument("--budget", type=float, required=True, help="total paid media budget")
    parser.add_argument("--objective", type=_objective, choices=OBJECTIVES, default="profit",
                        help="what to maximize (default profit; roas = GMV / spend)")
    parser.add_argument("--floor", action="append", default=[], metavar="CHANNEL=SHARE")
    parser.add_argument("--cap", action="append", default=[], metavar="CHANNEL=SHARE")
    parser.add_argument("--by-period", action="store_true",
                        help="also decide when: a budget per channel and phase (flighting)")
    parser.add_argument("--max-period-share", type=float, default=None, metavar="S",
                        help="pacing limit: at most this share of the budget in one phase")
    parser.add_argument("--max-gmv-below-spend-probability", type=float, default=None,
                        metavar="P", help="risk limit: P(GMV < spend) at most P")
    parser.add_argument("--evaluations", type=int, default=40,
                        help="allocations to simulate (default 40)")
    parser.add_argument("--search-population", type=int, default=20_000, metavar="N",
                        help="consumers per run while searching (default 20,000; the final "
                        "comparison uses --population, default the scenario's)")
    _common(parser, replications=4, scheduler=False)
    parser.set_defaults(workers=2)


def optimize_main(args) -> int:
    _check(args)
    s = scenarios.load(args.scenario)
    constraints = Constraints(args.budget, _shares(args.floor, "--floor"),
                              _shares(args.cap, "--cap"), args.max_period_share)
    out = args.out or Path("results") / f"optimize-{s.name}"
    options = SearchOptions(objective=args.objective, evaluations=args.evaluations,
                            replications=args.replications, population=args.population,
                            search_population=min(args.search_population,
                                                  args.population or s.market.population),
                            by_period=args.by_period,
                            max_gmv_below_spend_probability=args.max_gmv_below_spend_probability, seed=args.seed,
                            workers=args.workers, progress=not args.no_progress)
    o = optimize(s, constraints, RunStore(out / "store"), options=options)
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / "optimization.json",
                 lambda p: p.write_text(json.dumps(o.to_dict(), indent=2, default=float)))
    write_atomic(out / "plan.toml", lambda p: p.write_text(o.recommended.to_toml()))
    write_atomic(out / "curves.csv", lambda p: o.curves.to_csv(p, index=False))
    write_atomic(out / "history.csv", lambda p: o.history.to_csv(p, index=False))
    for name, fig in (("curves.png", o.plot_curves()), ("schedule.png", o.plot_schedule())):
        write_atomic(out / name, lambda p, fig=fig: fig.savefig(p, dpi=110, format="png"))
    summary = o.to_dict()
    print(f"recommended allocation ({args.objective}, budget {args.budget:,.0f}):")
    for c, v in summary["recommended"].items():
        print(f"  {c:<24}{v:>14,.0f}   (input {summary['input_plan'][c]:,.0f})")
    g = summary["gain_over_input"]
    print(f"gain over the input plan: {g['diff']:+,.1f} [{g['diff_lo']:+,.1f}, "
          f"{g['diff_hi']:+,.1f}] (90%), P(better) {g['p_better']:.2f}; "
          f"{o.wall_seconds:.0f} s")
    print(f"wrote {out}/optimization.json, plan.toml, schedule.png, curves.csv, curves.png "
          "and history.csv")
    return 0


def sensitivity_add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", help="preset name or TOML file")
    parser.add_argument("--uncertain", action="append", required=True,
                        metavar="PATH=LOW:HIGH",
                        help="an uncertain field and its range, e.g. "
                        "behaviour.social_weight=0.5:2 (repeatable)")
    parser.add_argument("--method", choices=("sobol", "morris"), default="morris")
    parser.add_argument("-n", type=int, default=None,
                        help="base samples (Sobol: a power of two, default 64) or "
                        "trajectories (Morris, default 20)")
    parser.add_argument("--kpi", action="append", default=None)
    _common(parser, replications=2)


def sensitivity_main(args) -> int:
    from analysis import sensitivity

    from .runner import evaluator

    s = scenarios.load(args.scenario)
    uncertain = []
    for item in args.uncertain:
        path, sep, span = item.partition("=")
        low, sep2, high = span.partition(":")
        try:
            uncertain.append(sensitivity.Uncertainty(path.strip(), float(low), float(high)))
        except ValueError as exc:
            raise UsageError("--uncertain", item, "expected PATH=LOW:HIGH with LOW < HIGH"
                                if not (sep and sep2) else str(exc)) from None
    out = args.out or Path("results") / f"sensitivity-{s.name}"
    run = getattr(sensitivity, args.method)
    kwargs = {"n": args.n} if args.n else {}
    if args.kpi:
        kwargs["kpis"] = check_kpis(args.kpi)  # before any run
    try:
        result = run(s, uncertain, replications=args.replications, seed=args.seed,
                     population=args.population,
                     evaluate=evaluator(RunStore(out / "store"), workers=args.workers,
                                        scheduler=args.scheduler,
                                        progress=not args.no_progress),
                     progress=False, **kwargs)
    except ValueError as exc:
        raise UsageError(str(args.scenario), "--uncertain", str(exc)) from None
    out.mkdir(parents=True, exist_ok=True)
    result.to_json(out / "sensitivity.json")
    fig = result.plot()
    write_atomic(out / "sensitivity.png", lambda p: fig.savefig(p, dpi=110, format="png"))
    print(result.indices.round(3).to_string(index=False))
    print(f"wrote {out}/sensitivity.json and sensitivity.png")
    return 0


def _objective(value: str) -> str:
    """``--objective``'s type: a renamed objective is refused with its new name."""
    if value in RENAMED_OBJECTIVES:
        raise argparse.ArgumentTypeError(objective_problem(value))
    return value


def _shares(items: list[str], option: str) -> dict[str, float]:
    out = {}
    for item in items:
        channel, sep, value = item.partition("=")
        try:
            out[channel.strip()] = float(value)
        except ValueError:
            raise UsageError(option, item, "expected channel=share, e.g. search=0.1") from None
        if not sep:
            raise UsageError(option, item, "expected channel=share, e.g. search=0.1")
    return out


def _check(args) -> None:
    if args.replications < 2:
        raise UsageError("--replications", "replications", "must be >= 2",
                            args.replications)
    if args.workers < 1:
        raise UsageError("--workers", "workers", "must be >= 1", args.workers)
    if args.population is not None and args.population < 1:
        raise UsageError("--population", "population", "must be >= 1", args.population)
