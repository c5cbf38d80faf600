"""Observed price paths: a shop's shelf price per product and day.

A scenario's ``[prices]`` gives rows ``day, product, price`` (with an optional displayed
``original_price``, the anchor, and a ``frame``), inline or in a CSV file beside the scenario
(``[prices] file = "prices.csv"``). A row sets the product's shelf price from its day on, until
that product's next row; before its first row a product is at its list price. Prices may be
above or below list: the return to a regular price after a deep promotion is what a consumer
whose reference price moved meets as a loss.

A CSV is read here, at load time, into the same rows an inline table gives, so a validated
``Scenario`` holds its whole price path; nothing in the file is executed.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

from pydantic import Field

from .common import Frozen

CSV_COLUMNS = ("day", "product", "price")
OPTIONAL_COLUMNS = ("original_price", "frame")
MAX_PRICE_FILE_BYTES = 50 * 1024 * 1024
FRAMES = ("limited_time", "everyday_low_price", "none")


class PricePoint(Frozen):
    day: int = Field(ge=0, description="Day from which the price holds (until the next row).")
    product: str = Field(min_length=1)
    price: float = Field(gt=0, allow_inf_nan=False, description="Shelf price, above or "
                         "below list.")
    original_price: float | None = Field(
        None, gt=0, allow_inf_nan=False, description="Displayed original price (the anchor).")
    frame: str = Field("none", pattern="^(limited_time|everyday_low_price|none)$")


class PricePath(Frozen):
    """Shelf prices by product and day; ``file`` names where the rows came from."""

    file: str | None = None
    rows: tuple[PricePoint, ...] = Field(min_length=1)


def check_rows(path: PricePath, products: list[str], days: int) -> None:
    """Cross-checks against the scenario: known products, days in the calendar, one row per
    (day, product). Raises ``ValueError`` located at the offending row."""
    seen: set[tuple[int, str]] = set()
    for i, row in enumerate(path.rows):
        where = _where(path, i)
        if row.product not in products:
            raise _located(where, "product", f"unknown product {row.product!r}; allowed: "
                           f"{sorted(products)}")
        if row.day >= days:
            raise _located(where, "day", f"day {row.day} is outside the calendar (days 0 to "
                           f"{days - 1})")
        if (row.day, row.product) in seen:
            raise _located(where, "day", f"a second price for {row.product!r} on day "
                           f"{row.day}; allowed: one row per product and day")
        seen.add((row.day, row.product))
        if row.original_price is not None and row.original_price < row.price:
            raise _located(where, "original_price", f"{row.original_price} is below the "
                           f"price {row.price}; a displayed original price must be >= it")


def _where(path: PricePath, i: int) -> str:
    return f"rows[{i}]" if path.file is None else f"{path.file} row {i + 1}"


def _located(where: str, column: str, message: str) -> ValueError:
    return ValueError(f"at `prices.{where}.{column}`: {message}")


def read_price_file(path: Path) -> list[dict]:
    """Rows of a price CSV as the dicts an inline ``[[prices.rows]]`` table gives.

    Raises ``PriceFileError`` naming the file, the column and the data row (rows count
    from 1 after the header)."""
    if not path.is_file():
        raise PriceFileError(path, "", None, "no such file")
    if path.stat().st_size > MAX_PRICE_FILE_BYTES:
        raise PriceFileError(path, "", None, f"file is {path.stat().st_size:,} bytes; the "
                             f"limit is {MAX_PRICE_FILE_BYTES:,}")
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header = [c.strip() for c in reader.fieldnames or []]
        missing = [c for c in CSV_COLUMNS if c not in header]
        if missing:
            raise PriceFileError(path, missing[0], None, f"missing column; required: "
                                 f"{list(CSV_COLUMNS)}, optional: {list(OPTIONAL_COLUMNS)}")
        unknown = [c for c in header if c not in CSV_COLUMNS + OPTIONAL_COLUMNS]
        if unknown:
            raise PriceFileError(path, unknown[0], None, f"unknown column; allowed: "
                                 f"{list(CSV_COLUMNS + OPTIONAL_COLUMNS)}")
        rows = []
        for n, raw in enumerate(reader, start=1):
            if None in raw:
                raise PriceFileError(path, "", n, f"more values than the header's "
                                     f"{len(header)} columns")
            rows.append(_parse_row(path, n, {k.strip(): (v or "").strip()
                                             for k, v in raw.items()}))
    if not rows:
        raise PriceFileError(path, "", None, "no data rows")
    return rows


def _parse_row(path: Path, n: int, raw: dict[str, str]) -> dict:
    row: dict = {"product": raw["product"]}
    if not row["product"]:
        raise PriceFileError(path, "product", n, "empty; a product name is required")
    day = _number(path, n, "day", raw["day"])
    if day != int(day) or day < 0:
        raise PriceFileError(path, "day", n, f"{raw['day']!r} is not a whole day >= 0")
    row["day"] = int(day)
    row["price"] = _positive(path, n, "price", raw["price"])
    if raw.get("original_price"):
        row["original_price"] = _positive(path, n, "original_price", raw["original_price"])
    if raw.get("frame"):
        if raw["frame"] not in FRAMES:
            raise PriceFileError(path, "frame", n, f"{raw['frame']!r}; allowed: {list(FRAMES)}")
        row["frame"] = raw["frame"]
    return row


def _number(path: Path, n: int, column: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise PriceFileError(path, column, n, f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise PriceFileError(path, column, n, f"{text!r}: must be a finite number")
    return value


def _positive(path: Path, n: int, column: str, text: str) -> float:
    value = _number(path, n, column, text)
    if value <= 0:
        raise PriceFileError(path, column, n, f"{value:g}: a price must be > 0")
    return value


class PriceFileError(ValueError):
    def __init__(self, path: Path, column: str, row: int | None, problem: str):
        self.path, self.column, self.row = path, column, row
        where = ", ".join(x for x in (f"column {column!r}" if column else "",
                                      f"row {row}" if row is not None else "") if x)
        super().__init__(f"{path}: {where + ': ' if where else ''}{problem}")
