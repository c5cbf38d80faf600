"""The ``calibrate`` command: fit one model to one data file and write the posterior.

``add_arguments`` fills a parser (a sub-command of the project CLI); ``main`` runs it and
returns the exit status: 0 converged, 1 not converged (with a loud warning), 2 bad data or
scenario (one line, no traceback). Output in ``--out``: posterior.nc, summary.json,
trace.png, ppc.png and, with ``--scenario``, overrides.json (scenario overrides for 100
posterior draws, the first one checked against the scenario).

``--sbc N`` checks the model instead of fitting it: simulation-based calibration over N
prior draws of the model built on this data (:mod:`analysis.calibration.sbc`), writing
sbc.json and sbc.png, with finished chunks kept in ``DIR/sbc_chunks`` so that a rerun
resumes; exit 0 when every parameter's ranks are uniform, 1 when not.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
from pathlib import Path

from simulation.io import write_atomic

from .base import Calibration
from .data import DataError

MODELS = ("bass", "media", "price", "repurchase", "simulator")
SBC_MODELS = ("bass", "media", "price")
OVERRIDE_DRAWS = 100


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the calibration options to ``parser``."""
    parser.add_argument("--model", choices=MODELS, required=True, help="model to fit")
    parser.add_argument("--data", type=Path, required=True, metavar="FILE",
                        help="observed data (CSV or Parquet); for repurchase a transaction "
                        "log (or the CDNOW master) or a customer summary frequency, recency, "
                        "T in weeks")
    parser.add_argument("--series", help="which series of a multi-series adoption file "
                        "(its product column)")
    parser.add_argument("--scenario", type=Path, metavar="FILE",
                        help="scenario to map the posterior onto (writes overrides.json)")
    parser.add_argument("--product", help="scenario product for a repurchase calibration "
                        "(default: the scenario's first product)")
    parser.add_argument("--out", type=Path, default=Path("calibration"), metavar="DIR")
    parser.add_argument("--draws", type=int, metavar="N",
                        help="kept draws per chain (default: the model's, 1000-2000)")
    parser.add_argument("--tune", type=int, metavar="N", help="tuning draws per chain")
    parser.add_argument("--chains", type=int, default=2, metavar="N")
    parser.add_argument("--seed", type=int, default=0, metavar="N")
    parser.add_argument("--population", type=int, default=2000, metavar="N",
                        help="simulator: consumers per simulated campaign (default 2000)")
    parser.add_argument("--simulations", type=int, default=8192, metavar="N",
                        help="simulator: simulated campaigns the emulator is fitted to "
                        "(default 8192)")
    parser.add_argument("--cores", type=int, default=2, metavar="N",
                        help="simulator: processes simulating (default 2)")
    parser.add_argument("--parameters", metavar="A,B",
                        help="simulator: parameters to fit (default: all five)")
    parser.add_argument("--fit-days", type=int, metavar="D",
                        help="simulator: fit the first D days only; the posterior predictive "
                        "check then covers the held-out rest")
    parser.add_argument("--orders", type=Path, metavar="FILE",
                        help="simulator: an order log (customer_id, time, product, price, "
                        "units, source; time in hours since the campaign start or an ISO "
                        "date/time) whose repeat purchases inform loss aversion and anchoring")
    parser.add_argument("--check-draws", type=int, default=40, metavar="N",
                        help="simulator: posterior draws the predictive check simulates at "
                        "the observed market's size (default 40)")
    parser.add_argument("--no-discrepancy", action="store_true",
                        help="simulator: take the model as exact (no model-discrepancy term "
                        "in the likelihood; posteriors narrower and over-confident when the "
                        "data have effects the model lacks)")
    parser.add_argument("--one-stage", action="store_true",
                        help="simulator: fit once, with the emulator over the whole prior "
                        "(about 40%% faster; biased where the truth lies in the prior's "
                        "tails); default: a second, local design around the first posterior")
    parser.add_argument("--prior-from", type=Path, action="append", metavar="DIR",
                        help="simulator: a price or media calibration folder whose posterior "
                        "becomes the prior of the matching parameter (repeatable)")
    parser.add_argument("--resolution", choices=("D", "h", "s"), default="D",
                        help="repurchase from a transaction log: purchases within one day (D), "
                        "hour (h) or second (s) count as one (default D, for date-only logs)")
    parser.add_argument("--lift-tests", type=Path, metavar="FILE",
                        help="media: lift tests (channel, x, delta_x, delta_y, sigma; what "
                        "campaign-lab experiment writes) that calibrate the saturation curves")
    parser.add_argument("--sbc", type=int, metavar="N",
                        help="instead of fitting, run simulation-based calibration over N "
                        "prior draws (" + ", ".join(SBC_MODELS) + ")")


