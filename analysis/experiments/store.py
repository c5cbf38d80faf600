"""The run store: one Parquet file per finished run, queried through DuckDB.

Why this store: a run is written once, as a whole, and never updated, so one small Parquet
file per run, written to a temporary name and renamed, makes every finished run durable the
moment it ends and an interrupted sweep loses nothing; a rerun lists the files to skip what
is done. No server and no lock are needed, workers never write (the client does), and any
tool reads the files. DuckDB queries them in place (``read_parquet`` over the folder) with
SQL, so a store of millions of runs is still one query away, without loading it first.

A run's key holds the fingerprint of the code that made it (``tasks``), so runs of another
version are never reused; opening a store that holds some says so (``StaleRunsWarning``),
since they take room and any query over the whole folder would mix them with the new ones.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from simulation.io import write_atomic

from .tasks import fingerprint


class StaleRunsWarning(UserWarning):
    """The store holds runs made by another version of the code (they are not reused)."""


class RunStore:
    """A folder of finished runs: ``runs/<key>.parquet``, plus ``experiment.json``."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.runs = self.folder / "runs"
        self.runs.mkdir(parents=True, exist_ok=True)
        stale = self.stale()
        if stale:
            warnings.warn(f"{self.folder} holds {stale} runs made by another version of the "
                          "code; they are not reused (every run is made anew with this "
                          "version); delete the folder to drop them", StaleRunsWarning,
                          stacklevel=2)

    def stale(self) -> int:
        """How many stored runs were made by code other than this process's."""
        columns = self.query("DESCRIBE runs")
        if columns.empty:
            return 0
        if "code" not in set(columns["column_name"]):  # stored before rows recorded it
            return len(self.done())
        return int(self.query("SELECT count(*) AS n FROM runs WHERE code IS DISTINCT FROM "
                              f"'{fingerprint()}'")["n"].iloc[0])

    def done(self) -> set[str]:
        """Keys of the runs already stored."""
        return {p.stem for p in self.runs.glob("*.parquet")}

    def write(self, key: str, row: dict[str, Any]) -> None:
        frame = pd.DataFrame([row])
        write_atomic(self.runs / f"{key}.parquet", lambda p: frame.to_parquet(p, index=False))

    def table(self, where: str | None = None) -> pd.DataFrame:
        """Every stored run as one table (optionally filtered by an SQL ``where``)."""
        return self.query("SELECT * FROM runs" + (f" WHERE {where}" if where else ""))

    def query(self, sql: str) -> pd.DataFrame:
        """Run SQL over the view ``runs`` (one row per run)."""
        if not any(self.runs.glob("*.parquet")):
            return pd.DataFrame()
        con = duckdb.connect()
        try:
            pattern = str(self.runs / "*.parquet").replace("'", "''")
            con.execute(f"CREATE VIEW runs AS SELECT * FROM read_parquet('{pattern}', "
                        "union_by_name = true)")
            return con.execute(sql).df()
        finally:
            con.close()

    def write_json(self, name: str, content: Any) -> Path:
        path = self.folder / name
        write_atomic(path, lambda p: p.write_text(json.dumps(content, indent=2, default=_plain)))
        return path


def _plain(value):
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value)}")
