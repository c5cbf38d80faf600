"""A resumable log: one JSON line per finished piece of work, each stamped with the key of
the work it belongs to (:func:`simulation.fingerprint.work_key`).

A rerun reads back the lines of its own key and does only what is missing; lines of other
work (another scenario, seed or setting, or other code) are ignored, and a line cut by an
interruption is skipped. Appending a line is the commit: a crash loses at most the piece of
work in progress.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


class ResumableLog:
    """The rows of ``path`` written under ``key``."""

    def __init__(self, path: Path, key: str) -> None:
        self.path, self.key = Path(path), key

    def rows(self) -> list[dict[str, Any]]:
        """The finished rows of this key, in the order written (without their key)."""
        if not self.path.is_file():
            return []
        out = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut by an interruption
            if isinstance(row, dict) and row.pop("key", None) == self.key:
                out.append(row)
        return out

    def append(self, row: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps({"key": self.key, **row}) + "\n")
