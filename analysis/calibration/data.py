"""Observed data for calibration: loading and validation.

Every loader reads one CSV (``.csv``, ``.csv.gz``, ``.txt``) or Parquet (``.parquet``,
``.pq``) file, checks it against the layout its model needs and returns a frozen, typed
object of NumPy arrays. A file that does not fit raises :class:`DataError`, naming the file,
the column and the data row (rows count from 1 after the header; line = row + 1 in a CSV).
Nothing in a data file is ever executed.

Layouts
-------
- adoption series: ``period, adopters`` (optional ``product`` to hold several series,
  extra descriptive columns ``year``/``date`` are allowed); periods strictly increasing;
  adopters are counts (whole numbers, in any unit such as thousands).
  An optional ``spend`` column (marketing effort per period, any unit, not all zero) selects
  the generalised Bass model; periods must then be consecutive.
- media series: ``date, spend_<channel>..., gmv and/or orders`` with optional
  ``impressions_<channel>`` and ``clicks_<channel>``; dates strictly increasing and evenly
  spaced. A channel with ``impressions_<channel>`` and no spend column is unpaid (an owned
  display such as a store's feature ad): its spend is zero and its impressions not all zero.
  Optional per-product pairs ``orders_<product>`` and ``gmv_<product>`` (both or neither)
  must add up, over the products, to the ``orders`` and ``gmv`` columns within
  rounding (0.1% of the total plus 0.01). Optional ``source_orders_<source>`` columns
  (orders by influence source, as the engine names the sources: the scenario's channels,
  ``organic``, ``kol``, ``koc``, ``friend``, ``group_buy``) must add up to ``orders`` by the
  same rule; a source without a column had no orders.
- order log (:func:`load_order_log`): ``customer_id, time, product, price, units, source``,
  one row per order; ``time`` is either hours since the campaign's start (a number, day 0
  starts at hour 0) or an ISO date/time (``2026-06-03`` or ``2026-06-03 14:20``) read
  against the scenario's calendar start date; ``price`` is the unit price paid (> 0),
  ``units`` a whole number >= 1; products and sources must be the scenario's.
- choice panel (the Ecdat scanner panels): household ``id`` (or ``hid`` with ``id`` the
  occasion), ``price.<brand>`` for every brand, optional ``feat.<brand>``/``disp.<brand>``
  and ``choice`` naming the brand bought; each household's rows are contiguous and in
  purchase order.
- transaction log: ``customer_id, date, amount``, or the CDNOW master format
  (whitespace-separated ``customer_id YYYYMMDD cds dollars``, with or without a header).
- customer summary (what CLV tools such as ``lifetimes`` and pymc-marketing's
  ``rfm_summary`` write): ``frequency, recency, T`` per customer, in weeks, with optional
  ``customer_id`` (or ``ID``/``id``) and ``monetary_value``; frequency is a whole number,
  recency is 0 when frequency is, and recency never exceeds T. :func:`load_repurchase` reads
  either a transaction log or a customer summary, whichever layout the header names.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

PARQUET = (".parquet", ".pq")
MAX_FILE_BYTES = 200 * 1024 * 1024
"""Default size limit: far above every shipped data set (CDNOW master is 1.8 MB)."""

MIN_ROWS = {"adoption": 5, "media": 16, "choice": 50, "transactions": 50, "summary": 50}
"""Rows needed to identify each model: Bass has 3 parameters plus a scale; the media model
has a baseline, trend, 6 weekday effects, 3 parameters per channel and a scale; the others
need enough observations for their handful of population-level parameters."""


class DataError(ValueError):
    """A data file that does not fit its layout.

    Parameters
    ----------
    file, column, row
        Where the problem is; ``column`` is ``""`` and ``row`` ``None`` when the problem is
        the whole file or a whole column.
    problem
        What is wrong, in words a user can act on.
    """

    def __init__(self, file: str | Path, column: str, row: int | None, problem: str) -> None:
        self.file, self.column, self.row, self.problem = str(file), column, row, problem
        where = [self.file]
        if column:
            where.append(f"column {column!r}")
        if row is not None:
            where.append(f"row {row}")
        super().__init__(f"{', '.join(where)}: {problem}")

    def __reduce__(self):  # rebuilt from its fields when it crosses a process boundary
        return type(self), (self.file, self.column, self.row, self.problem)


@dataclass(frozen=True)
class AdoptionSeries:
    """New adopters per period; ``period`` is 1, 2, ... (units of the source); ``effort``
    is the marketing effort (spend) per period, when the data has it."""

    source: str
    name: str
    period: np.ndarray
    adopters: np.ndarray
    effort: np.ndarray | None = None


@dataclass(frozen=True)
class MediaSeries:
    """Spend per channel and an outcome per date; ``spend`` has shape (dates, channels)."""

    source: str
    date: pd.DatetimeIndex
    channels: tuple[str, ...]
    spend: np.ndarray
    outcome: np.ndarray
    outcome_name: str
    impressions: np.ndarray | None
    clicks: np.ndarray | None
    products: tuple[str, ...] = ()  # of the per-product columns, when the file has them
    product_orders: np.ndarray | None = None  # (dates, products)
    product_gmv: np.ndarray | None = None  # (dates, products)
    sources: tuple[str, ...] = ()  # of the source_orders_<source> columns
    source_orders: np.ndarray | None = None  # (dates, sources)
    unpaid: tuple[str, ...] = ()  # channels with impressions and no spend column

    @property
    def days_per_period(self) -> float:
        """Median spacing of the dates, in days (1 for daily data, 7 for weekly)."""
        hours = np.diff(self.date.values).astype("timedelta64[h]").astype(float)
        return float(np.median(hours)) / 24.0


@dataclass(frozen=True)
class ChoicePanel:
    """Purchase occasions of a household panel, in purchase order within household.

    ``price``, ``feature`` and ``display`` have shape (occasions, brands); ``household`` and
    ``choice`` are integer codes (0-based) of shape (occasions,).
    """

    source: str
    brands: tuple[str, ...]
    household: np.ndarray
    price: np.ndarray
    feature: np.ndarray
    display: np.ndarray
    choice: np.ndarray


@dataclass(frozen=True)
class TransactionLog:
    """One row per purchase: customer, date and amount, sorted by customer then date."""

    source: str
    table: pd.DataFrame


@dataclass(frozen=True)
class CustomerSummary:
    """One row per customer: ``customer_id`` (str), ``frequency`` (repeat purchases),
    ``recency`` (first to last purchase) and ``T`` (first purchase to the end of the period),
    in weeks, and ``monetary_value`` when the file has it."""

    source: str
    table: pd.DataFrame


SUMMARY_COLUMNS = ("frequency", "recency", "T")
SUMMARY_OPTIONAL = ("customer_id", "ID", "id", "monetary_value")
TRANSACTION_COLUMNS = ("customer_id", "date", "amount")


def _read(path: str | Path, max_bytes: int, **csv_kwargs) -> pd.DataFrame:
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "", None, "no such file")
    size = path.stat().st_size
    if size == 0:
        raise DataError(path, "", None, "the file is empty")
    if size > max_bytes:
        raise DataError(path, "", None, f"the file is {size:,} bytes; the limit is "
                        f"{max_bytes:,} (pass max_bytes= to raise it)")
    try:
        if path.suffix in PARQUET:
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_csv(path, **csv_kwargs)
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError, OSError) as exc:
        raise DataError(path, "", None, f"cannot be read as a table ({exc})") from None
    if frame.empty:
        raise DataError(path, "", None, "the file holds no data rows")
    return frame


def _require(frame: pd.DataFrame, path, required: list[str], allowed: list[str]) -> None:
    known = set(required) | set(allowed)
    for name in required:
        if name not in frame.columns:
            hint = difflib.get_close_matches(name, [str(c) for c in frame.columns], n=1)
            raise DataError(path, name, None, "missing column; found: "
                            + ", ".join(map(str, frame.columns))
                            + (f" (is {hint[0]!r} misnamed?)" if hint else ""))
    for name in frame.columns:
        if name not in known:
            hint = difflib.get_close_matches(str(name), sorted(known), n=1)
            raise DataError(path, str(name), None, "unexpected column"
                            + (f" (did you mean {hint[0]!r}?)" if hint else ""))


def _numeric(frame: pd.DataFrame, path, column: str, *, nonnegative: bool = True,
             positive: bool = False, integer: bool = False) -> np.ndarray:
    raw = frame[column]
    missing = raw.isna().to_numpy()
    if missing.any():
        raise DataError(path, column, int(np.argmax(missing)) + 1, "missing value (NaN)")
    values = pd.to_numeric(raw, errors="coerce")
    bad = values.isna().to_numpy()
    if bad.any():
        i = int(np.argmax(bad))
        raise DataError(path, column, i + 1, f"not a number: {raw.iloc[i]!r}")
    arr = values.to_numpy(dtype=float)
    finite = np.isfinite(arr)
    if not finite.all():
        raise DataError(path, column, int(np.argmax(~finite)) + 1, "not a finite number")
    if positive and (arr <= 0).any():
        i = int(np.argmax(arr <= 0))
        raise DataError(path, column, i + 1, f"must be positive, got {arr[i]:g}")
    if nonnegative and (arr < 0).any():
        i = int(np.argmax(arr < 0))
        raise DataError(path, column, i + 1, f"must not be negative, got {arr[i]:g}")
    if integer and (arr != np.round(arr)).any():
        i = int(np.argmax(arr != np.round(arr)))
        raise DataError(path, column, i + 1, f"must be a whole number, got {arr[i]:g}")
    return arr


def _increasing(values: np.ndarray, path, column: str, offset: int = 0) -> None:
    step = np.diff(values)
    if (step == 0).any():
        i = int(np.argmax(step == 0))
        raise DataError(path, column, offset + i + 2, "duplicated (same as the row before)")
    if (step < 0).any():
        i = int(np.argmax(step < 0))
        raise DataError(path, column, offset + i + 2, "not sorted (earlier than the row "
                        "before); rows must be in time order")


def _enough(n: int, path, kind: str, what: str = "rows") -> None:
    if n < MIN_ROWS[kind]:
        raise DataError(path, "", None, f"only {n} {what}; the {kind} model needs at least "
                        f"{MIN_ROWS[kind]} to be identified")


def load_adoption(path: str | Path, series: str | None = None, *,
                  max_bytes: int = MAX_FILE_BYTES) -> AdoptionSeries:
    """Load an adoption series ``period, adopters``.

    A file with a ``product`` column holds several series; ``series`` picks one (required
    when there is more than one).
    """
    frame = _read(path, max_bytes)
    _require(frame, path, ["period", "adopters"], ["product", "year", "date", "spend"])
    name = Path(path).stem
    offset = 0
    if "product" in frame.columns:
        names = list(dict.fromkeys(frame["product"].astype(str)))
        if series is None and len(names) > 1:
            raise DataError(path, "product", None, "the file holds several series; choose "
                            "one of: " + ", ".join(names))
        series = series if series is not None else names[0]
        if series not in names:
            hint = difflib.get_close_matches(series, names, n=1)
            raise DataError(path, "product", None, f"no series {series!r}; available: "
                            + ", ".join(names) + (f" (did you mean {hint[0]!r}?)" if hint else ""))
        rows = np.flatnonzero(frame["product"].astype(str).to_numpy() == series)
        if np.any(np.diff(rows) != 1):
            raise DataError(path, "product", int(rows[0]) + 1, f"the rows of {series!r} are "
                            "not contiguous")
        offset = int(rows[0])
        frame = frame.iloc[rows].reset_index(drop=True)
        name = series
    elif series is not None:
        raise DataError(path, "product", None, f"no product column, so no series {series!r}")
    period = _numeric(frame, path, "period")
    adopters = _numeric(frame, path, "adopters", integer=True)
    _increasing(period, path, "period", offset)
    _enough(len(frame), path, "adoption")
    if adopters.sum() <= 0:
        raise DataError(path, "adopters", None, "no adopters at all")
    effort = None
    if "spend" in frame.columns:
        effort = _numeric(frame, path, "spend")
        if effort.sum() <= 0:
            raise DataError(path, "spend", None, "no spend at all; drop the column to fit "
                            "the plain Bass model")
        gap = np.diff(period) != 1
        if gap.any():
            raise DataError(path, "period", offset + int(np.argmax(gap)) + 2, "periods must "
                            "be consecutive (1, 2, 3, ...) when spend is given")
    return AdoptionSeries(str(path), name, period - period[0] + 1, adopters, effort)


_MEDIA = re.compile(r"^(spend|impressions|clicks)_([A-Za-z0-9_\-]+)$")
_PRODUCT = re.compile(r"^(orders|gmv)_(.+)$")
_SOURCE = re.compile(r"^source_orders_(.+)$")


def load_media(path: str | Path, *, max_bytes: int = MAX_FILE_BYTES) -> MediaSeries:
    """Load a media series ``date, spend_<channel>..., gmv and/or orders`` (GMV preferred),
    with optional per-product ``orders_<product>`` and ``gmv_<product>`` pairs; a channel
    with impressions and no spend column is unpaid (zero spend)."""
    frame = _read(path, max_bytes)
    named = {kind: [m.group(2) for c in frame.columns
                    if (m := _MEDIA.match(str(c))) and m.group(1) == kind]
             for kind in ("spend", "impressions")}
    unpaid = [c for c in named["impressions"] if c not in named["spend"]]
    channels = named["spend"] + unpaid
    if not channels:
        raise DataError(path, "spend_<channel>", None, "no spend or impressions column; name "
                        "them spend_<channel> (impressions_<channel> for an unpaid channel), "
                        "e.g. spend_tv")
    outcomes = [c for c in ("gmv", "orders") if c in frame.columns]
    if not outcomes:
        raise DataError(path, "gmv", None, "missing outcome column: give gmv and/or orders")
    products = list(dict.fromkeys(m.group(2) for c in frame.columns
                                  if (m := _PRODUCT.match(str(c)))))
    optional = [f"{k}_{c}" for c in channels for k in ("impressions", "clicks")]
    optional += [f"{k}_{p}" for p in products for k in ("orders", "gmv")]
    sources = [m.group(1) for c in frame.columns if (m := _SOURCE.match(str(c)))]
    optional += [f"source_orders_{s}" for s in sources]
    _require(frame, path, ["date", *(f"spend_{c}" for c in named["spend"])],
             [*outcomes, *optional])
    try:
        date = pd.DatetimeIndex(pd.to_datetime(frame["date"], errors="raise", format="mixed"))
    except (ValueError, TypeError):
        parsed = pd.to_datetime(frame["date"], errors="coerce", format="mixed")
        i = int(np.argmax(parsed.isna().to_numpy()))
        raise DataError(path, "date", i + 1, f"not a date: {frame['date'].iloc[i]!r}") from None
    if date.isna().any():
        raise DataError(path, "date", int(np.argmax(date.isna())) + 1, "missing date")
    _increasing(date.asi8, path, "date")
    spacing = np.diff(date.asi8)
    if len(spacing) and (np.abs(spacing - np.median(spacing)) > 0.1 * np.median(spacing)).any():
        i = int(np.argmax(np.abs(spacing - np.median(spacing)) > 0.1 * np.median(spacing)))
        raise DataError(path, "date", i + 2, "uneven spacing; dates must be evenly spaced "
                        "(fill missing periods with zero spend)")
    spend = np.column_stack([np.zeros(len(frame)) if c in unpaid
                             else _numeric(frame, path, f"spend_{c}") for c in channels])
    for c in channels:
        column = f"impressions_{c}" if c in unpaid else f"spend_{c}"
        if _numeric(frame, path, column).sum() <= 0:
            raise DataError(path, column, None, f"no {column.split('_')[0]} at all on this "
                            "channel")
    outcome_name = outcomes[0]
    outcome = _numeric(frame, path, outcome_name)
    for other in outcomes[1:]:
        _numeric(frame, path, other)

    def optional_block(kind: str) -> np.ndarray | None:
        cols = [f"{kind}_{c}" for c in channels]
        if not any(c in frame.columns for c in cols):
            return None
        return np.column_stack([_numeric(frame, path, c) if c in frame.columns
                                else np.full(len(frame), np.nan) for c in cols])

    _enough(len(frame), path, "media")
    by_product = _product_columns(frame, path, products, outcomes)
    return MediaSeries(str(path), date, tuple(channels), spend, outcome, outcome_name,
                       optional_block("impressions"), optional_block("clicks"),
                       tuple(products), *by_product, tuple(sources),
                       _source_columns(frame, path, sources), tuple(unpaid))


def _source_columns(frame: pd.DataFrame, path, sources: list[str]) -> np.ndarray | None:
    """(dates, sources) orders of the ``source_orders_<source>`` columns, checked to add up
    to ``orders``; None without them."""
    if not sources:
        return None
    columns = [f"source_orders_{s}" for s in sources]
    if "orders" not in frame.columns:
        raise DataError(path, "orders", None, "missing column: orders by source "
                        f"({columns[0]}, ...) must add up to an orders column")
    parts = np.column_stack([_numeric(frame, path, c) for c in columns])
    _adds_up(frame, path, "orders", parts, columns)
    return parts


def _product_columns(frame: pd.DataFrame, path, products: list[str], totals: list[str]
                     ) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(dates, products) orders and GMV of the per-product pairs, checked against the
    ``totals`` columns the file has; (None, None) without per-product columns."""
    if not products:
        return None, None
    for p in products:
        for have, need in (("orders", "gmv"), ("gmv", "orders")):
            if f"{need}_{p}" not in frame.columns:
                raise DataError(path, f"{need}_{p}", None, f"missing column: per-product "
                                f"columns come in pairs, and {have}_{p} is given")
    orders, gmv = (np.column_stack([_numeric(frame, path, f"{kind}_{p}") for p in products])
                   for kind in ("orders", "gmv"))
    for kind, parts in (("orders", orders), ("gmv", gmv)):
        if kind in totals:
            _adds_up(frame, path, kind, parts, [f"{kind}_{p}" for p in products])
    return orders, gmv


