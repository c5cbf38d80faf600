"""Data loading: the shipped data sets load, and every kind of bad file gets one message that
names the file, the column and the row."""

import pickle

import numpy as np
import pandas as pd
import pytest

from analysis.calibration.data import (
    CustomerSummary,
    DataError,
    TransactionLog,
    check_products,
    load_adoption,
    load_choice_panel,
    load_customer_summary,
    load_media,
    load_repurchase,
    load_transactions,
)

from ...conftest import SHARED_DATA

SHARED = SHARED_DATA
DURABLES = SHARED / "bass_durables.csv"
PANELS = SHARED / "scanner_panels"
CDNOW = SHARED / "cdnow" / "CDNOW_master.txt"
CDNOW_SUMMARY = SHARED / "cdnow" / "cdnow_customers_summary.csv"


def _csv(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def _adoption_text(rows=6):
    return "period,adopters\n" + "".join(f"{t},{10 * t}\n" for t in range(1, rows + 1))


def _media_frame(days=30):
    date = pd.date_range("2024-01-01", periods=days, freq="D")
    rng = np.random.default_rng(0)
    return pd.DataFrame({"date": date.strftime("%Y-%m-%d"),
                         "spend_tv": rng.uniform(0, 10, days).round(2),
                         "spend_search": rng.uniform(0, 5, days).round(2),
                         "gmv": rng.uniform(50, 100, days).round(2)})


def _check(err, file, column, row):
    e = err.value
    assert isinstance(e, ValueError)
    assert e.file == str(file) and e.column == column and e.row == row, (e.column, e.row)
    assert str(file) in str(e)
    if column:
        assert repr(column) in str(e)
    if row is not None:
        assert f"row {row}" in str(e)


def test_shipped_durables_load():
    s = load_adoption(DURABLES, "color_tv")
    assert s.name == "color_tv"
    assert s.period.tolist() == list(range(1, 9))
    assert s.adopters[0] == 747


def test_several_series_need_a_choice_and_typos_get_a_hint():
    with pytest.raises(DataError, match="choose one of"):
        load_adoption(DURABLES)
    with pytest.raises(DataError, match="did you mean 'color_tv'"):
        load_adoption(DURABLES, "colour_tv")


@pytest.mark.parametrize(("text", "column", "row", "problem"), [
    ("period,adoptrs\n1,2\n", "adopters", None, "misnamed"),
    ("period,adopters,extra\n" + "".join(f"{t},{t},0\n" for t in range(1, 7)), "extra", None,
     "unexpected column"),
    (_adoption_text().replace("3,30", "3,thirty"), "adopters", 3, "not a number"),
    (_adoption_text().replace("4,40", "4,"), "adopters", 4, "NaN"),
    (_adoption_text().replace("2,20", "2,-20"), "adopters", 2, "negative"),
    (_adoption_text().replace("2,20", "2,20.5"), "adopters", 2, "whole number"),
    (_adoption_text().replace("5,50", "3,50"), "period", 5, "not sorted"),
    (_adoption_text().replace("5,50", "4,50"), "period", 5, "duplicated"),
    (_adoption_text(3), "", None, "at least 5"),
])
def test_adoption_errors(tmp_path, text, column, row, problem):
    path = _csv(tmp_path, text)
    with pytest.raises(DataError, match=problem) as err:
        load_adoption(path)
    _check(err, path, column, row)


def test_empty_missing_and_oversized_files(tmp_path):
    empty = _csv(tmp_path, "")
    with pytest.raises(DataError, match="empty") as err:
        load_adoption(empty)
    _check(err, empty, "", None)
    header_only = _csv(tmp_path, "period,adopters\n", "header.csv")
    with pytest.raises(DataError, match="no data rows"):
        load_adoption(header_only)
    with pytest.raises(DataError, match="no such file"):
        load_adoption(tmp_path / "absent.csv")
    big = _csv(tmp_path, _adoption_text(), "big.csv")
    with pytest.raises(DataError, match="limit"):
        load_adoption(big, max_bytes=10)


def test_parquet_is_read_like_csv(tmp_path):
    frame = pd.DataFrame({"period": range(1, 8), "adopters": [5, 9, 20, 30, 25, 14, 6]})
    path = tmp_path / "a.parquet"
    frame.to_parquet(path)
    assert load_adoption(path).adopters.tolist() == [5, 9, 20, 30, 25, 14, 6]
    media = _media_frame()
    media.to_parquet(tmp_path / "m.parquet")
    assert load_media(tmp_path / "m.parquet").channels == ("tv", "search")


def test_spend_column_carries_effort_and_is_checked(tmp_path):
    text = "period,adopters,spend\n" + "".join(f"{t},{10 * t},{t % 3}\n" for t in range(1, 7))
    assert load_adoption(_csv(tmp_path, text)).effort.tolist() == [1, 2, 0, 1, 2, 0]
    assert load_adoption(_csv(tmp_path, _adoption_text(), "plain.csv")).effort is None
    zero = _csv(tmp_path, text.replace(",1\n", ",0\n").replace(",2\n", ",0\n"), "zero.csv")
    with pytest.raises(DataError, match="no spend at all") as err:
        load_adoption(zero)
    _check(err, zero, "spend", None)
    gap = _csv(tmp_path, text.replace("\n4,", "\n5,").replace("\n5,50", "\n6,50")
               .replace("\n6,60", "\n7,60"), "gap.csv")
    with pytest.raises(DataError, match="consecutive") as err:
        load_adoption(gap)
    _check(err, gap, "period", 4)
    nan = _csv(tmp_path, text.replace("3,30,0", "3,30,"), "nan.csv")
    with pytest.raises(DataError, match="NaN") as err:
        load_adoption(nan)
    _check(err, nan, "spend", 3)


def test_media_loads_and_prefers_gmv(tmp_path):
    frame = _media_frame()
    frame["orders"] = 3
    frame["impressions_tv"] = 1000
    m = load_media(_csv(tmp_path, frame.to_csv(index=False)))
    assert m.outcome_name == "gmv" and m.spend.shape == (30, 2)
    assert m.impressions is not None and np.isnan(m.impressions[:, 1]).all()
    assert m.days_per_period == 1.0


def test_data_error_crosses_process_boundaries():
    err = pickle.loads(pickle.dumps(DataError("f.csv", "feat", 4, "allowed: 0 to 1")))
    assert (err.file, err.column, err.row, err.problem) == ("f.csv", "feat", 4,
                                                           "allowed: 0 to 1")


def test_channel_with_impressions_and_no_spend_is_unpaid(tmp_path):
    frame = _media_frame().assign(impressions_feature=[0, 500] * 15)
    m = load_media(_csv(tmp_path, frame.to_csv(index=False)))
    assert m.channels == ("tv", "search", "feature") and m.unpaid == ("feature",)
    assert (m.spend[:, 2] == 0).all() and m.impressions[:, 2].sum() == 7500
    none = _csv(tmp_path, frame.assign(impressions_feature=0).to_csv(index=False), "z.csv")
    with pytest.raises(DataError, match="no impressions at all") as err:
        load_media(none)
    _check(err, none, "impressions_feature", None)
    bad = frame.assign(impressions_feature=frame.impressions_feature.where(frame.index != 4,
                                                                         -1))
    path = _csv(tmp_path, bad.to_csv(index=False), "n.csv")
    with pytest.raises(DataError, match="negative") as err:
        load_media(path)
    _check(err, path, "impressions_feature", 5)


@pytest.mark.parametrize(("edit", "column", "row", "problem"), [
    (lambda f: f.drop(columns="gmv"), "gmv", None, "outcome"),
    (lambda f: f.rename(columns={"spend_tv": "spent_tv"}), "spent_tv", None, "unexpected"),
    (lambda f: f.assign(spend_tv=f.spend_tv.where(f.index != 6, -1.0)), "spend_tv", 7,
     "negative"),
    (lambda f: f.assign(gmv=f.gmv.astype(object).where(f.index != 2, "abc")), "gmv", 3,
     "not a number"),
    (lambda f: f.assign(date=f.date.where(f.index != 4, f.date[3])), "date", 5, "duplicated"),
    (lambda f: f.assign(date=f.date.where(f.index != 4, "2023-12-01")), "date", 5,
     "not sorted"),
    (lambda f: f.assign(date=f.date.where(f.index != 9, "someday")), "date", 10, "not a date"),
    (lambda f: f.head(10), "", None, "at least 16"),
])
def test_media_errors(tmp_path, edit, column, row, problem):
    path = _csv(tmp_path, edit(_media_frame()).to_csv(index=False))
    with pytest.raises(DataError, match=problem) as err:
        load_media(path)
    _check(err, path, column, row)


def _two_product_frame():
    """A media frame whose orders and GMV split over products ``a`` and ``b``."""
    frame = _media_frame()
    frame["orders_a"], frame["orders_b"] = 2.0, 1.0
    frame["gmv_b"] = (frame["gmv"] / 3).round(2)
    frame["gmv_a"] = (frame["gmv"] - frame["gmv_b"]).round(2)
    frame["orders"] = 3.0
    return frame


def test_media_loads_per_product_columns(tmp_path):
    frame = _two_product_frame()
    m = load_media(_csv(tmp_path, frame.to_csv(index=False)))
    assert m.products == ("a", "b") and m.product_orders.shape == (30, 2)
    assert m.product_gmv[:, 1].tolist() == frame["gmv_b"].tolist()
    check_products(m, ["a", "b"])
    assert load_media(_csv(tmp_path, _media_frame().to_csv(index=False), "t.csv")).products == ()


@pytest.mark.parametrize(("edit", "column", "row", "problem"), [
    (lambda f: f.drop(columns="gmv_b"), "gmv_b", None, "come in pairs"),
    (lambda f: f.drop(columns="orders_a"), "orders_a", None, "come in pairs"),
    (lambda f: f.assign(orders_b=f.orders_b.where(f.index != 3)), "orders_b", 4, "NaN"),
    (lambda f: f.assign(gmv_a=f.gmv_a.where(f.index != 8, -5.0)), "gmv_a", 9, "negative"),
    (lambda f: f.assign(orders_a=f.orders_a.where(f.index != 5, 3.0)), "orders", 6,
     "3, but orders_a, orders_b add up to 4"),
    (lambda f: f.assign(gmv_b=f.gmv_b.where(f.index != 11, f.gmv_b + 1.0)), "gmv", 12,
     "add up to"),
])
def test_media_per_product_errors(tmp_path, edit, column, row, problem):
    path = _csv(tmp_path, edit(_two_product_frame()).to_csv(index=False))
    with pytest.raises(DataError, match=problem) as err:
        load_media(path)
    _check(err, path, column, row)


def test_per_product_columns_must_name_the_scenario_products(tmp_path):
    path = _csv(tmp_path, _two_product_frame().to_csv(index=False))
    m = load_media(path)
    with pytest.raises(DataError, match="no product 'b' in the scenario; its products are "
                       "a, bb") as err:
        check_products(m, ["a", "bb"])
    _check(err, path, "orders_b", None)
    with pytest.raises(DataError, match=r"every product of the scenario \(a, b, c\)") as err:
        check_products(m, ["a", "b", "c"])
    _check(err, path, "orders_c", None)


@pytest.mark.parametrize("name", ["Yogurt", "Catsup", "Ketchup", "Tuna"])
def test_shipped_panels_load(name):
    panel = load_choice_panel(PANELS / f"ecdat_{name}.csv")
    assert panel.price.shape == (len(panel.choice), len(panel.brands))
    assert (np.diff(panel.household) >= 0).all()
    assert panel.choice.max() < len(panel.brands)


def test_cracker_panel_is_refused_for_its_zero_prices():
    """The Ecdat Cracker panel has 3 purchases of nabisco at price 0: a data error."""
    with pytest.raises(DataError, match="must be positive") as err:
        load_choice_panel(PANELS / "ecdat_Cracker.csv")
    assert err.value.column == "price.nabisco" and err.value.row == 319


def _panel_text(rows=60):
    lines = ["id,price.a,price.b,feat.a,choice"]
    lines += [f"{1 + i // 10},{1 + 0.1 * (i % 3)},{1.2},{i % 2},{'ab'[i % 2]}"
              for i in range(rows)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(("edit", "column", "row", "problem"), [
    (lambda t: t.replace(",a\n", ",c\n", 1), "choice", 1, "not one of the brands"),
    (lambda t: t.replace("price.b", "prize.b"), "price.<brand>", None, "at least two"),
    (lambda t: t.replace("\n1,1.0,", "\n1,0.0,", 1), "price.a", 1, "positive"),
    (lambda t: t.replace("\n3,", "\n1,", 1), "id", 21,
     "appears again"),
    (lambda t: "\n".join(t.splitlines()[:20]) + "\n", "", None, "at least 50"),
])
def test_panel_errors(tmp_path, edit, column, row, problem):
    path = _csv(tmp_path, edit(_panel_text()))
    with pytest.raises(DataError, match=problem) as err:
        load_choice_panel(path)
    _check(err, path, column, row)


def test_cdnow_master_and_plain_log(tmp_path):
    log = load_transactions(CDNOW)
    assert len(log.table) == 69_659 and log.table.customer_id.nunique() == 23_570
    assert log.table.date.min() == pd.Timestamp("1997-01-01")
    text = "customer_id,date,amount\n" + "".join(
        f"c{i % 7},2024-01-{1 + i % 28:02d},{i}.5\n" for i in range(60))
    plain = load_transactions(_csv(tmp_path, text))
    assert plain.table.customer_id.nunique() == 7
    headerless = _csv(tmp_path, "".join(f" {i:05d} 199701{1 + i % 28:02d}  1  {i}.00\n"
                                        for i in range(60)), "cd.txt")
    assert len(load_transactions(headerless).table) == 60


@pytest.mark.parametrize(("edit", "column", "row", "problem"), [
    (lambda t: t.replace(",3.5\n", ",-3.5\n"), "amount", 4, "negative"),
    (lambda t: t.replace("2024-01-05", "2024-13-05"), "date", 5, "not a date"),
    (lambda t: t.replace("amount", "amt"), "amount", None, "missing"),
])
def test_transaction_errors(tmp_path, edit, column, row, problem):
    text = "customer_id,date,amount\n" + "".join(
        f"c{i % 7},2024-01-{1 + i % 28:02d},{i}.5\n" for i in range(60))
    path = _csv(tmp_path, edit(text))
    with pytest.raises(DataError, match=problem) as err:
        load_transactions(path)
    _check(err, path, column, row)


def _summary_text(rows=60):
    """customer_id, frequency, recency, T, monetary_value; every third customer bought once."""
    lines = [f"c{i},{i % 3},{(i % 3) * 2.5:.1f},{30 + i % 5}.0,{(i % 3) * 10}.5\n"
             for i in range(rows)]
    return "customer_id,frequency,recency,T,monetary_value\n" + "".join(lines)


def test_cdnow_summary_and_either_layout(tmp_path):
    """The 2,357-customer CDNOW sample (FHL 2005) loads with its ID column; load_repurchase
    tells a summary from a log by the header."""
    summary = load_customer_summary(CDNOW_SUMMARY)
    table = summary.table
    assert len(table) == 2357 and list(table.columns) == ["customer_id", "frequency",
                                                         "recency", "T"]
    assert table["frequency"].sum() == 2457 and table["customer_id"].iloc[0] == "1"
    assert isinstance(load_repurchase(CDNOW_SUMMARY), CustomerSummary)
    assert isinstance(load_repurchase(CDNOW), TransactionLog)
    plain = load_repurchase(_csv(tmp_path, _summary_text()))
    assert plain.table["monetary_value"].iloc[1] == 10.5
    no_id = load_customer_summary(_csv(tmp_path, "frequency,recency,T\n" + "1,2,3\n" * 50,
                                       "no_id.csv"))
    assert no_id.table["customer_id"].tolist()[:3] == ["1", "2", "3"]
    misspelt = _csv(tmp_path, _summary_text().replace("frequency", "frequncy"), "typo.csv")
    with pytest.raises(DataError, match="'frequncy' misnamed") as err:
        load_repurchase(misspelt)  # read as the summary it is meant to be
    _check(err, misspelt, "frequency", None)


@pytest.mark.parametrize(("edit", "column", "row", "problem"), [
    (lambda t: t.replace("monetary_value", "monetary"), "monetary", None,
     "did you mean 'monetary_value'"),
    (lambda t: t.replace("c4,1,2.5,34.0", "c4,1,,34.0"), "recency", 5, "NaN"),
    (lambda t: t.replace("c4,1,2.5,34.0", "c4,-1,2.5,34.0"), "frequency", 5, "negative"),
    (lambda t: t.replace("c4,1,2.5,34.0", "c4,1.5,2.5,34.0"), "frequency", 5, "whole number"),
    (lambda t: t.replace("c4,1,2.5,34.0", "c4,1,35.0,34.0"), "recency", 5, "exceeds T"),
    (lambda t: t.replace("c3,0,0.0", "c3,0,4.0"), "recency", 4, "frequency 0"),
    (lambda t: t.replace("c4,", "c3,"), "customer_id", 5, "appears twice"),
    (lambda t: t.replace("monetary_value", "ID"), "ID", None, "second customer id"),
    (lambda t: t.replace(",10.5\n", ",-10.5\n", 1), "monetary_value", 2, "negative"),
    (lambda t: t[: t.index("c9,")], "", None, "at least 50"),
])
def test_summary_errors(tmp_path, edit, column, row, problem):
    path = _csv(tmp_path, edit(_summary_text()))
    with pytest.raises(DataError, match=problem) as err:
        load_repurchase(path)
    _check(err, path, column, row)
