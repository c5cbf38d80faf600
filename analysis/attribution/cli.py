"""``campaign-lab attribute``: score attribution models against the simulated ground truth.

    campaign-lab attribute mini.toml --replications 10 --lookback 72 --out results/attr

``add_arguments(parser)`` declares the options on a (sub)parser; ``main(args)`` runs and
returns the exit status: 0, or 2 with a one-line message on bad input (no traceback).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import scenarios
from scenarios import ScenarioError

from analysis.calibration.data import DataError

from .journeys import TOUCHES, AttributionError
from .scoring import attribute


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", help="preset name or TOML file")
    parser.add_argument("--replications", type=int, default=10, metavar="R",
                        help="seeds; each costs 1 + 3 x channels paired runs (default 10)")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help="output folder (default: results/<scenario>/attribution)")
    parser.add_argument("--lookback", type=float, default=72.0, metavar="HOURS",
                        help="journey window before each order (default 72)")
    parser.add_argument("--seed", type=int, default=None,
                        help="seed of the replication seeds (default: the scenario's)")
    parser.add_argument("--population", type=int, default=None,
                        help="consumers per run (budgets scale with it; default the "
                        "scenario's)")
    parser.add_argument("--touches", choices=TOUCHES, default="clicks",
                        help="journeys of clicked touchpoints (default) or of all impressions")
    parser.add_argument("--mmm", action="store_true",
                        help="also fit the media mix model to the simulated daily series and "
                        "score its ROAS against the true incremental ROAS (mmm.json)")
    parser.add_argument("--mmm-draws", type=int, default=500, metavar="N",
                        help="posterior draws per chain of the media model (default 500)")
    parser.add_argument("--lift-tests", type=Path, action="append", default=[],
                        metavar="FILE", help="with --mmm: also fit the media model "
                        "calibrated by these lift tests (lift_tests.csv of campaign-lab "
                        "experiment; repeatable, one fit each) and score every fit "
                        "(mmm_lift.csv, mmm_lift.png)")


def main(args: argparse.Namespace) -> int:
    try:
        if args.replications < 1:
            raise AttributionError(f"--replications must be >= 1, got {args.replications}")
        if not args.lookback > 0:
            raise AttributionError(f"--lookback must be > 0 hours, got {args.lookback}")
        if args.seed is not None and args.seed < 0:
            raise AttributionError(f"--seed must be >= 0, got {args.seed}")
        if args.lift_tests and not args.mmm:
            raise AttributionError("--lift-tests scores the media mix model: add --mmm")
        if args.population is not None and args.population < 100:
            raise AttributionError(f"--population must be >= 100, got {args.population}")
        scenario = scenarios.load(args.scenario)
        if args.population is not None:
            from simulation.run import rescale

            scenario = rescale(scenario, args.population)
        lift_tests = _load_lift_tests(args.lift_tests, scenario)
        report = attribute(scenario, args.replications, args.lookback, seed=args.seed,
                           touches=args.touches)
    except (ScenarioError, AttributionError, DataError) as exc:
        print(f"campaign-lab attribute: error: {exc}", file=sys.stderr)
        return 2
    out = args.out or Path("results") / scenario.name / "attribution"
    report.save(out)
    cols = ["truth_share", *[f"{m}_share" for m in report.model_names]]
    print(report.table[cols].round(3).to_string())
    print("total absolute share error:")
    print(report.errors.round(3).to_string())
    print(f"wrote {out}/attribution.json, attribution.csv, attribution.png")
    if args.mmm and not lift_tests:
        _score_mmm(scenario, args, out)
    if lift_tests:  # the fit without lift tests is the variant "none"
        _score_lift_tests(scenario, args, out, lift_tests)
    return 0


def _load_lift_tests(paths: list[Path], scenario) -> dict:
    """Each file's lift tests by its folder and name (checked against the channels)."""
    from analysis.calibration.lift_tests import load_lift_tests

    channels = [c.name for c in scenario.channels]
    return {str(Path(p.parent.name) / p.stem): load_lift_tests(p, channels) for p in paths}


def _score_lift_tests(scenario, args, out: Path, lift_tests: dict) -> None:
    from simulation.io import write_atomic

    from .mmm import plot_roas_variants, score_with_lift_tests

    table = score_with_lift_tests(scenario, lift_tests, args.replications,
                                  seed=args.seed or 0, draws=args.mmm_draws,
                                  tune=args.mmm_draws)
    write_atomic(out / "mmm_lift.csv", lambda p: table.to_csv(p, index=False))
    fig = plot_roas_variants(table)
    write_atomic(out / "mmm_lift.png", lambda p: fig.savefig(p, dpi=110, format="png"))
    print("\nmedia mix model ROAS with and without lift tests vs the true incremental ROAS:")
    print(table[["variant", "channel", "true_roas", "mmm_roas", "mmm_lo", "mmm_hi",
                 "abs_error", "converged"]].round(2).to_string(index=False))
    print(f"wrote {out}/mmm_lift.csv and mmm_lift.png")


def _score_mmm(scenario, args, out: Path) -> None:
    import json

    from simulation.io import write_atomic

    from .mmm import score_mmm

    score = score_mmm(scenario, args.replications, seed=args.seed or 0,
                      draws=args.mmm_draws, tune=args.mmm_draws)
    diagnostics = score.calibration.diagnostics()
    content = {"channels": score.table.to_dict(orient="records"),
               "mean_absolute_roas_error": score.error, "diagnostics": diagnostics}
    write_atomic(out / "mmm.json", lambda p: p.write_text(json.dumps(content, indent=2,
                                                                     default=float)))
    write_atomic(out / "mmm.csv", lambda p: score.table.to_csv(p, index=False))
    print("\nmedia mix model ROAS vs true incremental ROAS:")
    print(score.table.round(2).to_string(index=False))
    if not diagnostics["converged"]:
        print("WARNING: the media model did not converge: " + "; ".join(
            diagnostics["warnings"]))
    print(f"wrote {out}/mmm.json and mmm.csv")


if __name__ == "__main__":  # pragma: no cover - manual use before the subcommand is wired
    _parser = argparse.ArgumentParser(prog="campaign-lab attribute")
    add_arguments(_parser)
    raise SystemExit(main(_parser.parse_args()))
