"""Loading a real follow graph from an edge list (CSV or Parquet), validated before any run.

Columns: ``follower``, ``followee`` (node ids 0 .. population - 1), optionally ``weight``
(>= 0, multiplies the tie's influence probability) and ``tie`` (``kol``, ``koc`` or
``friend``). Without a ``tie`` column, roles follow audience size: the accounts with the most
followers are KOLs (the scenario's ``kol_share``), the next ones KOCs (``koc_share``); the
rest of the ties are friendships. Every problem names the file, the row and the column.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from scenarios import ScenarioError
from scenarios.social import Network

from .network import (
    ROLE_KOC,
    ROLE_KOL,
    TIE_FRIEND,
    TIE_KOC,
    TIE_KOL,
    TIE_NAMES,
    FollowGraph,
    from_edges,
)

REQUIRED = ("follower", "followee")
OPTIONAL = ("weight", "tie")
BYTES_PER_EDGE = 64  # peak while parsing, sorting and building the CSR arrays
MEMORY_SHARE = 0.5  # refuse graphs that would need more than this share of the RAM


def load_edges(path: str | Path, n: int, settings: Network) -> FollowGraph:
    """The follow graph of ``n`` consumers from the edge list at ``path``."""
    path = Path(path)
    frame = _read(path)
    where = str(path)
    line = 2 if path.suffix.lower() == ".csv" else 1  # CSV rows start after the header

    def fail(row: int | None, column: str, problem: str, value=None):
        field = column if row is None else f"row {row + line} ({column})"
        raise ScenarioError(where, field, problem, value)

    ids = {}
    for col in REQUIRED:
        values = pd.to_numeric(frame[col], errors="coerce")
        bad = values.isna() | (values != np.floor(values))
        if bad.any():
            r = int(np.flatnonzero(bad.to_numpy())[0])
            fail(r, col, "must be a whole-number node id", frame[col].iloc[r])
        arr = values.to_numpy(dtype=np.int64)
        out = (arr < 0) | (arr >= n)
        if out.any():
            r = int(np.flatnonzero(out)[0])
            fail(r, col, f"unknown node id; ids run from 0 to {n - 1} "
                 f"(market.population = {n:,})", int(arr[r]))
        ids[col] = arr
    follower, followee = ids["follower"], ids["followee"]
    loops = follower == followee
    if loops.any():
        r = int(np.flatnonzero(loops)[0])
        fail(r, "follower, followee", "a self-loop (an account following itself)",
             int(follower[r]))
    key = followee * n + follower
    order = np.argsort(key, kind="stable")
    repeated = np.flatnonzero(key[order][1:] == key[order][:-1])
    if len(repeated):
        r = int(order[repeated[0] + 1])
        fail(r, "follower, followee", f"duplicate tie (first at row "
             f"{int(order[repeated[0]]) + line})", (int(follower[r]), int(followee[r])))

    weight = None
    if "weight" in frame:
        w = pd.to_numeric(frame["weight"], errors="coerce").to_numpy(dtype=np.float64)
        bad = ~np.isfinite(w) | (w < 0)
        if bad.any():
            r = int(np.flatnonzero(bad)[0])
            fail(r, "weight", "must be a finite number >= 0", frame["weight"].iloc[r])
        weight = w.astype(np.float32)
    if "tie" in frame:
        names = frame["tie"].astype(str).str.strip().str.lower()
        known = names.isin(TIE_NAMES).to_numpy()
        if not known.all():
            r = int(np.flatnonzero(~known)[0])
            fail(r, "tie", f"unknown tie type; allowed: {list(TIE_NAMES)}", frame["tie"].iloc[r])
        tie = pd.Categorical(names, categories=TIE_NAMES).codes.astype(np.int8)
        role = np.zeros(n, dtype=np.int8)
        role[followee[tie == TIE_KOC]] = ROLE_KOC
        role[followee[tie == TIE_KOL]] = ROLE_KOL
    else:
        role = roles_by_audience(np.bincount(followee, minlength=n), settings)
        tie = np.select([role[followee] == ROLE_KOL, role[followee] == ROLE_KOC], [TIE_KOL, TIE_KOC],
                        TIE_FRIEND).astype(np.int8)
    return from_edges(n, followee, follower, tie, role, weight)


def roles_by_audience(followers: np.ndarray, settings: Network) -> np.ndarray:
    """KOLs are the largest audiences (``kol_share``), KOCs the next (``koc_share``)."""
    n = len(followers)
    order = np.argsort(-followers, kind="stable")
    n_kol = int(round(settings.kol_share * n))
    n_koc = int(round(settings.koc_share * n))
    role = np.zeros(n, dtype=np.int8)
    role[order[:n_kol]] = ROLE_KOL
    role[order[n_kol:n_kol + n_koc]] = ROLE_KOC
    role[followers == 0] = 0
    return role


def _read(path: Path) -> pd.DataFrame:
    where = str(path)
    if not path.is_file():
        raise ScenarioError(where, "network.edges", "no such edge-list file")
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet", ".pq"):
        raise ScenarioError(where, "network.edges", "edge lists must be .csv or .parquet",
                            path.suffix)
    size = path.stat().st_size
    if size == 0:
        raise ScenarioError(where, "", "the edge list is empty; expected columns "
                            "follower, followee[, weight][, tie]")
    _check_memory(where, size, suffix)
    try:
        if suffix == ".csv":
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
        else:
            frame = pd.read_parquet(path)
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise ScenarioError(where, "", f"cannot read the edge list: {exc}") from None
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in REQUIRED if c not in frame]
    unknown = [c for c in frame.columns if c not in REQUIRED + OPTIONAL]
    if missing or unknown:
        raise ScenarioError(where, ", ".join(missing or unknown),
                            ("missing column" if missing else "unknown column")
                            + f"; expected columns {list(REQUIRED)} and optionally "
                            f"{list(OPTIONAL)}", list(frame.columns))
    if frame.empty:
        raise ScenarioError(where, "", "the edge list has a header but no ties")
    return frame


def _check_memory(where: str, size: int, suffix: str) -> None:
    # A CSV tie takes ~8 bytes or more ("12,345\n"); Parquet compresses ids, assume ~10x.
    rows = size / 8 if suffix == ".csv" else size * 10 / 8
    need = rows * BYTES_PER_EDGE
    try:
        ram = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return
    if need > MEMORY_SHARE * ram:
        raise ScenarioError(where, "", f"the edge list ({size:,} bytes, up to "
                            f"{rows:,.0f} ties) would need about {need / 2**30:.1f} GiB to "
                            f"load; this machine has {ram / 2**30:.1f} GiB")
