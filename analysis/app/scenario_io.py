"""Scenarios in and out of the app: an uploaded file, and a variant saved as TOML.

An upload is written to a private temporary folder under its own file name and read with
``scenarios.load``, so it is refused with exactly the messages of ``campaign-lab validate``
(file, field path, value, what is allowed). A relative ``network.edges`` path cannot be
resolved next to an upload; the message says so. The saved TOML is the scenario's own
validated content (``model_dump``), so it loads back to the same scenario.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import tomli_w

import scenarios
from scenarios import Scenario, ScenarioError

MAX_UPLOAD_BYTES = 1 << 20


def load_upload(name: str, data: bytes) -> Scenario:
    """Validate an uploaded scenario file; raise ``ScenarioError`` as the CLI would."""
    shown = Path(name).name or "upload.toml"
    if not shown.endswith(".toml"):
        raise ScenarioError(shown, "", "expected a scenario file ending in .toml")
    if len(data) > MAX_UPLOAD_BYTES:
        raise ScenarioError(shown, "", f"the file is {len(data):,} bytes; scenario files are "
                            f"limited to {MAX_UPLOAD_BYTES:,} bytes")
    with tempfile.TemporaryDirectory(prefix="campaign-lab-upload-") as folder:
        path = Path(folder) / shown
        path.write_bytes(data)
        try:
            return scenarios.load(path)
        except ScenarioError as exc:
            # name the file as the user knows it, not the temporary folder
            raise ScenarioError(shown, exc.field, exc.problem, exc.value) from None


def to_toml(scenario: Scenario, name: str | None = None) -> str:
    """The scenario as a TOML file that ``campaign-lab validate`` accepts."""
    raw = scenario.model_dump(mode="json", exclude_none=True)
    if name:
        raw["name"] = name
    head = f"# Saved by campaign-lab app: a variant of {scenario.name!r}.\n"
    return head + tomli_w.dumps(raw)


def file_name(name: str) -> str:
    """A safe file name for a scenario name."""
    return (re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "scenario") + ".toml"