def _adds_up(frame: pd.DataFrame, path, kind: str, parts: np.ndarray, names: list[str]
             ) -> None:
    """Refuse a row whose ``kind`` total differs from the sum of its ``parts`` (the
    columns ``names``) by more than rounding (0.1% of the total plus 0.01)."""
    total, summed = _numeric(frame, path, kind), parts.sum(axis=1)
    columns = ", ".join(names)
    _first_bad(path, kind, np.abs(summed - total) > 1e-3 * np.abs(total) + 0.01,
               lambda i: f"{total[i]:g}, but {columns} add up to {summed[i]:g}")


def check_products(series: MediaSeries, products: list[str]) -> None:
    """Refuse per-product columns unless they name exactly ``products`` (a scenario's)."""
    if not series.products:
        return
    allowed = ", ".join(products)
    for p in series.products:
        if p not in products:
            hint = difflib.get_close_matches(p, products, n=1)
            raise DataError(series.source, f"orders_{p}", None, f"no product {p!r} in the "
                            f"scenario; its products are {allowed}"
                            + (f" (did you mean {hint[0]!r}?)" if hint else ""))
    missing = [p for p in products if p not in series.products]
    if missing:
        raise DataError(series.source, f"orders_{missing[0]}", None, "missing column: "
                        f"per-product columns must cover every product of the scenario "
                        f"({allowed})")