def _load(args: argparse.Namespace):
    """``args.data`` loaded and validated for ``args.model`` (not the simulator)."""
    from . import data

    if args.model == "bass":
        return data.load_adoption(args.data, args.series)
    if args.model == "media":
        return data.load_media(args.data)
    if args.model == "price":
        return data.load_choice_panel(args.data)
    return data.load_repurchase(args.data)


def fit(args: argparse.Namespace) -> Calibration:
    """Load ``args.data`` for ``args.model`` and fit it."""
    options = {"chains": args.chains, "seed": args.seed}
    options.update({k: v for k, v in (("draws", args.draws), ("tune", args.tune))
                    if v is not None})
    if args.model == "simulator":
        return _fit_simulator(args, options)
    if getattr(args, "lift_tests", None) is not None:
        if args.model != "media":
            raise DataError(args.lift_tests, "--lift-tests", None, "lift tests calibrate the "
                            f"media model only, not {args.model}")
        from .lift_tests import load_lift_tests
        from .media import fit_media

        series = _load(args)
        return fit_media(series, lift_tests=load_lift_tests(args.lift_tests, series.channels),
                         **options)
    if args.model == "bass":
        from .bass import fit_bass as fit_model
    elif args.model == "media":
        from .media import fit_media as fit_model
    elif args.model == "price":
        from .price import fit_price as fit_model
    else:
        from .repurchase import fit_repurchase

        options["resolution"] = args.resolution
        fit_model = fit_repurchase
    return fit_model(_load(args), **options)


def _model(args: argparse.Namespace):
    """The PyMC model of ``args.model`` built on ``args.data`` (for SBC)."""
    if args.model == "bass":
        from .bass import bass_model as build
    elif args.model == "media":
        from .media import media_model as build
    else:
        from .price import price_model as build
    return build(_load(args))


def _sbc(args: argparse.Namespace) -> int:
    from .sbc import run_sbc

    if args.model not in SBC_MODELS:
        print(f"error: --sbc supports {', '.join(SBC_MODELS)}, not {args.model}",
              file=sys.stderr)
        return 2
    if args.sbc < 1:
        print(f"error: --sbc needs at least 1 simulation, got {args.sbc}", file=sys.stderr)
        return 2
    try:
        model = _model(args)
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    options = {k: v for k, v in (("draws", args.draws), ("tune", args.tune)) if v is not None}
    key = hashlib.sha256(Path(args.data).read_bytes()).hexdigest() + str(args.series)
    result = run_sbc(model, args.sbc, name=args.model, chains=args.chains, seed=args.seed,
                     checkpoint=args.out / "sbc_chunks", key=key, progress=True, **options)
    paths = result.save(args.out)
    for name, value in result.p_values().items():
        print(f"{name:<28} rank uniformity p = {value:.3f}")
    print("wrote " + ", ".join(str(p) for p in paths.values()))
    if not result.uniform():
        print("WARNING: SBC ranks are NOT uniform: the fit of this model is biased or "
              "mis-scaled; see sbc.png", file=sys.stderr)
        return 1
    print(f"ranks uniform for every parameter over {result.simulations} simulations")
    return 0


