"""Choice within a category, reference prices from prices seen, and observed price paths."""

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

import scenarios
from simulation.run import run
from simulation.streams import Draws

from ..conftest import DATA, MINI, with_second_product

GOLDEN = json.loads((Path(__file__).parent / "golden" / "orders_before_categories.json")
                    .read_text())
CASES = {
    "mini": lambda: scenarios.load(MINI),
    "mini_two_products": lambda: with_second_product(scenarios.load(MINI)),
    "social": lambda: scenarios.load(DATA / "social.toml"),
    # as it was: without the rival product and its price path added since
    "food_group_buying": lambda: scenarios.with_overrides(
        scenarios.load("food_group_buying"), {"prices": None, "products": [
            scenarios.load("food_group_buying").products[0].model_dump(mode="json")]}),
    "double11_beauty": lambda: scenarios.load("double11_beauty"),
}


def order_hash(result) -> str:
    cols = ["consumer", "hour", "source", "product", "price", "units"]
    table = result.orders[cols].round({"price": 2})  # the old engine kept float32 prices
    return hashlib.sha256(table.to_csv(index=False).encode()).hexdigest()


@pytest.mark.parametrize("case", sorted(CASES))
def test_lone_products_with_paid_price_references_give_the_old_orders(case):
    """Every product alone in its category and references moved only by prices paid: the
    multinomial engine gives the binary-logit engine's orders, order for order (hashes of the
    order logs written by the engine before categories existed, same seeds)."""
    want = GOLDEN[case]
    scenario = scenarios.with_overrides(CASES[case](),
                                        {"behaviour.reference_smoothing_seen": 0.0})
    result = run(scenario, want["seed"], population=want["population"],
                 log_touchpoints=False)
    assert len(result.orders) == want["orders"]
    assert order_hash(result) == want["sha256"]


# -- the multinomial choice ---------------------------------------------------------------
N = 200_000
BASE, BETA, REF = -2.0, 4.0, 100.0


def category_market(population=N, seen=0.15, **extra):
    """Identical millennials choosing between two creams of one category (references
    exactly REF for both); the second cream sells at the same list price."""
    seg = "segments.millennial"
    s = with_second_product(scenarios.load(MINI), name="rival", price_factor=1.0)
    return scenarios.with_overrides(s, {
        "market.population": population,
        "market.generation_mix": {"millennial": 1.0},
        "market.tier_mix": {"upper": 1.0},
        "products.cream.category": "face_cream",
        "products.rival.category": "face_cream",
        "products.cream.reference_price": REF, "products.rival.reference_price": REF,
        "products.cream.reference_price_sd": 0.0, "products.rival.reference_price_sd": 0.0,
        f"{seg}.base_utility": {"mean": BASE, "sd": 0.0},
        f"{seg}.price_sensitivity": {"mean": BETA, "sd": 0.0},
        f"{seg}.loss_aversion": {"mean": 2.0, "sd": 0.0},
        f"{seg}.anchoring_weight": {"mean": 0.0, "sd": 0.0},
        "behaviour.reference_smoothing_seen": seen,
        **extra,
    })


def choose(engine, scenario, prices, seed=1, anchors=(np.nan, np.nan)):
    """One decision of every consumer between cream and rival at ``prices``: the engine's
    consumers after it, and the decision."""
    from simulation import worlds
    from simulation.calendar import Quote
    from simulation.engine import ArrayConsumers
    from simulation.outcomes import Alternative, Offer
    from simulation.reference import AgentConsumers

    w = worlds.build([scenario], [0])
    consumers = (ArrayConsumers(w) if engine == "array"
                 else AgentConsumers(w, model=simulation_model(scenario)))
    rival = Alternative(1, Quote(prices[1], anchors[1], False), 0.0, False, 1.0)
    offer = Offer(product=0, quote=Quote(prices[0], anchors[0], False), live_discount=0.0,
                  live=False, shift=0.0, price_floor=1.0, hour=0, rivals=(rival,))
    ids = np.arange(scenario.market.population)
    decision = consumers.decide(ids, offer, np.zeros(len(ids)),
                                rng=Draws.of(np.random.default_rng(seed)))
    return consumers, decision