def check_sources(series: MediaSeries, sources: list[str]) -> None:
    """Refuse ``source_orders_<source>`` columns for sources not in ``sources`` (those the
    engine records for the scenario)."""
    for s in series.sources:
        if s not in sources:
            hint = difflib.get_close_matches(s, sources, n=1)
            raise DataError(series.source, f"source_orders_{s}", None, f"no influence source "
                            f"{s!r} in the scenario; its sources are {', '.join(sources)}"
                            + (f" (did you mean {hint[0]!r}?)" if hint else ""))


def load_choice_panel(path: str | Path, *, max_bytes: int = MAX_FILE_BYTES) -> ChoicePanel:
    """Load an Ecdat-style household purchase panel (Yogurt, Catsup, Cracker, Ketchup, Tuna)."""
    frame = _read(path, max_bytes)
    brands = [str(c)[6:] for c in frame.columns if str(c).startswith("price.")]
    if len(brands) < 2:
        raise DataError(path, "price.<brand>", None, "need price.<brand> columns for at "
                        "least two brands")
    hh_col = "hid" if "hid" in frame.columns else "id"
    optional = [f"{k}.{b}" for b in brands for k in ("feat", "disp")]
    optional += ["id"] if hh_col == "hid" else []
    _require(frame, path, [hh_col, "choice", *(f"price.{b}" for b in brands)], optional)
    household_raw = _numeric(frame, path, hh_col, integer=True)
    change = np.flatnonzero(np.diff(household_raw) != 0) + 1
    starts = np.r_[0, change]
    ids = household_raw[starts]
    if len(np.unique(ids)) != len(ids):
        seen: set[float] = set()
        for s, h in zip(starts, ids, strict=True):
            if h in seen:
                raise DataError(path, hh_col, int(s) + 1, f"household {h:g} appears again "
                                "after other households; keep each household's rows together")
            seen.add(h)
    household = np.cumsum(np.r_[0, np.diff(household_raw) != 0]).astype(np.int64)
    if hh_col == "hid":
        occasion = _numeric(frame, path, "id")
        step = np.diff(occasion)
        same = np.diff(household) == 0
        if ((step <= 0) & same).any():
            i = int(np.argmax((step <= 0) & same))
            raise DataError(path, "id", i + 2, "purchase occasions of a household must be "
                            "in increasing order without duplicates")
    price = np.column_stack([_numeric(frame, path, f"price.{b}", positive=True) for b in brands])

    def block(kind: str) -> np.ndarray:
        return np.column_stack([_numeric(frame, path, f"{kind}.{b}") if f"{kind}.{b}" in frame
                                else np.zeros(len(frame)) for b in brands])

    choice_raw = frame["choice"]
    if choice_raw.isna().any():
        raise DataError(path, "choice", int(np.argmax(choice_raw.isna())) + 1,
                        "missing value (NaN)")
    choice_str = choice_raw.astype(str).to_numpy()
    known = np.isin(choice_str, brands)
    if not known.all():
        i = int(np.argmax(~known))
        raise DataError(path, "choice", i + 1, f"{choice_str[i]!r} is not one of the brands "
                        "with a price column: " + ", ".join(brands))
    code = {b: j for j, b in enumerate(brands)}
    choice = np.array([code[c] for c in choice_str])
    _enough(len(frame), path, "choice")
    return ChoicePanel(str(path), tuple(brands), household, price, block("feat"), block("disp"),
                       choice.astype(np.int64))


