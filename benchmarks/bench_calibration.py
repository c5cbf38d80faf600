"""Wall time of each calibration model on the shipped data sets (issue 4).

Each row is one NUTS fit (2 chains with each model's default draws: 1,000 tuning and 2,000
kept for Bass, 1,000 and 1,000 for the others, on this machine's 2 cores), including model
compilation and the posterior-predictive draws, on the real data in ../shared/data.
``--draws`` and ``--tune`` make a quicker pass.

The media row uses the Lydia Pinkham series (Palda 1964: annual advertising and sales,
1907-1960) in the media layout (date, spend_advertising, gmv=sales), the only shipped
series with spend; it has no weekday effects, being annual.

Run: ``.venv/bin/python benchmarks/bench_calibration.py [--draws N] [--tune N]``.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
import warnings
from pathlib import Path

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, help="kept draws per chain (default: model's)")
    parser.add_argument("--tune", type=int, help="tuning draws per chain")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    logging.getLogger("pymc").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    options = {"chains": 2, "seed": args.seed}
    options.update({k: v for k, v in (("draws", args.draws), ("tune", args.tune)) if v})
    print(f"{'model / data':<34}{'size':>18}{'wall s':>9}{'min ess':>9}{'max r_hat':>10}"
          f"{'converged':>11}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, size, run in cases(Path(tmp)):
            start = time.perf_counter()
            cal = run(options)
            wall = time.perf_counter() - start
            d = cal.summary()["diagnostics"]
            print(f"{name:<34}{size:>18}{wall:>9.1f}{d['min_ess']:>9.0f}"
                  f"{d['max_r_hat'] or float('nan'):>10.3f}{str(d['converged']):>11}",
                  flush=True)


if __name__ == "__main__":
    main()