def simulation_model(scenario):
    import mesa
    return mesa.Model(rng=0)


def expected_shares(prices, lam=2.0):
    v = np.array([(REF - p) / REF if p < REF else -lam * (p - REF) / REF for p in prices])
    e = np.exp(BASE + BETA * v)
    return e / (1 + e.sum())


@pytest.mark.parametrize("engine,n", [("array", N), ("agents", 20_000)])
def test_choice_shares_are_the_multinomial_logit(engine, n):
    """Shares of cream, rival and no purchase follow exp(U_j) / (1 + sum exp(U_k)), with
    U = alpha + beta (gain - lambda loss) / r per alternative (a 5% cut on the rival, a 5%
    rise on the cream). Tolerance: 4 binomial standard errors per share."""
    prices = (REF * 1.05, REF * 0.95)
    _, decision = choose(engine, category_market(n), prices)
    want = expected_shares(prices)
    for j, share in enumerate(want):
        got = len(decision.bought[j].ids) / n if j in decision.bought else 0.0
        se = np.sqrt(share * (1 - share) / n)
        assert abs(got - share) < 4 * se, (j, got, share)
    assert want[1] > 1.5 * want[0]  # the cut rival takes the larger share (the test bites)
    assert decision.faced_loss.all()  # the cream's rise is a loss for everyone


@pytest.mark.parametrize("engine", ["array", "agents"])
def test_a_loss_is_counted_against_the_anchored_reference(engine):
    """Price 110 against reference 100: a loss, unless a displayed original price of 130
    pulls the reference (weight 0.5) to 115; the count of decisions facing a loss and seeing
    an anchor follows, consumer by consumer."""
    market = category_market(2_000, **{"segments.millennial.anchoring_weight":
                                       {"mean": 0.5, "sd": 0.0}})
    _, plain = choose(engine, market, (110.0, 90.0))
    _, anchored = choose(engine, market, (110.0, 90.0), anchors=(130.0, np.nan))
    assert plain.faced_loss.all() and not plain.anchored.any()
    assert not anchored.faced_loss.any() and anchored.anchored.all()


@pytest.mark.parametrize("engine", ["array", "agents"])
def test_every_price_seen_moves_the_reference_and_the_price_paid_moves_it_more(engine):
    """Memory-based references (Briesch et al. 1997): after one choice every decider's
    reference of each alternative is r + w (p - r), w = 0.15 for a price seen and 0.3 for
    the price paid of the product bought (exactly, both engines)."""
    prices = (REF * 1.2, REF * 0.7)
    consumers, decision = choose(engine, category_market(5_000), prices)
    ref = (consumers.reference if engine == "array"
           else np.array([a.reference for a in consumers.agents]))
    for j, p in enumerate(prices):
        bought = np.zeros(5_000, dtype=bool)
        if j in decision.bought:
            bought[decision.bought[j].ids] = True
        weight = np.where(bought, 0.3, 0.15)
        assert np.allclose(ref[:, j], REF + weight * (p - REF), rtol=1e-6)
    assert 0 < sum(len(b.ids) for b in decision.bought.values()) < 5_000


# -- observed price paths -------------------------------------------------------------------
def write_scenario(folder, csv_text, **extra):
    """mini with a price path read from ``prices.csv`` beside it."""
    (folder / "prices.csv").write_text(csv_text)
    toml = MINI.read_text().replace('[market]', '[prices]\nfile = "prices.csv"\n\n[market]', 1)
    (folder / "s.toml").write_text(toml)
    return folder / "s.toml"


def test_a_price_csv_beside_the_scenario_sets_shelf_prices_carried_forward(tmp_path):
    from simulation.calendar import CalendarState, quote
    from simulation.shelf import Shelf

    path = write_scenario(tmp_path, "day,product,price,original_price,frame\n"
                          "1,cream,230,,\n3,cream,150,240,limited_time\n")
    s = scenarios.load(path)
    s = scenarios.with_overrides(s, {"offers": []})
    shelf = Shelf.of([s])
    shown = [quote(s, CalendarState(), shelf, 0, 24 * d + 5) for d in range(5)]
    assert [q.price for q in shown] == [200.0, 230.0, 230.0, 150.0, 150.0]  # above list too
    assert np.isnan(shown[2].anchor) and shown[3].anchor == 240.0
    assert [q.limited_time for q in shown] == [False, False, False, True, True]