def _read_cdnow(path: Path, max_bytes: int) -> pd.DataFrame:
    frame = _read(path, max_bytes, sep=r"\s+", header=None, dtype=str, engine="python")
    if frame.shape[1] != 4:
        raise DataError(path, "", None, f"expected 4 whitespace-separated fields "
                        f"(customer_id date cds dollars), found {frame.shape[1]}")
    if not str(frame.iloc[0, 1]).isdigit():  # a header line: drop it
        frame = frame.iloc[1:].reset_index(drop=True)
    frame.columns = ["customer_id", "date", "cds", "amount"]
    return frame


def load_transactions(path: str | Path, *, max_bytes: int = MAX_FILE_BYTES) -> TransactionLog:
    """Load a transaction log ``customer_id, date, amount`` or a CDNOW master file."""
    path = Path(path)
    _read(path, max_bytes, nrows=1, header=None, dtype=str)  # existence, size, not empty
    with open(path, encoding="utf-8", errors="replace") as fh:
        cdnow = path.suffix not in PARQUET and "," not in fh.readline()
    if cdnow:
        frame = _read_cdnow(path, max_bytes)
        date_format = "%Y%m%d"
        _numeric(frame, path, "cds", integer=True)
    else:
        frame = _read(path, max_bytes, dtype={"customer_id": str, "date": str})
        _require(frame, path, ["customer_id", "date", "amount"], [])
        date_format = "mixed"
    if frame["customer_id"].isna().any():
        raise DataError(path, "customer_id", int(np.argmax(frame["customer_id"].isna())) + 1,
                        "missing value (NaN)")
    amount = _numeric(frame, path, "amount")
    date = pd.to_datetime(frame["date"], errors="coerce", format=date_format)
    if date.isna().any():
        i = int(np.argmax(date.isna().to_numpy()))
        raise DataError(path, "date", i + 1, f"not a date: {frame['date'].iloc[i]!r}")
    table = pd.DataFrame({"customer_id": frame["customer_id"].astype(str).str.strip(),
                          "date": date, "amount": amount})
    _enough(len(table), path, "transactions")
    table = table.sort_values(["customer_id", "date"], kind="stable").reset_index(drop=True)
    return TransactionLog(str(path), table)


