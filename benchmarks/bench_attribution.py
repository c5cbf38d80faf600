"""Attribution benchmark: every model on Data.csv (10,000 paths), side by side with
ChannelAttribution where it is installed.

    .venv/bin/python benchmarks/bench_attribution.py [--data PATH] [--repeats N]

Times are the median of ``--repeats`` calls, after one warm-up call, in this process.
ChannelAttribution's Markov model simulates paths (10^5 by default, as in its docs; its
``max_step`` default truncates them at the longest observed path); ours solves the chain
exactly, so the ratio compares a default estimate with an exact solve. Figures go to stdout
and to benchmarks/results/attribution.json.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import statistics
import time
from pathlib import Path

import pandas as pd

RESULTS = Path(__file__).parent / "results"
DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "attribution" / "Data.csv"


def timed(fn, repeats: int) -> float:
    fn()
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def ours(journeys) -> dict:
    from analysis.attribution import heuristics, markov, shapley

    return {
        "last_click": lambda: heuristics.last_click(journeys),
        "first_click": lambda: heuristics.first_click(journeys),
        "linear": lambda: heuristics.linear(journeys),
        "time_decay": lambda: heuristics.time_decay(journeys),
        "position_based": lambda: heuristics.position_based(journeys),
        "markov_1": lambda: markov.markov(journeys, order=1),
        "markov_2": lambda: markov.markov(journeys, order=2),
        "markov_3": lambda: markov.markov(journeys, order=3),
        "shapley": lambda: shapley.shapley(journeys),
    }


def theirs(raw: pd.DataFrame) -> dict:
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            import ChannelAttribution as ca
        except ImportError:
            return {}
    common = dict(var_path="path", var_conv="total_conversions",
                  var_value="total_conversion_value")

    def heuristic():
        ca.heuristic_models(raw, flg_pro=False, **common)

    def markov(order):
        return lambda: ca.markov_model(raw, var_null="total_null", order=order, verbose=False,
                                       flg_pro=False, **common)

    # One call of heuristic_models computes last, first and linear together.
    return {"last_click": heuristic, "first_click": heuristic, "linear": heuristic,
            "markov_1": markov(1), "markov_2": markov(2), "markov_3": markov(3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    from analysis.attribution.journeys import read_paths

    raw = pd.read_csv(args.data)
    load = timed(lambda: read_paths(raw), args.repeats)
    journeys = read_paths(raw)
    mine, ref = ours(journeys), theirs(raw)
    rows = []
    for name, fn in mine.items():
        t = timed(fn, args.repeats)
        r = timed(ref[name], args.repeats) if name in ref else None
        rows.append({"model": name, "ours_s": t, "channelattribution_s": r,
                     "ratio_theirs_over_ours": (r / t) if r else None})
    print(f"{len(raw):,} paths, {len(journeys.touches):,} touches, "
          f"{len(journeys.channels)} channels; parsing the paths: {load * 1e3:.1f} ms")
    print(f"{'model':<16}{'ours (ms)':>12}{'ChannelAttr. (ms)':>20}{'theirs/ours':>14}")
    for row in rows:
        r = row["channelattribution_s"]
        ratio = row["ratio_theirs_over_ours"]
        print(f"{row['model']:<16}{row['ours_s'] * 1e3:>12.2f}"
              f"{(f'{r * 1e3:.2f}' if r else '-'):>20}{(f'{ratio:.1f}x' if ratio else '-'):>14}")
    if not ref:
        print("ChannelAttribution is not installed: no reference times")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "attribution.json").write_text(json.dumps(
        {"paths": len(raw), "parse_s": load, "models": rows}, indent=2))


if __name__ == "__main__":
    main()