@pytest.mark.parametrize("csv_text,column,row,message", [
    ("day,product,price\n1,cream,-3\n", "price", 1, "must be > 0"),
    ("day,product,price\n1,cream,\n", "price", 1, "not a number"),
    ("day,product,price\n1,cream,nan\n", "price", 1, "finite"),
    ("day,product,price\n1.5,cream,10\n", "day", 1, "whole day"),
    ("day,product\n1,cream\n", "price", None, "missing column"),
    ("day,product,price,colour\n1,cream,3,red\n", "colour", None, "unknown column"),
    ("day,product,price\n", "", None, "no data rows"),
    ("day,product,price\n1,cream,3,limited\n", "", 1, "more values than the header"),
])
def test_bad_price_files_are_refused_naming_file_column_and_row(tmp_path, csv_text, column,
                                                                row, message):
    path = write_scenario(tmp_path, csv_text)
    with pytest.raises(scenarios.ScenarioError) as err:
        scenarios.load(path)
    text = str(err.value)
    assert "prices.csv" in text and message in text
    if column:
        assert repr(column) in text
    if row is not None:
        assert f"row {row}" in text


@pytest.mark.parametrize("csv_text,where,message", [
    ("day,product,price\n1,lotion,3\n", "row 1.product", "unknown product 'lotion'"),
    ("day,product,price\n1,cream,3\n5,cream,3\n", "row 2.day", "outside the calendar"),
    ("day,product,price\n1,cream,3\n1,cream,4\n", "row 2.day", "a second price"),
    ("day,product,price,original_price\n1,cream,30,20\n", "row 1.original_price", "below"),
])
def test_price_rows_that_do_not_fit_the_scenario_are_refused(tmp_path, csv_text, where,
                                                            message):
    path = write_scenario(tmp_path, csv_text)
    with pytest.raises(scenarios.ScenarioError) as err:
        scenarios.load(path)
    assert where in str(err.value) and message in str(err.value)


def return_after_promotion(loss_aversion, seen=0.05, population=40_000):
    """A lone cream at list 100 (references exactly 100), cut to 60 on days 0-3 and back at
    100 from day 4; no channels' deals, a need rate that brings everyone by every few days."""
    s = category_market(population, seen=seen, **{
        "products.rival.category": "other",
        "offers": [], "calendar.events": [], "calendar.days": 8,
        "calendar.phases": [{"name": "all", "start_day": 0, "end_day": 8,
                             "budget_weight": 1.0}],
        "segments.millennial.need_rate": {"mean": 0.6, "sd": 0.0},
        "segments.millennial.loss_aversion": {"mean": loss_aversion, "sd": 0.0},
        "products.cream.repurchase_days": 1.0,
        "prices": {"rows": [{"day": 0, "product": "cream", "price": 60.0},
                            {"day": 4, "product": "cream", "price": 100.0}]},
    })
    s = scenarios.with_overrides(s, {"products": [s.products[0].model_dump(mode="json")]})
    r = run(s, 4, log_touchpoints=False)
    day = r.orders["hour"] // 24
    mine = r.orders["product"] == "cream"
    ts = r.timeseries.groupby("day")[["decisions", "decisions_loss"]].sum()
    return (np.bincount(day[mine], minlength=8), ts["decisions_loss"].to_numpy(),
            ts["decisions"].to_numpy())


def test_after_a_deep_promotion_the_regular_price_is_a_loss_that_loss_aversion_weighs():
    """References that followed the promotion price (seen and paid) sit below 100 when the
    price returns: most decisions after the return face a loss (none did during the cut),
    and the dip after the promotion deepens with lambda: orders on days 4-7 at lambda = 3
    fall below those at lambda = 1 by more than 4 Poisson standard errors, while the cut's
    days (no loss) agree within 4."""
    low, loss_low, decisions = return_after_promotion(1.0)
    high, loss_high, _ = return_after_promotion(3.0)
    assert loss_high[:4].sum() == 0
    assert loss_high[4:].sum() > 0.5 * decisions[4:].sum()
    after_low, after_high = low[4:].sum(), high[4:].sum()
    assert after_low - after_high > 4 * np.sqrt(after_low + after_high)
    during_low, during_high = low[:4].sum(), high[:4].sum()
    assert abs(during_low - during_high) < 4 * np.sqrt(during_low + during_high)