def load_customer_summary(path: str | Path, *,
                          max_bytes: int = MAX_FILE_BYTES) -> CustomerSummary:
    """Load a customer summary ``frequency, recency, T`` (weeks; see the module notes).

    Without an id column, customers are numbered by row (1, 2, ...).
    """
    ids = [c for c in SUMMARY_OPTIONAL if c != "monetary_value"]
    frame = _read(path, max_bytes, dtype=dict.fromkeys(ids, str))
    _require(frame, path, list(SUMMARY_COLUMNS), list(SUMMARY_OPTIONAL))
    present = [c for c in ids if c in frame.columns]
    if len(present) > 1:
        raise DataError(path, present[1], None, f"a second customer id column (with "
                        f"{present[0]!r}); keep one")
    frequency = _numeric(frame, path, "frequency", integer=True)
    recency = _numeric(frame, path, "recency")
    age = _numeric(frame, path, "T")
    _first_bad(path, "recency", recency > age, lambda i: f"{recency[i]:g} exceeds T = "
               f"{age[i]:g}; recency (first to last purchase) is at most T (first purchase "
               "to the end of the period)")
    _first_bad(path, "recency", (frequency == 0) & (recency > 0), lambda i: f"{recency[i]:g} "
               "with frequency 0; a customer without repeat purchases has recency 0")
    table = pd.DataFrame({"frequency": frequency, "recency": recency, "T": age})
    if present:
        customer = frame[present[0]]
        _first_bad(path, present[0], customer.isna().to_numpy(), lambda i: "missing value")
        _first_bad(path, present[0], customer.duplicated().to_numpy(),
                   lambda i: f"customer {customer.iloc[i]!r} appears twice")
        table.insert(0, "customer_id", customer.astype(str).str.strip().to_numpy())
    else:
        table.insert(0, "customer_id", [str(i) for i in range(1, len(frame) + 1)])
    if "monetary_value" in frame.columns:
        table["monetary_value"] = _numeric(frame, path, "monetary_value")
    _enough(len(table), path, "summary", "customers")
    return CustomerSummary(str(path), table)


