"""The agent model fitted to a campaign's daily series (emulated synthetic likelihood), and
its posteriors flowing into scenario runs."""

import json

import numpy as np
import pandas as pd
import pytest

import scenarios
import simulation
from analysis.app.scenario_io import to_toml
from analysis.calibration.emulator import (
    Emulator,
    FitOptions,
    features,
    fit_simulator,
    monomials,
)
from analysis.calibration.order_statistics import shop_export
from analysis.calibration.posterior import load_calibration, scenario_draws
from analysis.calibration.priors import from_z, to_z
from analysis.calibration.agent_model import (
    PRIORS,
    UNINFORMED,
    overrides,
    statistic_names,
    statistics,
    value_overrides,
)
from analysis.cli import main

from ...conftest import DATA, MINI, with_second_product

FOOD = scenarios.load("food_group_buying")
PRICE_RETURN = scenarios.load("food_price_return")


def test_statistics_of_a_known_series():
    s = scenarios.with_overrides(FOOD, {"calendar.events": []})  # no flash sales
    orders = np.array([10.0, 20.0, 30.0, 10.0, 0.0, 5.0] + [0.0] * 15)
    stats = statistics(orders, orders * 40.0, population=1000, scenario=s)[0]
    names = statistic_names(s, 21)
    got = dict(zip(names, stats, strict=True))
    assert got["log orders per 1,000"] == pytest.approx(np.log(75.5))
    assert got["log price / list"] == pytest.approx(np.log(40.0 / 59.9))
    assert got["share, first third"] == pytest.approx(75 / 75)  # days 0-6
    assert got["share, last of first + last week"] == 0.0


def test_flash_sales_give_a_lift_and_a_dip_statistic():
    orders = np.full(21, 10.0)
    orders[5], orders[6], orders[7] = 30.0, 4.0, 6.0  # food_group_buying's flash on day 5
    names = statistic_names(FOOD, 21)
    got = dict(zip(names, statistics(orders, orders * 40, population=1000,
                                      scenario=FOOD)[0], strict=True))
    assert got["flash share day 5"] == pytest.approx(30 / 60)  # days 3-7: 10 10 30 4 6
    assert got["after-flash share day 5"] == pytest.approx(10 / 60)
    assert "flash share day 12" in got



def test_a_shop_price_path_gives_segment_statistics():
    """food_price_return's own price moves on days 7 and 14 split the window into runs of
    constant prices: each run's share of the orders but the last (the shares add up to
    one); a 14-day fit window holds one move; a preset without an own price path adds none."""
    market = scenarios.load("food_price_return")
    orders = np.r_[np.full(7, 10.0), np.full(7, 40.0), np.full(7, 4.0)]
    got = dict(zip(statistic_names(market, 21), statistics(orders, orders * 40,
                   population=1000, scenario=market)[0], strict=True))
    assert got["share, days 0-6"] == pytest.approx(70 / 378)
    assert got["share, days 7-13"] == pytest.approx(280 / 378)
    assert "share, days 14-20" not in got
    assert [n for n in statistic_names(market, 14) if n.startswith("share, days")] == [
        "share, days 0-6"]
    assert not [n for n in statistic_names(FOOD, 21) if n.startswith("share, days")]


def test_statistics_do_not_depend_on_the_size_of_the_market():
    """The same campaign per consumer in a market 100 times larger gives the same
    statistics (within the level's +0.5)."""
    rng = np.random.default_rng(0)
    orders = rng.poisson(40, size=21).astype(float)
    small = statistics(orders, orders * 45, population=2000, scenario=FOOD)
    large = statistics(orders * 100, orders * 4500, population=200_000, scenario=FOOD)
    assert np.abs(small - large).max() < 0.02


