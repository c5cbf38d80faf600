"""The orange-juice loader: the real panel loads whole, and each kind of bad file is refused
with its file, column and row."""

import numpy as np
import pytest

from analysis.calibration.data import DataError
from analysis.realdata.oj import PRICES, load_oj_panel, load_store_demographics

from .conftest import OJ_DEMO


def test_real_panel_loads_whole(oj_panel, oj_raw):
    t = oj_panel.table
    assert len(t) == len(oj_raw) == 106_139
    assert len(oj_panel.stores) == 83 and oj_panel.weeks.tolist() == list(range(40, 161))
    assert oj_panel.demographics.index.tolist() == oj_panel.stores.tolist()
    # the lag is the store's previous observed week of the same brand
    s5 = t[(t.store == 5) & (t.brand == 5)]
    assert np.allclose(s5.lag_price.to_numpy()[1:], np.log(s5.price5.to_numpy()[:-1]))
    assert (s5.lag_deal.to_numpy()[1:] == s5.deal.to_numpy()[:-1]).all()


def _subset(oj_raw, tmp_path, edit=None, stores=(2, 5)):
    frame = oj_raw[oj_raw.store.isin(stores) & (oj_raw.week < 60)].reset_index(drop=True)
    if edit is not None:
        frame = edit(frame.copy())
    path = tmp_path / "oj.csv"
    frame.to_csv(path, index=False)
    return path


def _drop_row(frame, i=7):
    return frame.drop(index=i).reset_index(drop=True)


def _set(column, value, i=3):
    def edit(frame):
        frame[column] = frame[column].astype(object)
        frame.loc[i, column] = value
        return frame
    return edit


@pytest.mark.parametrize("edit, column, row, words", [
    (_set("price5", 0.0), "price5", 4, "must be positive"),
    (_set("price1", -0.03), "price1", 4, "must be positive"),
    (_set("store", np.nan), "store", 4, "missing value"),
    (_set("week", np.nan), "week", 4, "missing value"),
    (_set("week", "w41"), "week", 4, "not a number"),
    (_drop_row, "brand", None, "week 53 lacks brands [1]"),
    (lambda f: f.drop(columns="price7"), "price7", None, "missing column"),
    (lambda f: f.rename(columns={"price7": "price_7"}), "price7", None, "misnamed"),
    (_set("brand", 12), "brand", 4, "allowed: 1 to 11"),
    (_set("deal", 2), "deal", 4, "allowed: 0 or 1"),
    (_set("feat", 1.5), "feat", 4, "allowed: 0 to 1"),
    (_set("price3", 0.0301), "price3", None, "one price per brand"),
    (lambda f: f.assign(brand=f.brand.where(f.index != 3, 3)), "brand", None, "appears twice"),
])
def test_bad_panel_is_refused_with_file_column_row(oj_raw, tmp_path, edit, column, row, words):
    path = _subset(oj_raw, tmp_path, edit)
    with pytest.raises(DataError) as err:
        load_oj_panel(path)
    e = err.value
    assert (e.file, e.column) == (str(path), column) and words in e.problem
    if row is not None:
        assert e.row == row


def test_store_without_demographics_is_refused(oj_raw, tmp_path):
    demo = tmp_path / "demo.csv"
    text = OJ_DEMO.read_text().splitlines()
    demo.write_text("\n".join(line for line in text if not line.startswith("5,")) + "\n")
    with pytest.raises(DataError, match=r"no demographics for stores \[5\]"):
        load_oj_panel(_subset(oj_raw, tmp_path), demo)


@pytest.mark.parametrize("replace, column, words", [
    (("0.232864733974575", "1.3"), "AGE60", "a share"),
    (("10.5532051751687", "-1"), "INCOME", "must be positive"),
    (("2,0.2328", "5,0.2328"), "STORE", "appears twice"),
])
def test_bad_demographics_are_refused(tmp_path, replace, column, words):
    demo = tmp_path / "demo.csv"
    demo.write_text(OJ_DEMO.read_text().replace(*replace, 1))
    with pytest.raises(DataError) as err:
        load_store_demographics(demo)
    assert err.value.column == column and words in err.value.problem


def test_prices_are_per_brand_columns(oj_panel):
    own = oj_panel.own_log_price()
    t = oj_panel.table
    for b in (1, 5, 11):
        assert np.allclose(own[t.brand == b], np.log(t.loc[t.brand == b, PRICES[b - 1]]))