def _first_bad(path, column: str, bad: np.ndarray, problem) -> None:
    """Raise for the first row where ``bad`` holds; ``problem(i)`` says what is wrong."""
    if bad.any():
        i = int(np.argmax(bad))
        raise DataError(path, column, i + 1, problem(i))


def load_repurchase(path: str | Path, *,
                    max_bytes: int = MAX_FILE_BYTES) -> TransactionLog | CustomerSummary:
    """A transaction log or a customer summary, by the layout the header's names are closer
    to (a transaction log when neither is, as the CDNOW master's has no header names)."""
    if Path(path).suffix in PARQUET:
        header = _read(path, max_bytes).columns
    else:
        header = _read(path, max_bytes, nrows=1, header=None, dtype=str).iloc[0]
    names = [str(n).strip().lower() for n in header]

    def closeness(layout) -> int:
        known = [c.lower() for c in layout if c != "customer_id"]
        return sum(bool(difflib.get_close_matches(n, known, n=1, cutoff=0.8)) for n in names)

    if closeness(SUMMARY_COLUMNS + SUMMARY_OPTIONAL) > closeness(TRANSACTION_COLUMNS):
        return load_customer_summary(path, max_bytes=max_bytes)
    return load_transactions(path, max_bytes=max_bytes)


ORDER_LOG_COLUMNS = ("customer_id", "time", "product", "price", "units", "source")


