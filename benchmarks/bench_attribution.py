"""Attribution benchmark: our models against ChannelAttribution on Data.csv (10,000 paths),
each side timed doing the same work.

    .venv/bin/python benchmarks/bench_attribution.py [--data PATH] [--repeats N]

Same work on both sides:

- every timed call starts from the same table of ``a > b > c`` path strings, so our side
  parses the paths in every call, as ChannelAttribution does;
- heuristics: one call of ChannelAttribution's ``heuristic_models`` credits conversions and
  value by last touch, first touch and linear together; ours is timed doing those three;
- Markov (conversions; ours also splits the value by the same shares at no cost): ours solves
  the chain exactly, ChannelAttribution's ``markov_model`` estimates the removal effects by
  simulating paths (at least ``nsim_start``, repeated ``nfold`` = 10 times and grown until
  they vary by less than 5%; ``max_step`` truncates a path, by default at the longest
  observed one). An estimate is not the exact answer, so each of its rows reports its error
  against ours: the largest difference in a channel's share of the credit (percentage
  points) and in a removal effect. It is run at its defaults (10^5 paths) and at 10^6 paths
  with ``max_step=1000`` (the setting the tests compare with).

Models without a counterpart there (time-decay, position-based, Shapley) are timed on our side
only, parsing included. Times are the least CPU time of ``--repeats`` calls after one
warm-up call, in this process. Figures go to stdout and to benchmarks/results/attribution.json.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import time
from pathlib import Path

import pandas as pd

RESULTS = Path(__file__).parent / "results"
SHARED = os.environ.get("CAMPAIGN_LAB_SHARED_DATA") or Path(__file__).resolve().parents[2] / \
    "shared" / "data"
DATA = Path(SHARED) / "attribution" / "Data.csv"
ORDERS = (1, 2, 3)
ESTIMATES = {"default (1e5 paths)": {}, "1e6 paths": {"nsim_start": 1e6, "max_step": 1000}}


def timed(fn, repeats: int) -> float:
    """Least CPU seconds of this process over ``repeats`` calls. Both sides compute on one
    thread, so CPU time is their work; other load on the machine can only add to it, so the
    least of several calls is the least disturbed (as ``timeit`` advises)."""
    fn()
    runs = []
    for _ in range(repeats):
        start = time.process_time()
        fn()
        runs.append(time.process_time() - start)
    return min(runs)


def ours(raw: pd.DataFrame, orders=ORDERS) -> dict:
    """Our models as calls from the raw path table (parsing included)."""
    from analysis.attribution import heuristics, markov, shapley
    from analysis.attribution.journeys import read_paths

    def each(*models):
        def call():
            journeys = read_paths(raw)
            return [model(journeys) for model in models]
        return call

    calls = {"last + first + linear": each(heuristics.last_click, heuristics.first_click,
                                           heuristics.linear),
             "time_decay": each(heuristics.time_decay),
             "position_based": each(heuristics.position_based),
             "shapley": each(shapley.shapley)}
    for order in orders:
        calls[f"markov_{order}"] = each(lambda j, k=order: markov.markov(j, order=k))
    return calls


def channel_attribution():
    with contextlib.redirect_stdout(io.StringIO()):  # it prints a banner on import
        try:
            import ChannelAttribution
        except ImportError:
            return None
    return ChannelAttribution


def theirs_heuristics(ca, raw: pd.DataFrame):
    return lambda: ca.heuristic_models(raw, "path", "total_conversions",
                                       var_value="total_conversion_value", flg_pro=False)


def theirs_markov(ca, raw: pd.DataFrame, order: int, options: dict):
    return lambda: ca.markov_model(raw, "path", "total_conversions", var_null="total_null",
                                   order=order, out_more=True, verbose=False, flg_pro=False,
                                   **options)


def markov_error(exact, estimate) -> dict:
    """Largest absolute differences of an estimate from the exact solve."""
    effects = estimate["removal_effects"].set_index("channel_name").iloc[:, 0]
    credit = estimate["result"].set_index("channel_name")["total_conversions"]
    share = exact.credit["conversions"] / exact.credit["conversions"].sum()
    their_share = credit.reindex(share.index).fillna(0.0) / credit.sum()
    return {"share_pp": float((share - their_share).abs().max() * 100),
            "removal_effect": float((exact.removal_effects
                                     - effects.reindex(share.index).fillna(0.0)).abs().max())}


def measure(raw: pd.DataFrame, repeats: int, *, orders=ORDERS,
            estimates: dict = ESTIMATES) -> list[dict]:
    """One row per model and side: CPU seconds, and the error of simulated Markov credit."""
    from analysis.attribution import markov
    from analysis.attribution.journeys import read_paths

    ca = channel_attribution()
    rows = []
    for name, call in ours(raw, orders).items():
        rows.append({"model": name, "side": "ours", "seconds": timed(call, repeats)})
        if ca is None:
            continue
        if name == "last + first + linear":
            rows.append({"model": name, "side": "ChannelAttribution",
                         "seconds": timed(theirs_heuristics(ca, raw), repeats)})
        if name.startswith("markov_"):
            order = int(name.split("_")[1])
            exact = markov.markov(read_paths(raw), order=order)
            for label, options in estimates.items():
                call = theirs_markov(ca, raw, order, options)
                rows.append({"model": name, "side": f"ChannelAttribution, {label}",
                             "seconds": timed(call, repeats), **markov_error(exact, call())})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    raw = pd.read_csv(args.data)
    rows = measure(raw, args.repeats)
    print(f"{len(raw):,} paths; every call parses them; least CPU time of {args.repeats} calls")
    print(f"{'model':<24}{'side':<42}{'CPU ms':>9}{'x ours':>8}{'share err':>11}{'RE err':>8}")
    mine = {}
    for row in rows:
        if row["side"] == "ours":
            mine[row["model"]] = row["seconds"]
        ratio = row["seconds"] / mine[row["model"]]
        row["ratio_to_ours"] = ratio
        err = (f"{row['share_pp']:>9.2f}pp{row['removal_effect']:>8.4f}"
               if "share_pp" in row else "")
        print(f"{row['model']:<24}{row['side']:<42}{row['seconds'] * 1e3:>9.1f}"
              f"{ratio:>7.2f}x{err}")
    if channel_attribution() is None:
        print("ChannelAttribution is not installed: no reference times")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "attribution.json").write_text(json.dumps(
        {"paths": len(raw), "repeats": args.repeats, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
