"""``campaign-lab experiment``: a lift test inside the simulated campaign.

    campaign-lab experiment mini --channel video --design holdout --share 0.5 \\
        --window 1:4 --seeds 20 --out results/mini/lift

Writes ``lift_tests.csv`` (one row per seed: PyMC-Marketing's ``channel, x, delta_x,
delta_y, sigma`` and beside them the interval, the counterfactual truth and whether the
interval covers it), ``lift_tests_pooled.csv`` (the seeds' tests as one;
``calibrate --model media --lift-tests`` and ``attribute --mmm --lift-tests`` read either)
and ``lift_tests.json`` (the summary). Exit status 0, or 2 with a one-line message naming the
option on a bad design.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import scenarios
from scenarios import ScenarioError

from .lift import DESIGNS, GEO_UNITS, Design, LiftTestError, run_lift_test


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", help="preset name or TOML file")
    parser.add_argument("--channel", required=True, help="the channel tested")
    parser.add_argument("--design", choices=DESIGNS, required=True,
                        help="holdout: a share of consumers not served; geo: regions go "
                        "dark; pulse: the channel off for everyone in the window")
    parser.add_argument("--window", default=None, metavar="START:END",
                        help="days of the test, END excluded (default: the whole calendar)")
    parser.add_argument("--share", type=float, default=0.5,
                        help="control share of consumers (holdout) or regions (geo regions); "
                        "strictly between 0 and 1 (default 0.5)")
    parser.add_argument("--geo", choices=GEO_UNITS, default="regions",
                        help="geo units: random regions (default) or the city tiers")
    parser.add_argument("--regions", type=int, default=20, help="random regions (default 20)")
    parser.add_argument("--control-tier", default="lower",
                        help="geo by tiers: the tier that goes dark (default lower)")
    parser.add_argument("--seeds", type=int, default=20, metavar="R",
                        help="replications, one test per seed (default 20)")
    parser.add_argument("--seed", type=int, default=None,
                        help="seed of the replication seeds (default: the scenario's)")
    parser.add_argument("--population", type=int, default=None,
                        help="consumers per run (budgets scale with it)")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help="output folder (default: results/<scenario>/lift_<channel>)")


def parse_window(text: str | None, days: int) -> tuple[int, int]:
    """``START:END`` days (END excluded); the whole calendar when ``text`` is None."""
    if text is None:
        return 0, days
    try:
        start, end = (int(p) for p in text.split(":"))
    except ValueError:
        raise LiftTestError(f"--window: give START:END in whole days, e.g. 1:4, got "
                            f"{text!r}") from None
    return start, end


def main(args: argparse.Namespace) -> int:
    from analysis.attribution.ground_truth import replication_seeds

    try:
        if args.seeds < 2:
            raise LiftTestError(f"--seeds: need at least 2 replications, got {args.seeds}")
        if args.population is not None and args.population < 100:
            raise LiftTestError(f"--population: need at least 100 consumers, got "
                                f"{args.population}")
        scenario = scenarios.load(args.scenario)
        start, end = parse_window(args.window, scenario.calendar.days)
        design = Design(args.channel, args.design, start, end, share=args.share,
                        geo=args.geo, regions=args.regions, control_tier=args.control_tier)
        seeds = replication_seeds(scenario.seed if args.seed is None else args.seed,
                                  args.seeds)
        test = run_lift_test(scenario, design, seeds, population=args.population)
    except (ScenarioError, LiftTestError) as exc:
        print(f"campaign-lab experiment: error: {exc}", file=sys.stderr)
        return 2
    out = test.save(args.out or Path("results") / scenario.name / f"lift_{args.channel}")
    pooled = test.pooled().iloc[0]
    print(f"{args.design} test of {args.channel}, days {start}:{end}, {args.seeds} seeds: "
          f"lift {pooled['delta_y']:,.1f} GMV/day (se {pooled['sigma']:,.1f}) at "
          f"{pooled['delta_x']:,.1f} spend/day; truth {pooled['truth']:,.1f}; one seed's "
          f"90% interval covers it in {test.coverage:.0%} of seeds")
    print(f"wrote {out}/lift_tests.csv, lift_tests_pooled.csv and lift_tests.json")
    return 0