@dataclass(frozen=True)
class OrderLog:
    """One row per order, in file order: ``customer`` (integer codes of ``customer_id``),
    ``hour`` (hours since the campaign's start), ``product`` and ``source`` (indices into
    ``products`` and ``sources``), unit ``price`` paid and ``units``."""

    source_file: str
    products: tuple[str, ...]
    sources: tuple[str, ...]
    customer: np.ndarray
    hour: np.ndarray
    product: np.ndarray
    price: np.ndarray
    units: np.ndarray
    source: np.ndarray


def load_order_log(path: str | Path, *, products: list[str], sources: list[str],
                   start_date: str, days: int, max_bytes: int = MAX_FILE_BYTES) -> OrderLog:
    """Load an order log ``customer_id, time, product, price, units, source`` for a
    campaign of ``days`` days from ``start_date`` whose scenario has ``products`` and
    influence ``sources`` (see the module notes for ``time``)."""
    frame = _read(path, max_bytes, dtype={"customer_id": str, "product": str, "source": str,
                                          "time": str})
    _require(frame, path, list(ORDER_LOG_COLUMNS), [])
    customer = frame["customer_id"]
    _first_bad(path, "customer_id", customer.isna().to_numpy(), lambda i: "missing value")
    codes = {name: _codes(frame, path, name, allowed)
             for name, allowed in (("product", products), ("source", sources))}
    price = _numeric(frame, path, "price", positive=True)
    units = _numeric(frame, path, "units", integer=True)
    _first_bad(path, "units", units < 1, lambda i: f"must be at least 1, got {units[i]:g}")
    hour = _hours(frame, path, start_date)
    outside = (hour < 0) | (hour >= days * 24)
    _first_bad(path, "time", outside, lambda i: f"{frame['time'].iloc[i]!r} is outside the "
               f"campaign's calendar ({days} days from {start_date}: hours 0 to {days * 24})")
    ids = pd.factorize(customer.astype(str).str.strip())[0]
    return OrderLog(str(path), tuple(products), tuple(sources), ids.astype(np.int64), hour,
                    codes["product"], price, units.astype(np.int64), codes["source"])


