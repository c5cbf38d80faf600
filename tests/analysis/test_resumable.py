"""The stores that resume long work (calibration design, optimizer log, agent-model SBC) key
their entries on the source fingerprint, and the one resumable log reads back only its key."""

import shutil
from pathlib import Path

import numpy as np
import pytest

import scenarios
from analysis.calibration import design
from analysis.calibration.emulator import FitOptions
from analysis.calibration.simulator_sbc import study_key
from analysis.experiments.optimize import search_key
from analysis.resumable import ResumableLog
from simulation import fingerprint

from ..conftest import MINI


@pytest.fixture
def edited_kernels(tmp_path, monkeypatch):
    """The installed source as it would be after an edit of one kernel: a copy of
    ``simulation/`` and ``scenarios/`` with one changed line in ``kernels.py``, made the
    source every key is computed from."""
    roots = []
    for root in fingerprint.SOURCE_ROOTS:
        copy = tmp_path / "src" / root.name
        shutil.copytree(root, copy, ignore=shutil.ignore_patterns("__pycache__"))
        roots.append(copy)
    kernels = tmp_path / "src" / "simulation" / "kernels.py"
    kernels.write_text(kernels.read_text().replace("def ", "def  ", 1))

    def edit():
        monkeypatch.setattr(fingerprint, "code_fingerprint",
                            lambda: fingerprint.source_fingerprint(roots))
    return edit


def _keys(scenario):
    names = ("loss_aversion",)
    return {"design": design.fingerprint(scenario, names, {"simulations": 4, "seed": 0}),
            "optimizer": search_key(scenario, [1, 2]),
            "sbc": study_key(scenario, names, n=3, seed=0, draws=9, options=FitOptions())}


def test_an_unchanged_source_copy_gives_the_installed_fingerprint(tmp_path):
    roots = [Path(shutil.copytree(r, tmp_path / r.name,
                                  ignore=shutil.ignore_patterns("__pycache__")))
             for r in fingerprint.SOURCE_ROOTS]
    assert fingerprint.source_fingerprint(roots) == fingerprint.code_fingerprint()


def test_every_store_refuses_runs_of_other_kernels(tmp_path, edited_kernels):
    scenario = scenarios.load(MINI)
    before = _keys(scenario)
    z = np.zeros((2, 1))
    batch = tmp_path / "batch_0000.npz"
    design._save(batch, before["design"], z, np.arange(2),
                 (np.ones((2, 1, 3)), np.ones((2, 1, 3)), np.ones((2, 2, 3)), np.ones((2, 3, 4))))
    logs = {name: ResumableLog(tmp_path / f"{name}.jsonl", before[name])
            for name in ("optimizer", "sbc")}
    for log in logs.values():
        log.append({"i": 0})
    assert design._load(batch, before["design"], z) is not None  # resumes unchanged code
    assert all(log.rows() == [{"i": 0}] for log in logs.values())

    edited_kernels()
    after = _keys(scenario)
    assert all(after[name] != before[name] for name in before)
    assert design._load(batch, after["design"], z) is None
    for name in logs:
        assert ResumableLog(logs[name].path, after[name]).rows() == []


def test_the_log_skips_other_work_and_a_cut_line(tmp_path):
    path = tmp_path / "log.jsonl"
    ResumableLog(path, "a").append({"i": 0, "x": [1.5]})
    ResumableLog(path, "b").append({"i": 1})
    with open(path, "a", encoding="utf-8") as f:
        f.write('{"key": "a", "i": 2, "x"')  # interrupted mid-line
    assert ResumableLog(path, "a").rows() == [{"i": 0, "x": [1.5]}]
    assert ResumableLog(path, "b").rows() == [{"i": 1}]
    assert ResumableLog(tmp_path / "none.jsonl", "a").rows() == []