def _fit_simulator(args: argparse.Namespace, options: dict) -> Calibration:
    """The full agent model on a campaign's daily series (media layout with gmv and orders,
    and optionally ``orders_<product>`` and ``gmv_<product>`` for every scenario product and
    ``source_orders_<source>`` columns), and optionally an order log (``--orders``); every
    input is validated before any simulation."""
    import time

    import pandas as pd

    import scenarios

    from .data import check_products, check_sources, load_media, load_order_log
    from .order_statistics import scenario_sources
    from .emulator import FitOptions, fit_simulator
    from .agent_model import PARAMETERS
    from .posterior import priors_from

    if args.scenario is None:
        raise DataError(args.data, "--scenario", None, "the simulator calibration needs the "
                        "scenario whose parameters it fits (--scenario FILE)")
    series = load_media(args.data)  # validates dates, spend and outcomes
    frame = pd.read_parquet(args.data) if str(args.data).endswith((".parquet", ".pq")) \
        else pd.read_csv(args.data)
    for column in ("orders", "gmv"):
        if column not in frame:
            raise DataError(args.data, column, None, "the simulator calibration needs both "
                            "orders and gmv per day")
    scenario = scenarios.load(args.scenario)
    products, sources = [p.name for p in scenario.own_products], scenario_sources(scenario)
    check_products(series, products)
    check_sources(series, sources)
    daily = pd.DataFrame({"orders": frame["orders"].to_numpy(float),
                          "gmv": frame["gmv"].to_numpy(float)}, index=series.date)
    for j, product in enumerate(series.products):
        daily[f"orders_{product}"] = series.product_orders[:, j]
        daily[f"gmv_{product}"] = series.product_gmv[:, j]
    for j, source in enumerate(series.sources):
        daily[f"source_orders_{source}"] = series.source_orders[:, j]
    order_log = None if args.orders is None else load_order_log(
        args.orders, products=products, sources=sources,
        start_date=scenario.calendar.start_date, days=scenario.calendar.days)
    if len(daily) != scenario.calendar.days:
        raise DataError(args.data, "date", None, f"{len(daily)} days of data for a "
                        f"{scenario.calendar.days}-day scenario calendar")
    names = tuple(args.parameters.split(",")) if args.parameters else PARAMETERS
    unknown = sorted(set(names) - set(PARAMETERS))
    if unknown:
        raise DataError(args.data, "--parameters", None, f"unknown {unknown}; allowed: "
                        + ", ".join(PARAMETERS))
    if args.fit_days is not None and not 7 <= args.fit_days <= len(daily):
        raise DataError(args.data, "--fit-days", None, f"must be 7 to {len(daily)}, got "
                        f"{args.fit_days}")
    if args.check_draws < 2:
        raise DataError(args.data, "--check-draws", None, f"must be at least 2, got "
                        f"{args.check_draws}")
    priors = {}
    for folder in args.prior_from or []:
        priors.update(priors_from(folder))
    fit_options = FitOptions(population=args.population, simulations=args.simulations,
                             cores=args.cores, seed=args.seed, chains=args.chains,
                             draws=options.get("draws", 1000), tune=options.get("tune", 1000),
                             fit_days=args.fit_days, check_draws=args.check_draws,
                             discrepancy_scale=None if args.no_discrepancy
                             else FitOptions.discrepancy_scale, refine=not args.one_stage)
    started = time.perf_counter()

    def report(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.0f} s] {message}", flush=True)

    for name, prior in priors.items():
        mu, sigma = prior.parameters["mu"], prior.parameters["sigma"]
        report(f"prior of {name} from a component posterior: {prior.distribution}"
               f"(mu={mu:.3f}, sigma={sigma:.3f})")
    return fit_simulator(daily, scenario, parameters=names, priors=priors,
                         options=fit_options, order_log=order_log,
                         store=args.out / "simulations", report=report)


