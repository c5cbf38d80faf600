"""Dominick's Finer Foods refrigerated orange juice (bayesm ``orangeJuice``; Montgomery 1997).

Layouts
-------
- sales panel (``orangeJuice_yx.csv.gz``): one row per store, brand and week with
  ``store, brand, week, logmove`` (log unit sales), ``price1..price11`` (the shelf price per
  ounce of every brand that week in that store, the same on the 11 rows of a store-week),
  ``deal`` (in-store coupon, 0/1) and ``feat`` (feature advertisement: the share of the
  brand's items featured, 0 to 1, mostly 0 or 1); ``constant`` and
  ``profit`` may be present and are ignored. Brands are 1..11.
  A store may skip whole weeks (the data do: 83 stores have 87 to 121 of the weeks 40-160),
  but a store-week it has must hold all 11 brands, once each.
- store demographics (``orangeJuice_storedemo.csv``): ``STORE`` and the 11 columns of
  ``DEMOGRAPHICS`` (shares in [0, 1], ``INCOME`` log median income, distances and volumes
  positive).

A bad value raises :class:`~analysis.calibration.data.DataError` naming the file, the column
and the data row (rows count from 1 after the header).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.calibration.data import (
    MAX_FILE_BYTES,
    DataError,
    _first_bad,
    _numeric,
    _read,
    _require,
)

BRANDS = tuple(range(1, 12))
PRICES = tuple(f"price{b}" for b in BRANDS)
SHARES = ("AGE60", "EDUC", "ETHNIC", "HHLARGE", "WORKWOM", "HVAL150")
DEMOGRAPHICS = ("AGE60", "EDUC", "ETHNIC", "INCOME", "HHLARGE", "WORKWOM", "HVAL150",
                "SSTRDIST", "SSTRVOL", "CPDIST5", "CPWVOL5")


@dataclass(frozen=True)
class OJPanel:
    """Store x brand x week sales with every brand's prices.

    ``table`` has one row per store, week and brand, sorted in that order, with columns
    ``store, week, brand, logmove, deal, feat, price1..price11`` and two derived ones:
    ``lag_price`` (the brand's own log price in the store's previous observed week; its own
    price in the store's first week) and ``lag_deal`` (the deal flag then; 0 in the first).
    ``demographics`` is indexed by store (see :func:`load_store_demographics`).
    """

    source: str
    table: pd.DataFrame
    demographics: pd.DataFrame | None = None

    @property
    def stores(self) -> np.ndarray:
        return np.unique(self.table["store"].to_numpy())

    @property
    def weeks(self) -> np.ndarray:
        return np.unique(self.table["week"].to_numpy())

    def own_log_price(self, table: pd.DataFrame | None = None) -> np.ndarray:
        """Log of each row's own brand price, shape (rows,)."""
        t = self.table if table is None else table
        prices = t[list(PRICES)].to_numpy()
        return np.log(prices[np.arange(len(t)), t["brand"].to_numpy() - 1])


def load_oj_panel(path: str | Path, demographics: str | Path | None = None, *,
                  max_bytes: int = MAX_FILE_BYTES) -> OJPanel:
    """Load and check the sales panel (and, when given, the store demographics, which must
    cover every store of the panel)."""
    frame = _read(path, max_bytes)
    _require(frame, path, ["store", "brand", "week", "logmove", *PRICES, "deal", "feat"],
             ["constant", "profit"])
    store, brand, week = (_numeric(frame, path, c, integer=True, positive=True)
                          for c in ("store", "brand", "week"))
    _first_bad(path, "brand", ~np.isin(brand, BRANDS),
               lambda i: f"brand {brand[i]:g}; allowed: 1 to 11")
    logmove = _numeric(frame, path, "logmove", nonnegative=False)
    prices = np.column_stack([_numeric(frame, path, c, positive=True) for c in PRICES])
    flags = {c: _numeric(frame, path, c) for c in ("deal", "feat")}
    _first_bad(path, "deal", ~np.isin(flags["deal"], (0, 1)),
               lambda i: f"{flags['deal'][i]:g}; allowed: 0 or 1")
    _first_bad(path, "feat", flags["feat"] > 1,
               lambda i: f"{flags['feat'][i]:g}; allowed: 0 to 1 (a share of items)")
    table = pd.DataFrame({"store": store.astype(np.int64), "week": week.astype(np.int64),
                          "brand": brand.astype(np.int64), "logmove": logmove,
                          "deal": flags["deal"], "feat": flags["feat"],
                          **{c: prices[:, j] for j, c in enumerate(PRICES)},
                          "row": np.arange(1, len(frame) + 1)})
    _check_store_weeks(table, path)
    table = table.sort_values(["store", "week", "brand"], kind="stable").reset_index(drop=True)
    panel = OJPanel(str(path), _with_lags(table.drop(columns="row")))
    if demographics is None:
        return panel
    demo = load_store_demographics(demographics, max_bytes=max_bytes)
    missing = sorted(int(s) for s in set(panel.stores) - set(demo.index))
    if missing:
        raise DataError(demographics, "STORE", None, f"no demographics for stores {missing} "
                        f"of {path}")
    return OJPanel(panel.source, panel.table, demo.loc[panel.stores])


def _check_store_weeks(table: pd.DataFrame, path) -> None:
    """Each (store, week, brand) once; every store-week with all 11 brands and one set of
    prices."""
    key = table[["store", "week", "brand"]]
    dup = key.duplicated().to_numpy()
    _first_bad(path, "brand", dup, lambda i: f"store {key.store.iloc[i]}, week "
               f"{key.week.iloc[i]}, brand {key.brand.iloc[i]} appears twice")
    groups = table.groupby(["store", "week"], sort=False)
    count = groups["brand"].transform("size").to_numpy()

    def absent(i: int) -> str:
        s, w = table.store.iloc[i], table.week.iloc[i]
        have = {int(b) for b in table.brand[(table.store == s) & (table.week == w)]}
        return (f"store {s}, week {w} lacks brands {sorted(set(BRANDS) - have)}; every "
                "store-week must hold all 11 brands")

    _first_bad(path, "brand", count != len(BRANDS), absent)
    for c in PRICES:
        spread = (groups[c].transform("max") - groups[c].transform("min")).to_numpy()
        _first_bad(path, c, spread > 1e-9 * table[c].to_numpy(),
                   lambda i, c=c: f"differs between the rows of store {table.store.iloc[i]}, "
                   f"week {table.week.iloc[i]}; a store-week has one price per brand")


def _with_lags(table: pd.DataFrame) -> pd.DataFrame:
    """Add ``lag_price`` and ``lag_deal`` (the store's previous observed week, same brand)."""
    own = OJPanel("", table).own_log_price()
    by = table.assign(own=own).groupby(["store", "brand"], sort=False)
    lag_price = by["own"].shift(1)
    lag_deal = by["deal"].shift(1)
    return table.assign(lag_price=lag_price.fillna(pd.Series(own, index=table.index)),
                        lag_deal=lag_deal.fillna(0.0))


def load_store_demographics(path: str | Path, *,
                            max_bytes: int = MAX_FILE_BYTES) -> pd.DataFrame:
    """The store demographics, indexed by store number, one column per ``DEMOGRAPHICS``."""
    frame = _read(path, max_bytes)
    _require(frame, path, ["STORE", *DEMOGRAPHICS], [])
    store = _numeric(frame, path, "STORE", integer=True, positive=True).astype(np.int64)
    _first_bad(path, "STORE", pd.Series(store).duplicated().to_numpy(),
               lambda i: f"store {store[i]} appears twice")
    columns = {}
    for c in DEMOGRAPHICS:
        columns[c] = _numeric(frame, path, c, positive=c not in SHARES)
        if c in SHARES:
            _first_bad(path, c, columns[c] > 1, lambda i, c=c: f"{columns[c][i]:g} is a share; "
                       "allowed: 0 to 1")
    return pd.DataFrame(columns, index=pd.Index(store, name="store"))
