"""The calibrate command (via ``main``) and the mapping of posterior draws onto scenarios."""

import argparse
import json

import numpy as np
import pytest

import scenarios
from analysis.calibration.bass import simulate_bass
from analysis.calibration.cli import add_arguments, main
from analysis.calibration.overrides import to_overrides
from analysis.calibration.posterior import load_calibration
from analysis.calibration.repurchase import rfm, simulate_transactions

from ...conftest import MINI


def _args(*argv):
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(list(argv))


def _adoption_csv(tmp_path):
    s = simulate_bass(0.02, 0.4, 1e4, 14, rng=np.random.default_rng(3))
    path = tmp_path / "adoption.csv"
    path.write_text("period,adopters\n" + "".join(f"{int(t)},{int(y)}\n"
                                                   for t, y in zip(s.period, s.adopters,
                                                                   strict=True)))
    return path


def test_converged_run_writes_outputs_and_returns_0(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(_args("--model", "bass", "--data", str(_adoption_csv(tmp_path)), "--out",
                      str(out), "--draws", "1500", "--tune", "1000", "--seed", "1"))
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert {"posterior.nc", "summary.json", "trace.png", "ppc.png"} <= {
        p.name for p in out.iterdir()}
    assert "converged" in printed and "hdi_5%" in printed


def test_unconverged_run_warns_loudly_and_returns_1(tmp_path, capsys):
    code = main(_args("--model", "bass", "--data", str(_adoption_csv(tmp_path)), "--out",
                      str(tmp_path / "o"), "--draws", "50", "--tune", "50"))
    assert code == 1
    assert "did NOT converge" in capsys.readouterr().err


def test_bad_data_returns_2_with_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("period,adopters\n1,5\n2,x\n3,4\n4,4\n5,4\n")
    assert main(_args("--model", "bass", "--data", str(bad), "--out", str(tmp_path))) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "column 'adopters', row 2" in err
    assert "Traceback" not in err


def test_repurchase_from_a_customer_summary_end_to_end(tmp_path, capsys):
    """``calibrate --model repurchase`` on the customer summary CLV users hold (frequency,
    recency, T in weeks, monetary_value), at small size: every output file, the frequency
    check of a summary, scenario overrides; a summary with recency > T exits 2, one line."""
    log = simulate_transactions(0.8, 4.0, 1.0, 4.0, 200, 40.0, rng=np.random.default_rng(1))
    summary = rfm(log).assign(monetary_value=25.0)
    data, out = tmp_path / "customers.csv", tmp_path / "out"
    summary.to_csv(data, index=False)
    code = main(_args("--model", "repurchase", "--data", str(data), "--out", str(out),
                      "--scenario", str(MINI), "--draws", "60", "--tune", "60",
                      "--chains", "1"))
    assert code in (0, 1), capsys.readouterr()  # 1 chain of 60 draws cannot converge
    assert {p.name for p in out.iterdir()} == {"posterior.nc", "summary.json", "trace.png",
                                                "ppc.png", "overrides.json"}
    report = json.loads((out / "summary.json").read_text())
    assert set(report["parameters"]) == {"r", "alpha", "a", "b"}
    assert report["meta"]["data"] == "customer summary" and report["meta"]["customers"] == 200
    check = load_calibration(out).check
    assert check.observed.sum() == 200 and check.x.tolist() == list(range(8))
    assert len(json.loads((out / "overrides.json").read_text())["overrides"]) == 60
    capsys.readouterr()
    bad = tmp_path / "bad.csv"
    frame = summary.copy()
    frame.loc[3, "recency"] = frame.loc[3, "T"] + 1
    frame.to_csv(bad, index=False)
    assert main(_args("--model", "repurchase", "--data", str(bad), "--out", str(out))) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err
    assert f"{bad}, column 'recency', row 4: " in err and "at most T" in err


def test_sbc_option_writes_ranks_resumes_and_refuses_other_models(tmp_path, capsys):
    data, out = _adoption_csv(tmp_path), tmp_path / "sbc"
    argv = ("--model", "bass", "--data", str(data), "--out", str(out), "--sbc", "4",
            "--draws", "30", "--tune", "100", "--chains", "1")
    assert main(_args(*argv)) in (0, 1)  # 4 simulations cannot judge uniformity
    report = json.loads((out / "sbc.json").read_text())
    assert report["simulations"] == 4 and report["posterior_draws"] == 30
    assert set(report["parameters"]) == {"p", "q", "m_rel", "inv_phi"}
    assert (out / "sbc.png").exists() and "rank uniformity p" in capsys.readouterr().out
    assert main(_args(*argv)) in (0, 1)  # resumed from sbc_chunks: same ranks
    assert json.loads((out / "sbc.json").read_text()) == report
    assert main(_args("--model", "repurchase", "--data", str(data), "--sbc", "4")) == 2
    assert "supports bass, media, price" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    bad.write_text("period,adopters\n1,5\n2,x\n3,4\n4,4\n5,4\n")
    assert main(_args("--model", "bass", "--data", str(bad), "--sbc", "4")) == 2


def test_price_overrides_validate_on_a_scenario(tiny_fits):
    cal = tiny_fits("price")
    over = to_overrides(cal, 5)
    assert over["segments.silver.loss_aversion.mean"] == pytest.approx(
        float(cal.draws("loss_aversion")[5]))
    assert over["behaviour.reference_smoothing"] == pytest.approx(
        1 - float(cal.draws("ref_memory")[5]))
    s = scenarios.with_overrides(scenarios.load(MINI), over)
    assert s.segments["gen_z"].loss_aversion.mean == over["segments.gen_z.loss_aversion.mean"]


def test_repurchase_overrides_need_a_product(tiny_fits):
    cal = tiny_fits("repurchase")
    scenario = scenarios.load(MINI)
    name = scenario.products[0].name
    over = to_overrides(cal, 0, product=name)
    expected = 7 * cal.draws("alpha")[0] / cal.draws("r")[0]
    assert over == {f"products.{name}.repurchase_days": pytest.approx(expected)}
    assert scenarios.with_overrides(scenario, over).products[0].repurchase_days == \
        pytest.approx(expected)
    with pytest.raises(ValueError, match="product="):
        to_overrides(cal, 0)
    with pytest.raises(IndexError):
        to_overrides(cal, 10**6, product=name)


def test_media_and_bass_overrides(tiny_fits):
    over = to_overrides(tiny_fits("media"), 0)
    assert set(over) == {"behaviour.awareness_half_life_hours"}
    assert scenarios.with_overrides(scenarios.load(MINI), over)
    assert to_overrides(tiny_fits("bass"), 0) == {}


def test_simulator_draws_become_the_agent_models_overrides():
    """A simulator calibration's draw sets the agent model's fields (it used to give {}),
    and through the same function as every other model's: ``to_overrides``,
    ``posterior.draw_overrides`` and ``overrides.json`` agree."""
    import arviz as az

    from analysis.calibration.agent_model import baseline, overrides
    from analysis.calibration.base import Calibration
    from analysis.calibration.posterior import draw_overrides

    scenario = scenarios.load(MINI)
    draws = {"loss_aversion": np.array([[1.5, 2.5, 3.0]]),
             "base_utility_shift": np.array([[0.1, -0.2, 0.3]])}
    cal = Calibration("simulator", az.from_dict(posterior=draws), tuple(draws),
                      meta=baseline(scenario))
    over = to_overrides(cal, 1)
    assert over == overrides(scenario, {"loss_aversion": 2.5, "base_utility_shift": -0.2})
    assert over["segments.gen_z.loss_aversion.mean"] == 2.5
    assert draw_overrides(cal, 1) == over
    varied = scenarios.with_overrides(scenario, over)
    assert varied.segments["silver"].base_utility.mean == pytest.approx(
        scenario.segments["silver"].base_utility.mean - 0.2)
    with pytest.raises(ValueError, match="no scenario mapping"):
        to_overrides(Calibration("unknown", cal.idata, tuple(draws)), 0)


def test_cli_writes_overrides_for_a_scenario(tiny_fits, tmp_path):
    from analysis.calibration.cli import _overrides

    args = _args("--model", "repurchase", "--data", "unused", "--scenario", str(MINI),
                 "--out", str(tmp_path))
    path = _overrides(tiny_fits("repurchase"), args)
    data = json.loads(path.read_text())
    assert len(data["overrides"]) == len(data["draws"]) == 100
    assert all(k.endswith("repurchase_days") for row in data["overrides"] for k in row)