def _informed(summary: dict) -> None:
    """Say, per parameter, how much the data narrowed its prior."""
    from .agent_model import UNINFORMED

    contraction = summary["meta"].get("contraction", {})
    print("posterior sd / prior sd (1 = the data said nothing):")
    for name, ratio in contraction.items():
        verdict = "NOT informed by these data" if ratio > UNINFORMED else "informed"
        print(f"  {name:<28}{ratio:6.2f}  {verdict}")
    left = [n for n, r in contraction.items() if r > UNINFORMED]
    if left:
        print("the data did not inform " + ", ".join(left) + ": their posterior is close to "
              "their prior; give a component posterior with --prior-from DIR (price for "
              "loss_aversion, media for awareness_half_life_hours) or more data")


def _table(summary: dict) -> str:
    head = f"{'parameter':<28}{'mean':>11}{'sd':>10}{'hdi_5%':>11}{'hdi_95%':>11}" \
           f"{'r_hat':>7}{'ess':>7}"
    lines = [head, "-" * len(head)]
    for name, row in summary["parameters"].items():
        cells = [row[k] if row[k] is not None else float("nan")
                 for k in ("mean", "sd", "hdi_5%", "hdi_95%", "r_hat", "ess_bulk")]
        lines.append(f"{name:<28}{cells[0]:>11.4g}{cells[1]:>10.3g}{cells[2]:>11.4g}"
                     f"{cells[3]:>11.4g}{cells[4]:>7.3f}{cells[5]:>7.0f}")
    return "\n".join(lines)


def _overrides(calibration: Calibration, args: argparse.Namespace) -> Path:
    import scenarios

    scenario = scenarios.load(args.scenario)
    product = args.product or scenario.products[0].name
    total = len(calibration.draws(calibration.parameters[0]))
    n = min(OVERRIDE_DRAWS, total)  # evenly spaced over all draws; every draw if fewer
    picks = sorted({round(i * (total - 1) / max(n - 1, 1)) for i in range(n)})
    from .overrides import to_overrides

    rows = [to_overrides(calibration, d, product=product) for d in picks]
    if rows and rows[0]:
        scenarios.with_overrides(scenario, rows[0])  # refuses a field the scenario lacks
    path = args.out / "overrides.json"
    text = json.dumps({"scenario": str(args.scenario), "draws": picks, "overrides": rows},
                      indent=2)
    write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return path


def main(args: argparse.Namespace) -> int:
    """Run a calibration; see the module docstring for the exit status."""
    from scenarios import ScenarioError

    if args.sbc is not None:
        return _sbc(args)
    quiet = logging.getLogger("pymc")
    level = quiet.level
    quiet.setLevel(logging.WARNING)
    try:
        calibration = fit(args)
        paths = calibration.save(args.out)
        if args.scenario is not None:
            paths["overrides"] = _overrides(calibration, args)
    except (DataError, ScenarioError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        quiet.setLevel(level)
    summary = json.loads(paths["summary"].read_text(encoding="utf-8"))
    print(_table(summary))
    if summary["model"] == "simulator":
        _informed(summary)
    print("wrote " + ", ".join(str(p) for p in paths.values()))
    diagnostics = summary["diagnostics"]
    if not diagnostics["converged"]:
        print("!" * 72, file=sys.stderr)
        print("WARNING: the calibration did NOT converge; do not use this posterior:",
              file=sys.stderr)
        for w in diagnostics["warnings"]:
            print(f"  - {w}", file=sys.stderr)
        print("!" * 72, file=sys.stderr)
        return 1
    print(f"converged: max r_hat {diagnostics['max_r_hat']:.3f}, "
          f"min ess {diagnostics['min_ess']:.0f}, {diagnostics['divergences']} divergences")
    return 0
