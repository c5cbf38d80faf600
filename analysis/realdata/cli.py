"""``campaign-lab validate-real``: the agent model against the regression on Dominick's orange
juice (held-out weeks and held-out deals); writes ``comparison.csv``, ``elasticities.csv``
and ``comparison.md`` to ``--out``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from scenarios import ScenarioError

DEFAULT_DATA = Path("../shared/data/bayesm")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA / "orangeJuice_yx.csv.gz")
    parser.add_argument("--demographics", type=Path,
                        default=DEFAULT_DATA / "orangeJuice_storedemo.csv")
    parser.add_argument("--stores", type=int, default=None, help="first n stores (all)")
    parser.add_argument("--fit-last", type=int, default=120, help="last fitted week")
    parser.add_argument("--last", type=int, default=160, help="last forecast week")
    parser.add_argument("--population", type=int, default=500,
                        help="consumers simulated per store")
    parser.add_argument("--grid", default="1,3,6", help="price sensitivities tried")
    parser.add_argument("--loss-grid", default="0.1,0.5,1", help="loss aversions tried")
    parser.add_argument("--no-refine", action="store_true",
                        help="keep the best point of the grid (default: a finer grid around "
                             "the maximum of a quadratic surface, then the surface's maximum)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("results/validate_real"))


def main(args: argparse.Namespace) -> int:
    from analysis.calibration.data import DataError

    from .oj import load_oj_panel
    from .study import Design, markdown, run_study

    grid = _numbers(args.grid, "--grid", "price sensitivities")
    loss_grid = _numbers(args.loss_grid, "--loss-grid", "loss aversions")
    if not 40 <= args.fit_last < args.last <= 160:
        raise ScenarioError("--fit-last", "fit_last", "need 40 <= --fit-last < --last <= 160",
                            f"{args.fit_last}, {args.last}")
    design = Design(fit_last=args.fit_last, last=args.last, stores=args.stores,
                    population=args.population, grid=grid, loss_grid=loss_grid,
                    refine=not args.no_refine, seed=args.seed)
    try:
        study = run_study(load_oj_panel(args.data, args.demographics), design)
    except DataError as exc:
        print(f"campaign-lab: error: {exc}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    study.table.to_csv(args.out / "comparison.csv")
    (args.out / "comparison.md").write_text(markdown(study, design))
    import pandas as pd

    pd.concat(study.elasticities, names=["model"]).to_csv(args.out / "elasticities.csv")
    print(markdown(study, design))
    print(f"wrote {args.out}/comparison.csv, comparison.md, elasticities.csv")
    return 0


def _numbers(text: str, option: str, what: str) -> tuple[float, ...]:
    """A comma-separated list of positive numbers (``ScenarioError`` naming the option)."""
    field = option.removeprefix("--").replace("-", "_")
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise ScenarioError(option, field, "must be numbers separated by commas",
                            text) from None
    if any(not v > 0 for v in values):
        raise ScenarioError(option, field, f"{what} must be > 0", text)
    return values