def test_presets_report_where_the_biases_act():
    """summary.json's bias shares: at least two presets have >= 10% of purchase decisions
    facing a loss (double11_beauty: the return to list after Double 11; food_group_buying:
    a rival's one-week cut and return; food_price_return: our own group-buying week and
    the return to the regular price), and every share is a proportion."""
    shares = {}
    for name in scenarios.preset_names():
        s = run(scenarios.load(name), 3, population=5_000, log_touchpoints=False).summary
        shares[name] = s["bias_shares"]
        assert all(0 <= v <= 1 for v in s["bias_shares"].values())
    assert shares["double11_beauty"]["loss"] >= 0.10
    assert shares["food_group_buying"]["loss"] >= 0.10
    assert shares["food_price_return"]["loss"] >= 0.10


def two_product_category(rows=None):
    """mini with a second cream in the cream's category, and a price path."""
    s = with_second_product(scenarios.load(MINI), name="rival", price_factor=1.1)
    rows = rows or [{"day": 1, "product": "rival", "price": 150.0, "original_price": 220.0},
                    {"day": 3, "product": "rival", "price": 240.0},
                    {"day": 2, "product": "cream", "price": 230.0}]
    return scenarios.with_overrides(s, {"products.cream.category": "face",
                                        "products.rival.category": "face",
                                        "prices": {"rows": rows}})


def test_each_world_of_a_batch_shows_its_own_price_path():
    """Stores differ in their shelf prices: in a batch, world w's buyers pay world w's path
    (outside the offer and event windows of mini, where both worlds' quotes are the path)."""
    from simulation.run import run_batch

    cheap = two_product_category([{"day": 0, "product": "rival", "price": 120.0}])
    dear = two_product_category([{"day": 0, "product": "rival", "price": 260.0}])
    batch = run_batch([cheap, dear], [1, 2], record_every=1)
    consumer, hour, _, product, price, *_ = batch.model.recorder.order_log()
    world = batch.model.worlds.world[consumer]
    day0 = (product == 1) & (hour < 24)  # rival on day 0: no offer, flash sale or live yet
    assert day0[world == 0].sum() > 0 and day0[world == 1].sum() >= 0
    assert set(np.round(price[day0 & (world == 0)], 6)) <= {120.0}
    assert set(np.round(price[day0 & (world == 1)], 6)) <= {260.0}
    assert (product[world == 0] == 1).mean() > (product[world == 1] == 1).mean()


@pytest.mark.slow
def test_choice_with_a_price_path_matches_the_per_agent_reference():
    """The two engines on a two-product category with a price path: mean orders of each
    product, decisions and decisions facing a loss over 20 seeds each agree within 4
    standard errors (different streams and draw orders, so distributions, not runs)."""
    s = two_product_category()

    def kpis(engine, seeds):
        rows = []
        for seed in seeds:
            r = run(s, seed, engine=engine, log_touchpoints=False)
            by_product = r.orders.groupby("product", observed=False).size()
            rows.append([by_product["cream"], by_product["rival"], r.summary["decisions"],
                         r.summary["bias_shares"]["loss"] * r.summary["decisions"]])
        return np.array(rows, dtype=float)

    fast, ref = kpis("array", range(100, 120)), kpis("agents", range(200, 220))
    se = np.sqrt(fast.var(axis=0, ddof=1) / 20 + ref.var(axis=0, ddof=1) / 20)
    assert (np.abs(fast.mean(axis=0) - ref.mean(axis=0)) <= 4 * se).all(), (
        fast.mean(axis=0), ref.mean(axis=0), se)
    assert fast[:, 1].mean() > 10  # the rival sells: the choice is exercised
