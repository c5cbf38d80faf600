"""Scenario loading: presets validate, and every kind of bad input gets one clear message."""

import pickle

import pytest
from pydantic import ValidationError

import scenarios
from scenarios import ScenarioError

from ..conftest import DATA, MINI


def _write(tmp_path, text, name="bad.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def _mini_with(tmp_path, old, new):
    text = MINI.read_text()
    assert old in text, old
    return _write(tmp_path, text.replace(old, new, 1))


def test_every_preset_validates():
    names = scenarios.preset_names()
    assert {"double11_beauty", "fashion_seeding", "food_group_buying",
            "silver_wechat_crm"} <= set(names)
    for name in names:
        s = scenarios.load(name)
        assert s.name == name
        assert s.market.population == 200_000


def test_scenario_is_frozen(mini):
    s = mini()
    with pytest.raises(ValidationError, match="frozen"):
        s.seed = 3


def test_segment_defaults_merge_with_overrides(mini):
    s = mini()
    assert s.segments["millennial"].need_rate.mean == 0.2
    assert s.segments["millennial"].loss_aversion.mean == pytest.approx(1.955)
    assert s.segments["silver"].need_rate.mean > 0


@pytest.mark.parametrize(
    ("old", "new", "field", "words"),
    [
        ("seed = 5", "seed = 5\nsede = 3", "sede", "unknown field"),
        ("budget = 150.0", "budgett = 150.0", "channels[search].budgett",
         "did you mean 'budget'"),
        ("budget = 150.0", 'budget = "lots"', "channels[search].budget",
         "valid number"),
        ("budget = 150.0", "budget = -150.0", "channels[search].budget",
         "greater than or equal to 0"),
        ("existing_customer_share = 0.1", "existing_customer_share = 0.1\n"
         "generation_mix = { gen_z = 0.5, millennial = 0.4 }", "market.generation_mix",
         "sum to 1"),
        ("day = 3\nhour = 10", "day = 30\nhour = 10", "calendar.events[flash]",
         "outside the calendar"),
        ("promo_price = 160.0", "promo_price = 210.0", "offers[promo].promo_price",
         "above the list price"),
        ('frame = "limited_time"', 'frame = "urgent"', "offers[promo].frame", "limited_time"),
        ("ctr = 0.05\nfrequency_cap = 2", "ctr = 1.5\nfrequency_cap = 2", "channels[search].ctr",
         "less than or equal to 1"),
        ("{ mean = 0.2, sd = 0.08 }", "{ mean = -0.2, sd = 0.08 }",
         "segments.millennial.need_rate.mean", "must be > 0"),
        ('channel = "video"', 'channel = "tv"', "calendar.events[live].channel",
         "unknown channel 'tv'"),
        ("cost = 0.15", "cost = 1.5", "channels[affiliate].cost", "commission rate"),
        ('cost_model = "commission"', 'cost_model = "owned"', "channels[affiliate].cost",
         "an owned channel has no cost"),
        ("daily_impressions = 800", "daily_impressions = 800\nschedule = [{ day = 9, level = 1 "
         "}]", "channels[affiliate].schedule[0].day", "outside the calendar"),
        ("daily_impressions = 800", "daily_impressions = 800\nschedule = [{ day = 2, level = 1 "
         "}, { day = 1, level = 0 }]", "channels[affiliate].schedule[1].day", "must be after"),
        ("[segments.millennial]", "[segments.millennial]\nneed_rte = 1",
         "segments.millennial.need_rte", "did you mean 'need_rate'"),
        ("[segments.millennial]", "[segments.boomer]", "segments", "unknown generations"),
        ("start_day = 2, end_day = 5", "start_day = 1, end_day = 5", "calendar.phases[peak]",
         "overlaps"),
    ],
)
def test_bad_fields_name_file_field_and_rule(tmp_path, old, new, field, words):
    path = _mini_with(tmp_path, old, new)
    with pytest.raises(ScenarioError) as err:
        scenarios.load(path)
    message = str(err.value)
    assert str(path) in message
    assert f"`{field}" in message
    assert words in message


def test_broken_toml(tmp_path):
    with pytest.raises(ScenarioError, match="not valid TOML.*line 1"):
        scenarios.load(_write(tmp_path, "name = [unclosed\n"))


def test_empty_file(tmp_path):
    with pytest.raises(ScenarioError, match="empty"):
        scenarios.load(_write(tmp_path, ""))


def test_huge_file(tmp_path):
    with pytest.raises(ScenarioError, match="limited to"):
        scenarios.load(_write(tmp_path, "# x\n" * 400_000))


def test_missing_required_section(tmp_path):
    with pytest.raises(ScenarioError, match="`channels`: required field is missing"):
        scenarios.load(_write(tmp_path, 'name = "x"\n[[products]]\nname = "a"\n'
                              "list_price = 1.0\nmargin = 0.5\n"))


def test_unknown_preset_suggests():
    with pytest.raises(ScenarioError, match="did you mean 'double11_beauty'"):
        scenarios.load("double11_beuty")


def test_nothing_in_a_file_is_executed(tmp_path):
    marker = tmp_path / "pwned"
    payload = f"__import__('os').system('touch {marker}')"
    text = MINI.read_text().replace('name = "mini"', f'name = "{payload}"')
    s = scenarios.load(_write(tmp_path, text))
    assert s.name.startswith("__import__")
    assert not marker.exists()


def test_overrides_by_name_and_type():
    s = scenarios.load("double11_beauty", ["channels.search.budget=5e3",
                                           'offers.d11_serum.frame="everyday_low_price"',
                                           "calendar.events.eve_live.discount=0.2"])
    assert s.channels[3].budget == 5000
    assert s.offers[0].frame.value == "everyday_low_price"
    assert [e for e in s.calendar.events if e.name == "eve_live"][0].discount == 0.2


@pytest.mark.parametrize(
    ("override", "words"),
    [
        ("channels.search.budgt=1", "no such field `channels.search.budgt`"),
        ("channels.tv.budget=1", "no list item named 'tv'"),
        ("market.populaton=10", "did you mean 'population'"),
        ("channels.search.budget=-1", "greater than or equal to 0"),
        ("nonsense", "expected dotted.path=value"),
    ],
)
def test_bad_overrides(override, words):
    with pytest.raises(ScenarioError, match=words.replace("(", r"\(")):
        scenarios.load("double11_beauty", [override])


def test_with_overrides_revalidates(mini):
    s = mini()
    changed = scenarios.with_overrides(s, {"channels.video.budget": 10.0})
    assert changed.channels[0].budget == 10.0 and s.channels[0].budget == 400.0
    with pytest.raises(ScenarioError, match="market.tier_mix"):
        scenarios.with_overrides(s, {"market.tier_mix": {"upper": 0.7, "lower": 0.7}})


SOCIAL = DATA / "social.toml"


@pytest.mark.parametrize(
    "old, new, field, words",
    [
        ("kol_share = 0.002", "kol_share = 0.9", "network.kol_share", "less than or equal"),
        ("kol_share = 0.002", "kol_share = 0.002\nkol_tail = 1.0", "network.kol_tail",
         "greater than 1"),
        ("koc_followers = [20, 120]", "koc_followers = [120, 20]", "network.koc_followers",
         "min <= max"),
        ("friend_degree = 6", "friend_degre = 6", "network.friend_degre",
         "did you mean 'friend_degree'"),
        ("koc = 0.15", "koc = 1.5", "network.tie_probability.koc", "less than or equal to 1"),
        ("k = 2", "k = 0", "network.group_buy.k", "greater than or equal to 1"),
        ("window_hours = 24", 'window_hours = 24\nproduct = "tea"', "network.group_buy.product",
         "unknown product 'tea'"),
        ("response_hours = 4", 'response_hours = 4\ninfluence = "magic"', "network.influence",
         "'proof' or 'convert'"),
        ("accounts = 3\n", "", "calendar.events[kol_launch].accounts", "accounts, budget or both"),
        ("cost_per_account = 15.0", "cost_per_account = -1",
         "calendar.events[koc_reviews].cost_per_account", "greater than or equal to 0"),
    ],
)
def test_bad_network_settings_are_refused_like_any_field(tmp_path, old, new, field, words):
    text = SOCIAL.read_text()
    assert old in text
    path = tmp_path / "social.toml"
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(ScenarioError) as err:
        scenarios.load(path)
    assert str(path) in str(err.value)
    assert f"`{field}" in str(err.value)
    assert words in str(err.value)


def test_social_events_need_a_network(tmp_path):
    text = SOCIAL.read_text()
    start, end = text.index("[network]"), text.index("[calendar]")
    path = tmp_path / "no_network.toml"
    path.write_text(text[:start] + text[end:])
    with pytest.raises(ScenarioError, match="needs a \\[network\\] section"):
        scenarios.load(path)


def test_scenario_error_crosses_process_boundaries():
    """Store scenarios are validated in worker processes; their errors are pickled back."""
    err = pickle.loads(pickle.dumps(ScenarioError("a.toml", "channels[x].cost", "bad", 3)))
    assert (err.source, err.field, err.problem, err.value) == ("a.toml", "channels[x].cost",
                                                                 "bad", 3)
    assert str(err) == "a.toml: field `channels[x].cost`: bad (got 3)"
