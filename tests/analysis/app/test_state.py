"""A session's actions without a browser: refusals change nothing, runs fill the history."""

import pytest

from analysis.app.runs import Workers
from analysis.app.state import Session, Setup

from ...conftest import MINI


def _session():
    return Session(Setup(str(MINI), workers=Workers(1), population=1_000))


def test_a_refused_upload_changes_nothing():
    s = _session()
    s.set_budget("video", 900)
    before = (s.baseline.value, s.levers.value, s.history.value)
    s.upload({"name": "broken.toml", "data": b"name = ["})
    assert s.error.value == "broken.toml: not valid TOML: Invalid value (at end of document)"
    assert (s.baseline.value, s.levers.value, s.history.value) == before
    s.upload({"name": "mini_again.toml", "data": MINI.read_bytes()})
    assert s.error.value is None and s.source.value == "mini_again.toml"
    assert s.levers.value.budgets["video"] == 400  # a new baseline starts from its file
    assert s.levers.value.population == 1_000  # run options are kept


def test_runs_fill_the_history_and_any_two_compare():
    s = _session()
    s.set_levers(replications=2)
    s.set_budget("video", 800)
    first = s.run_levers()
    s.keep_total.value = True
    s.set_budget("search", 400)
    second = s.run_levers()
    assert [t.name for t in s.history.value] == ["baseline", "variant 1", "variant 2"]
    assert first.variant == "variant 1" and second.variant == "variant 2"
    assert s.levers.value.total_budget == pytest.approx(1_290)  # 890 + 400, then kept
    assert "channels.video.budget = 800" in s.history.value[1].changes
    again = s.run_levers()  # the same variant again: no new history entry
    assert again.variant == "variant 2" and len(s.history.value) == 3
    two = s.compare_trials("variant 1", "variant 2")
    assert (two.baseline, two.variant) == ("variant 1", "variant 2")
    assert s.shown.value.outcome is two
    assert s.compare_trials("variant 1", "variant 1") is None and s.error.value


def test_a_refused_lever_is_shown_and_nothing_runs():
    s = _session()
    s.set_levers(advanced=("channels.video.budget=-1",))
    assert s.run_levers() is None
    assert "channels[video].budget" in s.error.value
    assert len(s.history.value) == 1


def test_with_a_posterior_each_replication_uses_a_draw(monkeypatch):
    from analysis.calibration import posterior

    asked = []

    def draws(folder, n, *, seed=0, product=None):
        asked.append((folder, n, seed))
        return [{"behaviour.awareness_weight": w} for w in (0.2, 2.0, 1.0)][:n]

    monkeypatch.setattr(posterior, "scenario_draws", draws)
    s = Session(Setup(str(MINI), posterior="calibration/out", workers=Workers(1),
                      population=1_000))
    s.set_levers(replications=2)
    s.set_budget("video", 800)
    runs = s.run_levers().comparison.runs
    assert asked[-1] == ("calibration/out", 2, 0)  # as `compare --posterior` asks
    assert sorted(runs["draw"]) == [0, 0, 1, 1]  # seed i with draw i, for both strategies
    plain = Session(Setup(str(MINI), workers=Workers(1), population=1_000))
    plain.set_levers(replications=2)
    plain.set_budget("video", 800)
    other = plain.run_levers().comparison.runs
    assert set(other["draw"]) == {-1}
    assert not runs["gmv"].equals(other["gmv"])