def test_statistics_of_a_small_market_estimate_a_large_one():
    """The emulator is fitted to 2,000-consumer campaigns and matched to a 200,000-consumer
    market, so each statistic's mean over small markets must equal its value in the large
    one. Daily orders Poisson around a food_price_return-like shape (a quiet week, a
    promotion, a tail of a few orders a day at 2,000 consumers): over 4,000 small markets
    every mean is within 4 standard errors (+0.005 for the O(1/n) bias of a ratio) of the
    large market's statistic. A log of a small count (the former ``log((x + 0.5) / (y +
    0.5))`` segment and flash ratios) misses by 0.1-0.6."""
    market = scenarios.load("food_price_return")
    days = market.calendar.days
    rate = np.r_[np.full(7, 3.0), np.full(7, 25.0), np.full(days - 14, 0.6)]  # per day, n=2,000
    rate[5] *= 3  # the flash sale
    orders = np.random.default_rng(1).poisson(rate, size=(4000, days)).astype(float)
    small = statistics(orders, orders * 40, population=2000, scenario=market)
    large = statistics(rate * 100, rate * 4000, population=200_000, scenario=market)[0]
    names = statistic_names(market, days)
    gap = small.mean(axis=0) - large
    se = small.std(axis=0) / np.sqrt(len(small))
    keep = [i for i, n in enumerate(names) if n != "log orders per 1,000"]  # log of the total
    assert (np.abs(gap[keep]) < 4 * se[keep] + 0.005).all(), dict(zip(names, gap))


def test_per_product_price_statistics_use_each_list_price_whatever_the_market_size():
    """snack_box (list 59.9) sold at 40 and premium (list 179.7) at 150: each price statistic
    is its own product's log(price paid / list), a product without orders scores 0 (list
    price), the statistics are the same in a market 100 times larger, and the others are
    those of the totals."""
    two = with_second_product(FOOD)
    rng = np.random.default_rng(0)
    orders = rng.poisson([[[40.0], [10.0]], [[40.0], [0.0]]], size=(2, 2, 21)).astype(float)
    gmv = orders * np.array([40.0, 150.0])[None, :, None]
    names = statistic_names(two, 21, by_product=True)
    small = statistics(orders, gmv, population=2000, scenario=two)
    large = statistics(orders * 100, gmv * 100, population=200_000, scenario=two)
    got = dict(zip(names, small[0], strict=True))
    assert "log price / list" not in got
    assert got["log price / list, snack_box"] == pytest.approx(np.log(40.0 / 59.9))
    assert got["log price / list, premium"] == pytest.approx(np.log(150.0 / 179.7))
    assert small[1, names.index("log price / list, premium")] == 0.0
    assert np.abs(small - large).max() < 0.02
    totals = statistics(orders.sum(axis=1), gmv.sum(axis=1), population=2000, scenario=two)
    assert np.array_equal(np.delete(small, [1, 2], axis=1), np.delete(totals, 1, axis=1))


def test_parameters_map_onto_the_scenario():
    s = scenarios.load(DATA / "social.toml")
    o = overrides(s, {"base_utility_shift": 0.5, "loss_aversion": 2.5, "word_of_mouth": 2.0,
                      "awareness_half_life_hours": 30.0, "anchoring_weight": 0.6})
    changed = scenarios.with_overrides(s, o)
    assert changed.segments["gen_z"].base_utility.mean == pytest.approx(
        s.segments["gen_z"].base_utility.mean + 0.5)
    assert changed.segments["silver"].loss_aversion.mean == 2.5
    assert changed.segments["gen_x"].anchoring_weight.mean == 0.6
    assert changed.network.word_of_mouth.post_probability["gen_z"] == pytest.approx(
        2 * s.network.word_of_mouth.post_probability["gen_z"])
    assert changed.network.group_buy.share_probability == pytest.approx(
        min(1.0, 2 * s.network.group_buy.share_probability))  # group-buy links too
    assert changed.behaviour.awareness_half_life_hours == 30.0
    extreme = scenarios.with_overrides(s, overrides(s, {"anchoring_weight": 0.995}))
    assert extreme.segments["gen_z"].anchoring_weight.mean == 0.99  # a valid Beta
    plain = scenarios.load(MINI)
    assert value_overrides({"word_of_mouth": 2.0}, {"social_weight": 1.0, "base_utility": {},
                                                    "post_probability": None}) == {
        "behaviour.social_weight": 2.0}
    assert "behaviour.social_weight" in overrides(plain, {"word_of_mouth": 1.5})


def test_priors_round_trip_through_their_coordinates():
    z = np.linspace(-2, 2, 9)
    for prior in PRIORS.values():
        assert to_z(prior, from_z(prior, z)) == pytest.approx(z)


