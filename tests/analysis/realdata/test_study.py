"""The agent model on real stores: its simulated sales answer prices, and the comparison
command runs end to end at a small size (2 stores, weeks 40-49)."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from analysis.cli import main
from analysis.realdata.agent import simulate
from analysis.realdata.baselines import fit_fixed_effects
from analysis.realdata.oj import OJPanel
from analysis.realdata.stores import Pooled, store_scenario
from simulation import pacing

from .conftest import OJ, OJ_DEMO

SMALL = ["--stores", "2", "--fit-last", "46", "--last", "49", "--population", "200",
         "--grid", "2,4", "--loss-grid", "1,2,3"]


def own_elasticity(panel: OJPanel, stores, pooled: Pooled, brand: int) -> float:
    sim = simulate(panel, stores, pooled, population=1500, seed=1)
    t = panel.table.merge(sim, on=["store", "week", "brand"])
    fit = fit_fixed_effects(t.assign(logmove=t.z)[t.brand == brand])
    return float(fit.by_brand[brand].coef[brand - 1])


def own_price_slopes(panel: OJPanel, simulated: pd.DataFrame) -> np.ndarray:
    """Per brand, the slope of simulated log units on the brand's own log price within
    store-brand (both centred per store and brand): a one-regressor elasticity."""
    t = panel.table.merge(simulated, on=["store", "week", "brand"])
    own = np.log(t.to_numpy()[np.arange(len(t)), t.columns.get_indexer(
        [f"price{b}" for b in t.brand])].astype(float))
    frame = pd.DataFrame({"brand": t.brand, "key": t.store * 100 + t.brand, "x": own,
                          "y": t.z})
    centred = frame[["x", "y"]] - frame.groupby("key")[["x", "y"]].transform("mean")
    xy = (centred.x * centred.y).groupby(frame.brand).sum()
    xx = (centred.x ** 2).groupby(frame.brand).sum()
    return (xy / xx).to_numpy()


def test_simulated_sales_answer_prices_in_small_stores(oj_panel):
    """Stores 2 and 5, weeks 40-70 (daily tick), 1,000 consumers, price sensitivity 6: the
    within-store slope of simulated log sales on own log price, averaged over the 11
    brands, is -5.9 (measured 2026-12-07 with feature ads acting, seed 1; -6.5 without
    them; the same slope of the data: -3.2). A price-blind model (sensitivity 1e-6: -1.1,
    what is left is the deal frame and the features that come with price cuts) or a
    constant forecast (slope 0) fails the bound of -3."""
    t = oj_panel.table
    stores = [2, 5]
    panel = OJPanel(oj_panel.source, t[t.store.isin(stores) & (t.week <= 70)],
                    oj_panel.demographics)
    sim = simulate(panel, stores, Pooled(price_sensitivity=6.0), population=1000, seed=1)
    slopes = own_price_slopes(panel, sim)
    assert slopes.mean() < -3.0, slopes


def test_feature_is_an_owned_display_that_raises_sales(oj_panel):
    """Store 2, weeks 40-60, 500 consumers: each brand's feature channel serves impressions
    in proportion to its weekly ``feat`` share at no cost, and switching the channels off
    (reach 1e-9) lowers simulated log sales by 0.38 log units on average (measured
    2026-12-07, seed 1; featured rows 0.36, the others 0.39: the display drives category
    visits and awareness, which the engine keeps per consumer, not per brand). A feature
    that does nothing leaves the sales unchanged (the channels have their own streams)."""
    t = oj_panel.table
    panel = OJPanel(oj_panel.source, t[(t.store == 2) & (t.week <= 60)],
                    oj_panel.demographics)
    s = store_scenario(panel, 2, Pooled(), population=500)
    ch = next(c for c in s.channels if c.name == "feature_brand5")
    assert ch.cost_model == "owned" and ch.product == "brand5" and ch.budget == 0
    weekly = pacing.impression_capacity(s)[s.channels.index(ch)].reshape(-1, 168).sum(axis=1)
    rows = panel.table[panel.table.brand == 5]  # a missing week keeps the previous share
    np.testing.assert_allclose(weekly[rows.week - 40], 500 * rows.feat)
    on, off = (simulate(panel, [2], Pooled(feature_reach=reach), population=500, seed=1)
               for reach in (1.0, 1e-9))
    assert (on.z - off.z).mean() > 0.2


def test_store_without_fit_weeks_is_refused(oj_panel):
    from analysis.calibration.data import DataError
    from analysis.realdata.study import Design, run_study

    t = oj_panel.table
    late = t[t.store.isin([2, 5]) & ((t.store == 2) | (t.week > 50)) & (t.week <= 60)]
    with pytest.raises(DataError, match="store 5 has no weeks to fit"):
        run_study(OJPanel(oj_panel.source, late, oj_panel.demographics),
                  Design(fit_last=50, last=60))


@pytest.mark.long
def test_simulated_sales_fall_with_own_price(oj_panel):
    """Store 2, weeks 40-70: the regression fitted to the agent model's own weekly sales
    gives brand 5 an own-price elasticity of about -5.4 at price sensitivity 6 and -1.8 at
    sensitivity 1e-6 (measured 2026-12-03, seed 1; the Dominick's data: about -1.8). The
    price-blind value is not zero: the deal frame (limited-time urgency on deal weeks, which
    are the cheap weeks) and the seen-price references still move sales; not yet explained
    further. The margin of 1.0 is about twice the elasticity's sd over seeds (~0.5 at 1,500
    consumers, from the regression's standard errors on 31 weeks)."""
    t = oj_panel.table
    panel = OJPanel(oj_panel.source, t[(t.store == 2) & (t.week <= 70)], oj_panel.demographics)
    priced = own_elasticity(panel, [2], Pooled(price_sensitivity=6.0), 5)
    blind = own_elasticity(panel, [2], Pooled(price_sensitivity=1e-6), 5)
    assert priced < -3.0 and priced < blind - 1.0, (priced, blind)


@pytest.mark.slow
def test_validate_real_writes_the_comparison(tmp_path, capsys):
    if not OJ.is_file():
        pytest.skip("shared data absent")
    out = tmp_path / "vr"
    assert main(["validate-real", "--data", str(OJ), "--demographics", str(OJ_DEMO), *SMALL,
                 "--out", str(out)]) == 0
    table = pd.read_csv(out / "comparison.csv", index_col=[0, 1])
    assert set(table.index) == {(s, m) for s in ("forecast", "deals")
                                for m in ("agent", "regression", "store_mean")}
    assert np.isfinite(table.lpd).all() and table.coverage90.between(0, 1).all()
    md = (out / "comparison.md").read_text()
    assert md.count("```") >= 8
    # six coarse points, a finer 3 x 3 grid around the surface's maximum, the chosen point
    evaluated = md.split("training lpd per point: ")[1].splitlines()[0].count("): ")
    assert 7 <= evaluated <= 16, md
    elastic = pd.read_csv(out / "elasticities.csv")
    assert set(elastic.model) == {"agent", "regression", "store_mean"}


@pytest.mark.parametrize("option, value, words", [
    ("--grid", "1,x", "numbers separated by commas"),
    ("--grid", "0,3", "must be > 0"),
    ("--loss-grid", "2,nan", "loss aversions must be > 0"),
    ("--fit-last", "170", "--fit-last < --last"),
])
def test_bad_options_are_refused(option, value, words, capsys):
    args = ["validate-real", "--data", str(OJ), "--demographics", str(OJ_DEMO), *SMALL]
    i = args.index(option) if option in args else None
    args = args[:i] + args[i + 2:] if i is not None else args
    assert main([*args, option, value]) == 2
    assert words in capsys.readouterr().err


def test_bad_data_file_is_refused_by_name(tmp_path, capsys):
    bad = tmp_path / "oj.csv"
    bad.write_text("store,brand,week\n2,1,40\n")
    assert main(["validate-real", "--data", str(bad), "--demographics", str(OJ_DEMO)]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "logmove" in err


def test_design_is_frozen():
    from analysis.realdata.study import Design
    with pytest.raises(dataclasses.FrozenInstanceError):
        Design().stores = 3
