"""Ground truth by paired runs, checked where the effect of every channel is known exactly."""

import pytest

import scenarios
import simulation
from analysis.attribution import ground_truth as G
from analysis.attribution.journeys import AttributionError
from tests.conftest import MINI

AUDIENCE = {"video": "gen_z", "search": "millennial", "affiliate": "gen_x", "crm": "silver"}


def disjoint_market():
    """mini with one generation per channel, no own-need visits, no repurchase, no presale.

    Why the effect is then known exactly: a consumer can only be triggered by the one channel
    that targets its generation (no organic visits: need rates ~1e-9 per day; no repurchase
    needs within the campaign: mean 10^7 days). Removing channel c therefore changes nothing
    for the consumers of the other channels: their deliveries, clicks and decisions draw from
    streams keyed by their own channel's name (``simulation.streams``), in the same number
    and order, and no state (ad-stock, frequency caps, references, coupons) is shared across
    generations. The presale is removed because its deposit completions draw from one shared
    stream in the order the deposits were placed. So the orders lost without c are exactly
    the orders recorded under source c: incremental_c = orders(source = c), in every seed.
    """
    raw = scenarios.load(MINI).model_dump(mode="json", exclude_none=True)
    raw["calendar"]["events"] = [e for e in raw["calendar"]["events"] if e["kind"] != "presale"]
    for ch in raw["channels"]:
        ch["targeting"]["generations"] = [AUDIENCE[ch["name"]]]
    for segment in raw["segments"].values():
        segment["need_rate"] = {"mean": 1e-9, "sd": 0.0}
    raw["products"][0]["repurchase_days"] = 1e7
    return scenarios.validate(raw, "disjoint")


def test_recovers_each_channels_orders_exactly_when_audiences_are_disjoint():
    scenario = disjoint_market()
    truth = G.ground_truth(scenario, 3)
    for seed in truth.seeds:
        orders = simulation.run(scenario, seed=seed).orders
        assert (orders["source"] == "organic").sum() == 0
        effects = truth.effects[truth.effects["seed"] == seed].set_index("channel")
        for channel in AUDIENCE:
            own = orders[orders["source"] == channel]
            assert effects.loc[channel, "incremental_conversions"] == len(own)
            assert effects.loc[channel, "incremental_gmv"] == pytest.approx(own["gmv"].sum())
    assert truth.table["incremental_conversions_mean"].gt(0).all()


def test_runs_are_paired_and_summarised():
    scenario = scenarios.load(MINI)
    seeds = G.replication_seeds(11, 2)
    assert seeds == G.replication_seeds(11, 2) and len(set(seeds)) == 2
    truth = G.ground_truth(scenario, seeds, channels=["search"])
    base = truth.runs[truth.runs["variant"] == "base"]
    again = [len(simulation.run(scenario, seed=s).orders) for s in seeds]
    assert base["conversions"].tolist() == again
    row = truth.table.loc["search"]
    assert row["incremental_conversions_lo"] <= row["incremental_conversions_mean"]
    assert row["incremental_conversions_mean"] <= row["incremental_conversions_hi"]
    assert len(truth.runs) == 2 * (1 + 3)


def test_counterfactual_scenarios():
    scenario = scenarios.load(MINI)
    assert G.variant(scenario, "video", "without").channels[0].budget == 0.0
    assert G.variant(scenario, "video", "plus").channels[0].budget == pytest.approx(440.0)
    # The affiliate channel is paid by commission: its lever is its daily impressions.
    assert G.lever(scenario, "affiliate") == "daily_impressions"
    minus = G.variant(scenario, "affiliate", "minus")
    assert minus.channels[2].daily_impressions == pytest.approx(720.0)


def test_errors():
    scenario = scenarios.load(MINI)
    with pytest.raises(AttributionError, match="replications"):
        G.replication_seeds(1, 0)
    with pytest.raises(AttributionError, match="unknown channels"):
        G.ground_truth(scenario, 1, channels=["tv"])
    with pytest.raises(AttributionError, match="step"):
        G.ground_truth(scenario, 1, step=1.5)


def test_batched_runs_are_the_runs_one_at_a_time():
    """The default runs every counterfactual as worlds of paired batches: each world draws
    from its own run's streams, so the table is the one of separate ``simulation.run``s."""
    scenario = scenarios.load(MINI)
    seeds = G.replication_seeds(5, 2)
    batched = G.ground_truth(scenario, seeds, channels=["search", "video"])
    alone = G.ground_truth(scenario, seeds, channels=["search", "video"],
                           run=lambda s, seed: simulation.run(s, seed=seed,
                                                              log_touchpoints=False))
    assert batched.runs.equals(alone.runs)