def test_the_emulator_recovers_a_known_mean_variance_and_lack_of_fit():
    """Statistics simulated from a known cubic mean with a known log-linear variance: the
    emulator's mean and variance match the truth within a few standard errors; a mean the
    cubic cannot represent (a sine) shows as lack of fit, a cubic one does not."""
    rng = np.random.default_rng(1)
    z = rng.standard_normal((6000, 2))

    def truth(z):
        return np.column_stack([1 + z[:, 0] - 0.5 * z[:, 1] ** 2 + 0.2 * z[:, 0] ** 3,
                                np.sin(2 * z[:, 0])])

    def sd(z):
        return np.column_stack([0.1 * np.exp(0.3 * z[:, 0]), np.full(len(z), 0.1)])

    stats = truth(z) + sd(z) * rng.standard_normal((len(z), 2))
    em = Emulator.fit(z, stats)
    grid = rng.standard_normal((200, 2))
    err = np.abs(em.mean(grid)[:, 0] - truth(grid)[:, 0])
    # the least-squares prediction's own sd under this heteroscedastic noise (sandwich)
    phi, at = features(z, em.mean_terms), features(grid, em.mean_terms)
    bread = np.linalg.inv(phi.T @ phi)
    meat = phi.T @ (phi * sd(z)[:, [0]] ** 2)
    pred_sd = np.sqrt(np.einsum("ij,jk,ik->i", at, bread @ meat @ bread, at))
    assert (err / pred_sd).max() < 4.5
    assert np.sqrt(em.variance(grid)[:, 0]) / sd(grid)[:, 0] == pytest.approx(1, abs=0.1)
    points = rng.standard_normal((24, 2))
    reps = truth(np.repeat(points, 20, axis=0)) + sd(np.repeat(points, 20, axis=0)) * \
        rng.standard_normal((480, 2))
    em = em.with_lack_of_fit(points, reps.reshape(24, 20, 2))
    assert em.lack_of_fit[0] < 1e-4 < 1e-2 < em.lack_of_fit[1]
    assert len(monomials(5, 3)) == 56


def test_the_size_check_removes_a_systematic_gap_of_the_large_market():
    """A large market whose statistics sit a fixed amount (0.3, 15 noise sds of the large
    market) above the small campaigns' at every point, as a social source's share does when
    KOL accounts round to none in the small one: the size check shifts the emulator by the
    gap, so the posterior mode of data from the large market lands on the truth (within 4
    sds of the mode's own error, 0.01 here), and only the shift's error and the gap's
    variation count as misfit. Counting the gap as variance only (the planted bug, the
    earlier rule) leaves the mode 0.3 / 0.5 = 0.6 off in the first parameter."""
    rng = np.random.default_rng(3)
    slopes = np.array([[0.5, 0.1], [0.0, 0.4], [0.2, 0.2]])
    z = rng.standard_normal((4000, 2))
    small_sd, scale = 0.2, 0.01  # the large market's noise is 0.1 x the small one's
    em = Emulator.fit(z, z @ slopes.T + small_sd * rng.standard_normal((4000, 3)))
    gap = np.array([0.3, 0.0, 0.0])
    points = rng.standard_normal((8, 2))
    big = (points @ slopes.T + gap)[:, None, :] + np.sqrt(scale) * small_sd * \
        rng.standard_normal((8, 2, 3))
    sized = em.with_size_discrepancy(points, big, scale)
    truth = np.array([0.4, -0.7])
    observed = truth @ slopes.T + gap

    def flat(z):
        return 0.0

    starts = rng.standard_normal((16, 2))
    assert np.allclose(sized.mean(truth[None, :])[0], observed, atol=0.03)
    assert np.abs(sized.mode(observed, scale, starts, flat) - truth).max() < 0.05
    assert sized.lack_of_fit.max() < 0.01


def _shop_files(tmp_path, scenario, truth, seed=99):
    """A scenario file and a shop's exports (daily series with orders by source, and the
    order log with ISO date/times) simulated from ``scenario`` at ``truth``."""
    scenario_file = tmp_path / "market.toml"
    scenario_file.write_text(to_toml(scenario))
    run = simulation.run(scenarios.with_overrides(scenario, overrides(scenario, truth)),
                         seed=seed, log_touchpoints=False)
    daily, _ = shop_export(run)
    daily.insert(0, "date", pd.date_range(scenario.calendar.start_date, periods=len(daily)))
    daily.insert(1, "spend_media", run.timeseries.groupby("day")["spend"].sum().to_numpy())
    data = tmp_path / "campaign.csv"
    daily.to_csv(data, index=False)
    log = run.orders
    stamp = pd.Timestamp(scenario.calendar.start_date) + pd.to_timedelta(log["hour"], unit="h")
    orders = tmp_path / "orders.csv"
    pd.DataFrame({"customer_id": "c" + log["consumer"].astype(str),
                  "time": stamp.dt.strftime("%Y-%m-%d %H:%M"), "product": log["product"],
                  "price": log["price"], "units": log["units"], "source": log["source"]}
                 ).to_csv(orders, index=False)
    return scenario_file, data, orders


