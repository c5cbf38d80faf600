"""Wall time of each calibration model (Bass, price, media, repurchase) on the shipped data
sets, and with ``--simulator`` of the agent model's fit.

Each row is one NUTS fit (2 chains with each model's default draws: 1,000 tuning and 2,000
kept for Bass, 1,000 and 1,000 for the others, on this machine's 2 cores), including model
compilation and the posterior-predictive draws, on the real data in ../shared/data.
``--draws`` and ``--tune`` make a quicker pass.

The media row uses the Lydia Pinkham series (Palda 1964: annual advertising and sales,
1907-1960) in the media layout (date, spend_advertising, gmv=sales), the only shipped
series with spend; it has no weekday effects, being annual.

``--simulator`` times the agent model's fit instead (the CLI's defaults: five parameters of
``food_group_buying``, 8,192 design campaigns of ``--population`` consumers, default 2,000 x
21 days, on 2 cores), on a campaign simulated at known values in a ``--market``-consumer
market (default 200,000), fitted on its first 14 days; it prints each parameter's posterior,
whether its 90% interval covers the truth, its contraction, R-hat/ESS and the held-out
coverage. ``--simulator --sbc N`` runs simulation-based calibration over N prior truths
(figure in benchmarks/results/simulator_sbc.png; resumable).

Run: ``.venv/bin/python benchmarks/bench_calibration.py [--draws N] [--tune N] [--only MODEL
...]`` or
``.venv/bin/python benchmarks/bench_calibration.py --simulator [--market N] [--population N]
[--compare-populations N N]``.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.calibration.bass import fit_bass
from analysis.calibration.data import (
    load_adoption,
    load_choice_panel,
    load_media,
    load_transactions,
)
from analysis.calibration.media import fit_media
from analysis.calibration.price import fit_price
from analysis.calibration.repurchase import fit_repurchase

RESULTS = Path(__file__).parent / "results"
DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _pinkham_media(tmp: Path) -> Path:
    frame = pd.read_csv(DATA / "ad_sales" / "pinkham.csv")
    path = tmp / "pinkham_media.csv"
    pd.DataFrame({"date": frame["year"].astype(str) + "-01-01",
                  "spend_advertising": frame["advertising"],
                  "gmv": frame["sales"]}).to_csv(path, index=False)
    return path


def cases(tmp: Path):
    """(name, size, zero-argument fit) for every benchmarked data set."""
    durables = DATA / "bass_durables.csv"
    for series in ("room_air_conditioners", "color_tv", "clothes_dryers"):
        s = load_adoption(durables, series)
        yield f"bass {series}", f"{len(s.period)} periods", lambda o, s=s: fit_bass(s, **o)
    for name in ("Yogurt", "Catsup"):
        p = load_choice_panel(DATA / "scanner_panels" / f"ecdat_{name}.csv")
        size = f"{len(p.choice)} purchases"
        yield f"price {name}", size, lambda o, p=p: fit_price(p, **o)
        yield f"price {name} (random coef.)", size, \
            lambda o, p=p: fit_price(p, heterogeneous=True, **o)
    m = load_media(_pinkham_media(tmp))
    yield "media Pinkham", f"{len(m.date)} years", lambda o, m=m: fit_media(m, **o)
    log = load_transactions(DATA / "cdnow" / "CDNOW_master.txt")
    yield "repurchase CDNOW (39 weeks)", "23,570 customers", \
        lambda o, log=log: fit_repurchase(log, calibration_end="1997-09-30", **o)


SIMULATOR_TRUTH = {"awareness_half_life_hours": 45.0, "base_utility_shift": 0.5,
                   "loss_aversion": 2.6, "word_of_mouth": 1.6, "anchoring_weight": 0.45}


def simulator_fit(population: int, market: int, simulations: int, seed: int,
                  scenario: str = "food_group_buying"):
    """The CLI's five-parameter fit (``FitOptions`` defaults, ``population`` consumers per
    design campaign) of a campaign simulated at known values in a ``market``-consumer
    market, fitted on its first 14 of 21 days; returns (calibration, wall seconds)."""
    import scenarios
    import simulation
    from analysis.calibration.agent_model import overrides
    from analysis.calibration.emulator import FitOptions, fit_simulator

    base = simulation.rescale(scenarios.load(scenario), market)
    truth = scenarios.with_overrides(base, overrides(base, SIMULATOR_TRUTH))
    observed = simulation.run(truth, seed=seed + 1000, log_touchpoints=False)
    daily = observed.timeseries.groupby("day")[["orders", "gmv"]].sum()
    start = time.perf_counter()
    options = FitOptions(population=population, simulations=simulations, fit_days=14,
                         seed=seed)
    store = RESULTS / ("simulator_design" if population == 2000
                       else f"simulator_design_{population}")
    cal = fit_simulator(daily, base, options=options, store=store,
                        report=lambda m: print(f"[{time.perf_counter() - start:5.0f} s] {m}",
                                               flush=True))
    return cal, time.perf_counter() - start


def simulator_case(population: int, market: int, simulations: int, seed: int,
                   scenario: str = "food_group_buying") -> None:
    """Time the fit; print recovery, contraction, R-hat, ESS and the held-out coverage."""
    from analysis.calibration.emulator import held_out_coverage

    cal, wall = simulator_fit(population, market, simulations, seed, scenario)
    summary = cal.summary()
    d = summary["diagnostics"]
    print(f"simulator {scenario}: data from {market:,} consumers, {simulations:,} "
          f"design points of {population:,} consumers: {wall:.0f} s; max r_hat "
          f"{d['max_r_hat']:.3f}, min ess {d['min_ess']:.0f}, converged {d['converged']}")
    for name, value in SIMULATOR_TRUTH.items():
        row = summary["parameters"][name]
        covered = row["hdi_5%"] <= value <= row["hdi_95%"]
        print(f"  {name:<28} truth {value:>6.2f}  mean {row['mean']:>7.3f}  90% "
              f"[{row['hdi_5%']:.3f}, {row['hdi_95%']:.3f}]  covered {covered}  "
              f"sd/prior sd {cal.meta['contraction'][name]:.2f}")
    print(f"  held-out days 14-20: {held_out_coverage(cal.check, 14):.0%} of daily orders "
          "inside the 90% predictive interval", flush=True)
    return cal


def same_posterior_case(populations: list[int], market: int, simulations: int,
                        seed: int) -> None:
    """Fit the same data with design campaigns of each size in ``populations``; print each
    parameter's posterior mean and sd side by side and the difference of the means in
    units of their combined sd (size-free statistics should make it small)."""
    fits = [simulator_case(p, market, simulations, seed) for p in populations]
    a, b = (f.summary()["parameters"] for f in fits[:2])
    print(f"same data, design campaigns of {populations[0]:,} vs {populations[1]:,} consumers:")
    for name in SIMULATOR_TRUTH:
        x, y = a[name], b[name]
        z = (x["mean"] - y["mean"]) / np.hypot(x["sd"], y["sd"])
        print(f"  {name:<28} {x['mean']:>7.3f} (sd {x['sd']:.3f})  {y['mean']:>7.3f} "
              f"(sd {y['sd']:.3f})  difference {z:+.2f} combined sd")


KINDS = ("daily totals", "+ orders by source", "+ order log")


def simulator_information(market: int, simulations: int, seed: int,
                          scenario: str = "food_group_buying") -> None:
    """Per parameter, posterior sd / prior sd with each kind of data: daily totals only,
    then orders by source, then the order log too, on one campaign simulated at
    ``SIMULATOR_TRUTH`` in a ``market``-consumer food_group_buying (all 21 days). One
    design serves every fit (it records every kind); the first fit, with every kind of data
    and the CLI's defaults, is timed end to end (design, size check, sampling, predictive
    check)."""
    import dataclasses

    import scenarios
    import simulation
    from analysis.calibration.agent_model import PRIORS, overrides
    from analysis.calibration.emulator import FitOptions, fit_simulator
    from analysis.calibration.order_statistics import shop_export

    base = simulation.rescale(scenarios.load(scenario), market)
    truth = scenarios.with_overrides(base, overrides(base, SIMULATOR_TRUTH))
    daily, orders = shop_export(simulation.run(truth, seed=seed + 1000,
                                               log_touchpoints=False))
    totals = daily[["orders", "gmv"]]
    cases = {KINDS[2]: (daily, orders), KINDS[1]: (daily, None), KINDS[0]: (totals, None)}
    options = FitOptions(simulations=simulations, seed=seed, draws=1000, tune=1000)  # CLI's
    rows = {}
    for i, (kind, (data, log)) in enumerate(cases.items()):
        start = time.perf_counter()
        cal = fit_simulator(data, base, order_log=log, store=RESULTS / f"simulator_design_all_{scenario}",
                            options=options if i == 0 else dataclasses.replace(
                                options, check_draws=2),
                            report=lambda m, s=start: print(
                                f"[{time.perf_counter() - s:5.0f} s] {m}", flush=True))
        summary = cal.summary()["parameters"]
        rows[kind] = {n: (cal.meta["contraction"][n],
                          summary[n]["hdi_5%"] <= SIMULATOR_TRUTH[n] <= summary[n]["hdi_95%"])
                      for n in PRIORS}
        print(f"{kind}: {time.perf_counter() - start:.0f} s, converged "
              f"{cal.summary()['diagnostics']['converged']}, discrepancy "
              f"{ {k: round(v, 3) for k, v in cal.meta['discrepancy_sd'].items()} }")
    print("| data | " + " | ".join(PRIORS) + " |")
    print("|---" * (len(PRIORS) + 1) + "|")
    for kind in KINDS:
        print(f"| {kind} | " + " | ".join(f"{r:.2f}{'' if c else ' (missed)'}"
                                         for r, c in rows[kind].values()) + " |")


def simulator_sbc_case(n: int, simulations: int, seed: int, population: int,
                       market: int, scenario: str = "food_group_buying") -> None:
    """Simulation-based calibration of the agent-model fit over ``n`` prior truths, each
    simulated in a ``market``-consumer market and fitted with a design of ``population``
    consumers per campaign (the regime of real fits when ``market`` is 100 x ``population``),
    on every statistic (daily totals, orders by source, repeats)."""
    import scenarios
    import simulation
    from analysis.calibration.emulator import FitOptions
    from analysis.calibration.simulator_sbc import simulator_sbc

    base = simulation.rescale(scenarios.load(scenario), market)
    start = time.perf_counter()
    result = simulator_sbc(base, n, options=FitOptions(population=population,
                                                       simulations=simulations, draws=500,
                                                       tune=500, seed=seed),
                           store=RESULTS / f"simulator_sbc_{scenario}_{population}_{market}",
                           design_store=RESULTS / f"simulator_design_all_{scenario}_{population}",
                           progress=lambda d, t: print(f"  {d}/{t} fits", flush=True))
    RESULTS.mkdir(exist_ok=True)
    result.plot().savefig(RESULTS / f"simulator_sbc_{scenario}.png", dpi=90)
    print(f"SBC of the agent-model fit, {n} truths in a {market:,}-consumer market, design "
          f"of {population:,}, {time.perf_counter() - start:.0f} s:")
    contraction = result.contraction.mean(axis=0)
    for (name, p), c in zip(result.p_values().items(), contraction, strict=True):
        print(f"  {name:<28} rank uniformity p = {p:.3f}   mean posterior sd / prior sd "
              f"{c:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, help="kept draws per chain (default: model's)")
    parser.add_argument("--tune", type=int, help="tuning draws per chain")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--simulator", action="store_true",
                        help="time the agent model's fit instead")
    parser.add_argument("--information", action="store_true",
                        help="--simulator: posterior sd / prior sd per parameter with each "
                        "kind of data (daily totals, + orders by source, + order log)")
    parser.add_argument("--scenario", default="food_group_buying",
                        help="--simulator: the preset (or TOML) whose campaign is fitted")
    parser.add_argument("--population", type=int, default=2000)
    parser.add_argument("--market", type=int, default=200_000,
                        help="--simulator: consumers of the market the data come from")
    parser.add_argument("--simulations", type=int, default=8192)
    parser.add_argument("--sbc", type=int, metavar="N",
                        help="--simulator: simulation-based calibration over N truths")
    parser.add_argument("--compare-populations", nargs=2, type=int, metavar="N",
                        help="--simulator: fit the same data with design campaigns of "
                             "both sizes and compare the posteriors")
    parser.add_argument("--only", nargs="+", metavar="MODEL",
                        help="time only these models (bass, price, media, repurchase)")
    args = parser.parse_args()
    logging.getLogger("pymc").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    if args.simulator and args.sbc:
        simulator_sbc_case(args.sbc, args.simulations, args.seed, args.population,
                           args.market, args.scenario)
        return
    if args.simulator and args.information:
        simulator_information(args.market, args.simulations, args.seed, args.scenario)
        return
    if args.simulator and args.compare_populations:
        same_posterior_case(args.compare_populations, args.market, args.simulations,
                            args.seed)
        return
    if args.simulator:
        simulator_case(args.population, args.market, args.simulations, args.seed,
                       args.scenario)
        return
    options = {"chains": 2, "seed": args.seed}
    options.update({k: v for k, v in (("draws", args.draws), ("tune", args.tune)) if v})
    print(f"{'model / data':<34}{'size':>18}{'wall s':>9}{'min ess':>9}{'max r_hat':>10}"
          f"{'converged':>11}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, size, run in cases(Path(tmp)):
            if args.only and name.split()[0] not in args.only:
                continue
            start = time.perf_counter()
            cal = run(options)
            wall = time.perf_counter() - start
            d = cal.summary()["diagnostics"]
            print(f"{name:<34}{size:>18}{wall:>9.1f}{d['min_ess']:>9.0f}"
                  f"{d['max_r_hat'] or float('nan'):>10.3f}{str(d['converged']):>11}",
                  flush=True)


if __name__ == "__main__":
    main()
