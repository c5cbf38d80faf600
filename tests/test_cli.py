"""The campaign-lab command line, as a user runs it (a subprocess, the installed script)."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from .conftest import MINI

EXE = shutil.which("campaign-lab", path=str(Path(sys.executable).parent))


def cli(*args, cwd=None):
    return subprocess.run([EXE, *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          timeout=300)


def test_list_shows_every_preset_one_line_each():
    out = cli("list")
    assert out.returncode == 0
    lines = out.stdout.strip().splitlines()
    assert len(lines) >= 4
    assert any(line.startswith("double11_beauty ") for line in lines)


def test_validate_good_and_bad(tmp_path):
    assert cli("validate", MINI).returncode == 0
    bad = tmp_path / "bad.toml"
    bad.write_text(MINI.read_text().replace("budget = 150.0", "budget = -150.0"))
    out = cli("validate", bad)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert str(bad) in out.stderr and "channels[search].budget" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("args", [
    ("--set", "channels.nope.budget=1"),
    ("--set", "market.population=0"),
    ("--population", "0"),
])
def test_run_refuses_bad_overrides_without_traceback(args, tmp_path):
    out = cli("run", MINI, *args, "--out", tmp_path)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr and "error" in out.stderr


@pytest.mark.parametrize("content", ["", "name = [", "\x00\x01garbage"])
def test_run_refuses_broken_files(tmp_path, content):
    path = tmp_path / "broken.toml"
    path.write_text(content)
    out = cli("run", path)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr and str(path) in out.stderr


def test_run_writes_summary_timeseries_and_plots(tmp_path):
    out = cli("run", MINI, "--seed", "3", "--set", "channels.video.budget=500",
              "--out", tmp_path, "--touchpoints")
    assert out.returncode == 0, out.stderr
    assert "total" in out.stdout and "video" in out.stdout
    summary = json.loads((tmp_path / "summary.json").read_text())
    for key in ("spend", "impressions", "clicks", "orders", "gmv", "roas", "roi", "cac",
                "new_customers", "repeat_customers", "complaint_rate", "by_channel",
                "by_segment", "scenario", "seed", "version"):
        assert key in summary
    assert summary["seed"] == 3 and summary["scenario"] == "mini"
    assert "profit_roi" not in summary and "ROAS" in out.stdout
    assert summary["roas"] == pytest.approx(summary["gmv"] / summary["spend"])
    assert summary["roi"] == pytest.approx(summary["profit"] / summary["spend"])
    assert summary["by_channel"]["video"]["roas"] == pytest.approx(
        summary["by_channel"]["video"]["gmv"] / summary["by_channel"]["video"]["spend"])
    shares = summary["bias_shares"]
    ts_sum = pd.read_parquet(tmp_path / "timeseries.parquet")[["decisions", "decisions_loss"]].sum()
    assert shares["loss"] == pytest.approx(ts_sum["decisions_loss"] / ts_sum["decisions"])
    assert 0 < shares["anchor"] < 1 and "decisions facing a loss" in out.stdout
    assert summary["by_channel"]["video"]["spend"] <= 500
    ts = pd.read_parquet(tmp_path / "timeseries.parquet")
    assert {"hour", "source", "generation", "tier", "spend", "orders", "gmv"} <= set(ts)
    assert ts["orders"].sum() == summary["orders"]
    assert len(pd.read_parquet(tmp_path / "touchpoints.parquet")) > 0
    for png in ("timeline.png", "funnel.png", "spend_vs_gmv.png"):
        assert (tmp_path / png).read_bytes()[:4] == b"\x89PNG"
    assert not list(tmp_path.glob(".*.tmp"))  # atomic writes leave no temporaries


def test_biases_reports_what_each_bias_does_and_writes_its_table(tmp_path):
    """Each bias switched off on paired seeds: on mini (a limited-time offer with a
    displayed original price), removing anchoring or framing loses orders; mini has no
    network, so social proof does nothing, and with exact common random numbers (paired
    batches) its change is exactly zero in every replication."""
    out = cli("biases", MINI, "--seeds", "3", "--population", "3000", "--out", tmp_path)
    assert out.returncode == 0, out.stderr
    table = pd.read_csv(tmp_path / "biases.csv").set_index("bias switched off")
    assert len(table) == 5 and "decisions facing a loss" in out.stdout
    assert table.loc["anchoring (weight 0)", "orders change"] < 0
    assert table.loc["framing (susceptibility 0)", "orders change"] < 0
    social = table.loc["social proof (weight 0)"]
    assert social["orders change"] == 0 and social["orders change se"] == 0
    assert (table.drop(index="social proof (weight 0)")["orders change se"] > 0).all()
    bad = cli("biases", MINI, "--seeds", "1", "--out", tmp_path)
    assert bad.returncode == 2 and "--seeds" in bad.stderr and "Traceback" not in bad.stderr


def test_python_api_in_three_lines():
    import scenarios
    import simulation

    result = simulation.run(scenarios.load(MINI), seed=1)
    assert result.summary["orders"] > 0
    assert result.plot_timeline().axes