def test_cli_fits_the_agent_model_end_to_end_and_resumes(tmp_path, capsys):
    """At a small size, with orders by source and an order log: progress and elapsed time,
    the statistics of both, the parameters the data did not inform, the files, overrides
    that ``scenario_draws`` (as ``compare --posterior``) applies; a rerun into the same
    folder re-simulates nothing."""
    market = simulation.rescale(FOOD, 5000)
    scenario_file, data, orders = _shop_files(tmp_path, market, {"base_utility_shift": 0.3})
    out = tmp_path / "fit"
    args = ["calibrate", "--model", "simulator", "--data", str(data), "--scenario",
            str(scenario_file), "--orders", str(orders), "--population", "500",
            "--simulations", "256", "--draws", "200", "--tune", "300", "--out", str(out),
            "--cores", "1", "--check-draws", "4"]
    status = main(args)
    printed = capsys.readouterr().out
    assert status in (0, 1)
    assert "simulated 256/320 campaigns" in printed and "done in" in printed
    assert "4 posterior draws at the observed 5,000 consumers" in printed
    assert "posterior sd / prior sd" in printed
    for name in ("posterior.nc", "summary.json", "overrides.json", "ppc.png", "trace.png"):
        assert (out / name).is_file()
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["meta"]["contraction"]) == set(PRIORS)
    stats = summary["meta"]["statistics"]
    assert "share of orders, group_buy" in stats and "repeats per buyer" in stats
    assert set(summary["meta"]["discrepancy_sd"]) >= {"level", "source", "repeat"}
    draws = scenario_draws(out, 3, seed=1)
    changed = scenarios.with_overrides(market, draws[0])
    assert changed.behaviour.awareness_half_life_hours == pytest.approx(
        draws[0]["behaviour.awareness_half_life_hours"])
    assert load_calibration(out).model == "simulator"
    assert main(args) in (0, 1)
    assert "simulated 256" not in capsys.readouterr().out  # every pass came from the store


def test_cli_fits_two_products_on_per_product_price_statistics(tmp_path):
    """A two-product market's data with per-product columns, at the smallest sizes: the fit
    summarises each product's price paid over its own list price; without the discrepancy
    term, none is sampled; ``--one-stage`` fits once (no local design)."""
    two = simulation.rescale(with_second_product(FOOD), 3000)
    scenario_file, data, _ = _shop_files(tmp_path, two, {})
    out = tmp_path / "fit"
    status = main(["calibrate", "--model", "simulator", "--data", str(data), "--scenario",
                   str(scenario_file), "--population", "500", "--simulations", "256",
                   "--draws", "200", "--tune", "300", "--out", str(out), "--cores", "1",
                   "--check-draws", "2", "--no-discrepancy", "--one-stage"])
    assert status in (0, 1)
    assert (out / "posterior.nc").is_file()
    assert not (out / "simulations" / "local").exists()
    stats = json.loads((out / "summary.json").read_text())["meta"]["statistics"]
    assert [n for n in stats if n.startswith("log price")] == [
        "log price / list, snack_box", "log price / list, premium"]
    assert json.loads((out / "summary.json").read_text())["meta"]["discrepancy_sd"] == {}


