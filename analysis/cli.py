"""The ``campaign-lab`` command line: ``list``, ``validate`` and ``run`` scenarios here; the
commands that live with their own package (``SUBCOMMANDS``): ``compare``, ``optimize``,
``sensitivity`` (``analysis.experiments.cli``), ``calibrate`` (``analysis.calibration.cli``),
``attribute`` (``analysis.attribution.cli``), ``experiment``
(``analysis.experiments.lift_cli``) and ``report`` (``analysis.report``).

Every user error (a bad scenario, a bad ``--set``, a bad option) ends with one message naming
the file or option and the field, and exit status 2; no traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import scenarios
from scenarios import ScenarioError

from .errors import UsageError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="campaign-lab",
        description="Simulate retail e-commerce campaigns on an agent-based market.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the preset scenarios, one line each")

    validate = sub.add_parser("validate", help="check a scenario file")
    validate.add_argument("scenario", help="preset name or TOML file")
    validate.add_argument("--set", dest="overrides", action="append", default=[],
                          metavar="PATH=VALUE", help="override a field (repeatable)")

    run = sub.add_parser("run", help="simulate a scenario and write results")
    run.add_argument("scenario", help="preset name or TOML file")
    run.add_argument("--seed", type=int, default=None, help="default: the scenario's seed")
    run.add_argument("--population", type=int, default=None,
                     help="consumers to simulate (budgets scale with it)")
    run.add_argument("--set", dest="overrides", action="append", default=[],
                     metavar="PATH=VALUE",
                     help="override a field, e.g. channels.search.budget=50000 (repeatable)")
    run.add_argument("--out", type=Path, default=None,
                     help="output folder (default: results/<scenario>)")
    run.add_argument("--engine", choices=("array", "agents"), default="array",
                     help="array (fast) or agents (per-agent Mesa reference, small runs)")
    run.add_argument("--touchpoints", action="store_true",
                     help="also write touchpoints.parquet (every exposure)")
    for name, (module, prefix, text) in SUBCOMMANDS.items():
        getattr(_module(module), f"{prefix}add_arguments")(sub.add_parser(name, help=text))
    return parser


# Commands that live with their own package: module, prefix of its add_arguments / main.
SUBCOMMANDS = {
    "compare": ("analysis.experiments.cli", "compare_",
                "compare plans (scenarios or budget plans) with a baseline, with "
                "uncertainty"),
    "optimize": ("analysis.experiments.cli", "optimize_",
                 "find the budget allocation that maximizes GMV, profit or ROAS"),
    "calibrate": ("analysis.calibration.cli", "",
                  "fit a model to observed data with PyMC (bass, media, price, repurchase, "
                  "simulator)"),
    "sensitivity": ("analysis.experiments.cli", "sensitivity_",
                    "global sensitivity of the KPIs to uncertain parameters (Sobol, Morris)"),
    "biases": ("analysis.biases", "",
               "what each behavioural bias does here: the campaign with each one switched off"),
    "report": ("analysis.report", "", "one self-contained HTML page for a results folder"),
    "experiment": ("analysis.experiments.lift_cli", "",
                   "a lift test (holdout, geo, pulse) in the simulated campaign, with its "
                   "counterfactual truth"),
    "attribute": ("analysis.attribution.cli", "",
                  "score attribution models against the simulated ground truth"),
    "validate-real": ("analysis.realdata.cli", "",
                      "the agent model against a regression on real store data (held-out "
                      "weeks and deals)"),
    "app": ("analysis.app.cli", "",
            "the what-if app in the browser: levers, paired comparison, plots, save"),
}


def _module(name: str):
    import importlib

    return importlib.import_module(name)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command in SUBCOMMANDS:
            module, prefix, _ = SUBCOMMANDS[args.command]
            return getattr(_module(module), f"{prefix}main")(args)
        return COMMANDS[args.command](args)
    except ScenarioError as exc:
        print(f"campaign-lab: error: {exc}", file=sys.stderr)
        return 2


def _list(args) -> int:
    rows = scenarios.describe_presets()
    width = max(len(name) for name, _ in rows)
    for name, line in rows:
        print(f"{name:<{width}}  {line}")
    return 0


def _validate(args) -> int:
    s = scenarios.load(args.scenario, args.overrides)
    graph = ""
    if s.network is not None and s.network.edges is not None:
        from simulation.edgelist import load_edges

        g = load_edges(s.network.edges, s.market.population, s.network)
        graph = f", follow graph of {g.n_edges:,} ties from {s.network.edges}"
    print(f"{args.scenario}: valid scenario {s.name!r}: {s.market.population:,} consumers, "
          f"{s.calendar.days} days, {len(s.channels)} channels, "
          f"{len(s.calendar.events)} events{graph}")
    return 0


def _run(args) -> int:
    import simulation

    if args.population is not None and args.population < 1:
        raise UsageError("--population", "population", "must be >= 1", args.population)
    if args.seed is not None and args.seed < 0:
        raise UsageError("--seed", "seed", "must be >= 0", args.seed)
    s = scenarios.load(args.scenario, args.overrides)
    result = simulation.run(s, seed=args.seed, population=args.population, engine=args.engine,
                            log_touchpoints=args.touchpoints)
    out = result.save(args.out or Path("results") / s.name, touchpoints=args.touchpoints)
    print(format_kpis(result))
    print(f"\nwrote {out}/summary.json, timeseries.parquet, orders.parquet and plots "
          f"({result.scenario.market.population:,} consumers x {result.scenario.calendar.hours} h "
          f"simulated in {result.wall_seconds:.1f} s)")
    return 0


def format_kpis(result) -> str:
    s = result.summary
    head = (f"{s['scenario']} (seed {s['seed']}, {s['population']:,} consumers, "
            f"{s['hours'] // 24} days)\n"
            f"spend {s['spend']:,.0f}  GMV {s['gmv']:,.0f}  ROAS {s['roas'] or 0:.2f}  "
            f"orders {s['orders']:,.0f}  new customers {s['new_customers']:,}  "
            f"CAC {s['cac'] or 0:,.1f}  repeat {s['repeat_customers']:,}  "
            f"complaint rate {100 * (s['complaint_rate'] or 0):.2f}%\n"
            f"decisions facing a loss {100 * (s['bias_shares']['loss'] or 0):.1f}%, "
            f"seeing an anchor {100 * (s['bias_shares']['anchor'] or 0):.1f}%\n")
    table = result.kpi_table()
    formats = {"spend": "{:,.0f}", "impressions": "{:,.0f}", "reach": "{:,.0f}",
               "clicks": "{:,.0f}", "orders": "{:,.0f}", "gmv": "{:,.0f}",
               "roas": "{:.2f}", "cac": "{:,.1f}", "complaints": "{:,.0f}"}
    shown = table.copy().astype(object)
    for col, fmt in formats.items():
        shown[col] = [("-" if v is None or v != v else fmt.format(v)) for v in table[col]]
    text = head + shown.to_string()
    if result.network is not None:
        text += "\n\n" + format_sources(s["by_source"])
    return text


def format_sources(by_source: dict) -> str:
    """Conversions, CPA and K-factor by influence source, with mean cascade sizes."""
    lines = [f"{'source':<22}{'reach':>10}{'conversions':>13}{'spend':>11}{'CPA':>9}"
             f"{'K':>7}{'cascades':>10}{'mean size':>11}"]
    for name, row in by_source.items():
        casc = row.get("cascades") or {}
        size = (casc.get("size") or {}).get("mean")
        cells = [f"{row['reach']:>10,.0f}", f"{row['conversions']:>13,}",
                 f"{row['spend']:>11,.0f}",
                 f"{row['cpa']:>9,.1f}" if row["cpa"] is not None else f"{'-':>9}",
                 f"{row['k_factor']:>7.2f}" if row["k_factor"] is not None else f"{'-':>7}",
                 f"{casc['count']:>10,}" if casc else f"{'':>10}",
                 f"{size:>11.2f}" if size is not None else f"{'':>11}"]
        lines.append(f"{name:<22}" + "".join(cells))
    return "\n".join(lines)


COMMANDS = {"list": _list, "validate": _validate, "run": _run}

if __name__ == "__main__":
    sys.exit(main())