def _codes(frame: pd.DataFrame, path, column: str, allowed: list[str]) -> np.ndarray:
    """Indices into ``allowed`` of a text column; refuse a missing or unknown value."""
    values = frame[column]
    _first_bad(path, column, values.isna().to_numpy(), lambda i: "missing value")
    text = values.astype(str).str.strip().to_numpy()
    known = np.isin(text, allowed)

    def unknown(i: int) -> str:
        hint = difflib.get_close_matches(text[i], allowed, n=1)
        return (f"{text[i]!r} is not one of the scenario's {column}s: {', '.join(allowed)}"
                + (f" (did you mean {hint[0]!r}?)" if hint else ""))

    _first_bad(path, column, ~known, unknown)
    return np.array([allowed.index(t) for t in text], dtype=np.int64)


def _hours(frame: pd.DataFrame, path, start_date: str) -> np.ndarray:
    """``time`` in hours since the campaign's start: numbers as hours, else ISO date/times
    against ``start_date``."""
    raw = frame["time"]
    _first_bad(path, "time", raw.isna().to_numpy(), lambda i: "missing value (NaN)")
    numbers = pd.to_numeric(raw, errors="coerce")
    if numbers.notna().all():
        return _numeric(frame, path, "time", nonnegative=False)
    stamps = pd.to_datetime(raw, errors="coerce", format="mixed")
    _first_bad(path, "time", stamps.isna().to_numpy(), lambda i: f"not a number of hours "
               f"or an ISO date/time: {raw.iloc[i]!r}")
    return ((stamps - pd.Timestamp(start_date)) / pd.Timedelta(hours=1)).to_numpy(float)