@pytest.mark.parametrize("change, column, problem", [
    (lambda f: f.iloc[:-1], "date", "20 days of data for a 21-day"),
    (lambda f: f.assign(orders=f["orders"].where(f.index != 3)), "orders", "row 4"),
    (lambda f: f.assign(orders=f["orders"].where(f.index != 2, -1.0)), "orders", "row 3"),
    (lambda f: f.drop(columns=["gmv"]), "gmv", "needs both orders and gmv"),
    (lambda f: f.assign(orders_sweets=5.0, gmv_sweets=250.0), "orders_sweets",
     "no product 'sweets' in the scenario; its products are snack_box"),
    (lambda f: f.assign(orders_snack_box=5.0, gmv_snack_box=f["gmv"].where(f.index != 6, 0)),
     "gmv", "row 7"),
    (lambda f: f.assign(source_orders_organic=3.0, source_orders_friend=2.0).assign(
        source_orders_friend=lambda g: g["source_orders_friend"].where(g.index != 4, 4.0)),
     "orders", "row 5: 5, but source_orders_organic, source_orders_friend add up to 7"),
    (lambda f: f.assign(source_orders_tiktok=5.0), "source_orders_tiktok",
     "no influence source 'tiktok' in the scenario; its sources are wechat_groups, "
     "kuaishou_short_video, group_leader_affiliate, organic, kol, koc, friend, group_buy"),
])
def test_cli_refuses_a_bad_series_before_simulating(tmp_path, capsys, change, column,
                                                    problem):
    frame = pd.DataFrame({"date": pd.date_range("2026-06-01", periods=21),
                          "spend_video": 10.0, "orders": 5.0, "gmv": 250.0})
    path = tmp_path / "bad.csv"
    change(frame).to_csv(path, index=False)
    status = main(["calibrate", "--model", "simulator", "--data", str(path), "--scenario",
                   "food_group_buying", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert status == 2 and str(path) in err and column in err and problem in err
    assert not (tmp_path / "o" / "simulations").exists()


GOOD_ORDER = {"customer_id": "a", "time": "2026-06-02 10:00", "product": "snack_box",
              "price": 39.9, "units": 1, "source": "friend"}


@pytest.mark.parametrize("column, value, problem", [
    ("product", "sweets", "'sweets' is not one of the scenario's products: snack_box"),
    ("source", "frend", "not one of the scenario's sources: wechat_groups, "
     "kuaishou_short_video, group_leader_affiliate, organic, kol, koc, friend, group_buy "
     "(did you mean 'friend'?)"),
    ("price", -1.0, "must be positive, got -1"),
    ("price", float("nan"), "missing value (NaN)"),
    ("units", 0, "must be at least 1, got 0"),
    ("time", "2026-06-22 01:00", "outside the campaign's calendar (21 days from 2026-06-01"),
    ("time", 504, "outside the campaign's calendar"),
    ("time", "next tuesday", "not a number of hours or an ISO date/time"),
])
def test_cli_refuses_a_bad_order_log_before_simulating(tmp_path, capsys, column, value,
                                                       problem):
    """A bad value in row 3 of the order log is refused with the file, column and row
    named, before any simulation."""
    daily = pd.DataFrame({"date": pd.date_range("2026-06-01", periods=21),
                          "spend_video": 10.0, "orders": 5.0, "gmv": 250.0})
    data, orders = tmp_path / "daily.csv", tmp_path / "orders.csv"
    daily.to_csv(data, index=False)
    rows = pd.DataFrame([GOOD_ORDER] * 4)
    if column == "time" and not isinstance(value, str):
        rows["time"] = 30.0  # hours since the start: every row numeric
    rows[column] = rows[column].astype(object)
    rows.loc[2, column] = value
    rows.to_csv(orders, index=False)
    status = main(["calibrate", "--model", "simulator", "--data", str(data), "--scenario",
                   "food_group_buying", "--orders", str(orders), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert status == 2, err
    assert f"{orders}, column '{column}', row 3: " in err and problem in err, err
    assert not (tmp_path / "o" / "simulations").exists()


def test_the_discrepancy_term_widens_a_posterior_the_model_cannot_match():
    """A known linear emulator (6 statistics of 2 parameters, fitted to 2,048 noisy design
    points) and data from a 100 times larger market with an effect the model lacks: the
    first two statistics shifted by 0.3 (15 times their noise at that size). Without the
    discrepancy term the posterior is narrow and misses the truth by many sds (measured:
    13 and 3); with it (half-normal scale 0.1 per group of two statistics) it is wider and
    covers the truth within 2 sds."""
    from analysis.calibration.emulator import sample_posterior

    rng = np.random.default_rng(0)
    names = ("base_utility_shift", "awareness_half_life_hours")
    weights = np.array([[1.0, 0.2], [0.5, -0.5], [0.0, 1.0], [0.3, 0.3], [0.8, 0.0],
                        [0.1, 0.9]])
    z = rng.standard_normal((2048, 2))
    emulator = Emulator.fit(z, z @ weights.T + 0.2 * rng.standard_normal((2048, 6)))
    truth = np.array([0.5, -0.5])
    observed = weights @ truth + 0.02 * rng.standard_normal(6)
    observed[:2] += 0.3
    groups = ["a", "a", "b", "b", "c", "c"]
    result = {}
    for scale in (None, 0.1):
        idata = sample_posterior(names, {n: PRIORS[n] for n in names}, emulator, observed,
                                 0.01, FitOptions(draws=300, tune=300, cores=1,
                                                  discrepancy_scale=scale), groups=groups)
        post = np.column_stack([to_z(PRIORS[n], idata.posterior[n].values.ravel())
                                for n in names])
        result[scale] = (post.mean(axis=0), post.std(axis=0))
    (exact_mean, exact_sd), (wide_mean, wide_sd) = result[None], result[0.1]
    assert (wide_sd > 2 * exact_sd).all(), result
    assert (np.abs(exact_mean - truth) / exact_sd).max() > 3, result  # over-confident
    assert (np.abs(wide_mean - truth) / wide_sd < 2).all(), result  # honest


def test_the_discrepancy_is_measured_in_each_statistics_own_units():
    """A statistic's units must not change the posterior: the discrepancy of statistic j is
    ``tau_g u_j`` with ``u_j`` its spread over the design, so multiplying one statistic (its
    design values and the observed one) by 1,000 leaves the posterior density unchanged
    (compared at 30 points of parameters and discrepancy sds, exact up to rounding). In
    absolute units (every ``u_j = 1``, the planted bug) the rescaled statistic's allowed
    miss shrinks a thousandfold against its spread and the density changes shape (NUTS
    then gave posterior sds 0.20 and 0.19 against 0.36 and 0.37)."""
    from analysis.calibration.emulator import posterior_model

    rng = np.random.default_rng(1)
    names = ("base_utility_shift", "awareness_half_life_hours")
    weights = np.array([[1.0, 0.6], [0.4, -0.5], [0.1, 0.2], [0.2, 0.3]])
    z = rng.standard_normal((2048, 2))
    stats = z @ weights.T + 0.2 * rng.standard_normal((2048, 4))
    observed = weights @ np.array([0.4, -0.3]) + 0.02 * rng.standard_normal(4)
    factor = np.array([1000.0, 1.0, 1.0, 1.0])
    options = FitOptions(discrepancy_scale=0.5)

    def log_density(stats, observed, units=None):
        model, _ = posterior_model(names, {n: PRIORS[n] for n in names}, Emulator.fit(z, stats),
                                   observed, 0.01, options, groups=["a", "a", "b", "b"],
                                   units=units)
        logp = model.compile_logp()
        points = np.random.default_rng(2).standard_normal((30, 4))
        keys = [v.name for v in model.value_vars]  # two z's and two log discrepancy sds
        return np.array([logp(dict(zip(keys, p, strict=True))) for p in points])

    plain = log_density(stats, observed)
    rescaled = log_density(stats * factor, observed * factor)
    assert np.allclose(rescaled - rescaled[0], plain - plain[0], atol=1e-6), (plain, rescaled)
    absolute = log_density(stats * factor, observed * factor, units=np.ones(4))
    assert np.abs((absolute - absolute[0]) - (plain - plain[0])).max() > 1.0  # the bug shows


def test_cli_simulator_needs_a_scenario(tmp_path, capsys):
    data = tmp_path / "campaign.csv"
    pd.DataFrame({"date": pd.date_range("2026-01-01", periods=5), "spend_video": 1.0,
                  "orders": 3.0, "gmv": 300.0}).to_csv(data, index=False)
    assert main(["calibrate", "--model", "simulator", "--data", str(data)]) == 2
    assert "needs the scenario" in capsys.readouterr().err


INFORMED = ("awareness_half_life_hours", "base_utility_shift", "word_of_mouth",
            "anchoring_weight")
"""Parameters that food_price_return's daily series, orders by source and order log inform
(docs/calibration.md, 2026-12-07: posterior sd / prior sd 0.40, 0.11, 0.13, 0.39 at 200,000
consumers with truths 1 prior sd out); the recovery test holds the fit to learning them. Loss
aversion (0.46 there, 0.54 from 2 sds out) is informed but not reliably below 0.5, so it is
held only to covering its truth."""


@pytest.mark.long
def test_recovery_with_truths_two_to_three_prior_sds_out(tmp_path):
    """Data (daily series, orders by source, order log) of food_price_return from a
    200,000-consumer market at truths 2-3 prior sds from the prior centres, fitted with
    the CLI's 8,192 simulated campaigns of 2,000 consumers (a market 100 times the
    design's). Every parameter in ``INFORMED`` must be learnt: posterior sd / prior sd
    below 0.5 and the 90% interval covering the truth, which a posterior left at the prior
    cannot do from 2-3 sds out. The others must cover the truth or be reported as not
    informed; NUTS must converge. Measured 2026-12-04 (11 min): the one-stage fit (emulator
    over the whole prior) missed the half-life (truth 20.6 h, 90% 22.4-61.6) and word of
    mouth (3.49, 3.65-4.28) and put loss aversion (3.56) outside 1.87-3.22 at contraction
    0.66; the two-stage fit covers every informed truth (contraction 0.33, 0.21, 0.26, 0.33)
    and reports loss aversion as not informed (0.83). 2026-12-07 (discrepancy in each
    statistic's units, size gap shifting the emulator; 414 s): every truth covered,
    contraction 0.18, 0.12, 0.54 (loss aversion, 90% 2.56-3.62 around 3.56), 0.21, 0.24."""
    market = PRICE_RETURN
    z = {"awareness_half_life_hours": -2.5, "base_utility_shift": 2.2, "loss_aversion": 2.0,
         "word_of_mouth": 2.5, "anchoring_weight": -2.0}
    truth = {n: float(from_z(PRIORS[n], v)) for n, v in z.items()}
    run = simulation.run(scenarios.with_overrides(market, overrides(market, truth)), seed=5,
                         log_touchpoints=False)
    daily, log = shop_export(run)
    cal = fit_simulator(daily, market, order_log=log,
                        options=FitOptions(draws=1000, tune=1000, seed=2, check_draws=4))
    summary = cal.summary()
    contraction = cal.meta["contraction"]
    print(json.dumps({"contraction": contraction, "parameters": summary["parameters"],
                      "diagnostics": summary["diagnostics"]}, indent=1))
    for name, row in summary["parameters"].items():
        covered = row["hdi_5%"] <= truth[name] <= row["hdi_95%"]
        if name in INFORMED:
            assert contraction[name] < 0.5 and covered, (name, truth[name], row)
        else:
            assert covered or contraction[name] > UNINFORMED, (name, truth[name], row)
    assert summary["diagnostics"]["converged"], summary["diagnostics"]


@pytest.mark.long
def test_simulation_based_calibration_of_the_agent_model_fit(tmp_path):
    """Talts et al. (2018), in the regime real fits use: 100 truths from the prior, each
    simulated in a 50,000-consumer market (100 times the design's 500 consumers) and fitted
    with one emulator (2,048 design campaigns), on every statistic, with the discrepancy
    term (its sds drawn from their prior for each truth); every parameter's ranks among 99
    thinned posterior draws must be uniform (chi-squared over 10 bins, p > 0.001 each: a
    family-wise false alarm rate of 0.5% over five parameters)."""
    from analysis.calibration.simulator_sbc import simulator_sbc

    base = simulation.rescale(PRICE_RETURN, 50_000)
    result = simulator_sbc(base, 100, options=FitOptions(population=500, simulations=2048,
                                                         draws=500, tune=500),
                           store=tmp_path)
    assert len(result.ranks) == 100
    p = result.p_values()
    assert min(p.values()) > 0.001, p
    # uniform ranks are no evidence if the posterior is the prior (a model replaced by a
    # constant passes the rank test with contraction 1): measured 2026-12-07, mean posterior
    # sd / prior sd 0.68, 0.23, 0.65, 0.22, 0.62 over the prior's truths (p = 0.74, 0.92,
    # 0.29, 0.17, 0.96; with the size gap counted as variance only, word of mouth's ranks
    # piled at the low end, p < 0.001)
    contraction = result.contraction.mean(axis=0)
    assert (contraction < 0.8).all(), dict(zip(result.names, contraction, strict=True))
