"""Fingerprints of what shapes a run besides its scenario and seed: the code that runs it and
the files the scenario reads.

A stored run may be reused only for exactly the same work, so its key must change whenever
anything that could change its numbers changes. The package version does not (it stays
"0.1.0" through every edit), so the key holds a hash of the installed source of the
``simulation`` and ``scenarios`` packages (every ``.py`` and ``.toml`` file, by path and
content) and of every file the scenario refers to (today the edge list ``network.edges``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from functools import cache
from pathlib import Path

import scenarios
from scenarios import Scenario

SOURCE_SUFFIXES = (".py", ".toml")


def file_digest(files: Iterable[tuple[str, Path]]) -> str:
    """SHA-256 (16 hex digits) of ``(name, path)`` pairs: each file's name and contents."""
    h = hashlib.sha256()
    for name, path in sorted(files):
        h.update(f"{name}\0".encode())
        h.update(path.read_bytes())
        h.update(b"\0")
    return h.hexdigest()[:16]


SOURCE_ROOTS = (Path(__file__).parent, Path(scenarios.__file__).parent)


@cache
def code_fingerprint() -> str:
    """The installed source of ``simulation`` and ``scenarios`` (cached: the code a process
    has imported does not change under it)."""
    return source_fingerprint(SOURCE_ROOTS)


def source_fingerprint(roots: Iterable[Path]) -> str:
    """Every source file (``SOURCE_SUFFIXES``) below ``roots``, by path and contents."""
    return file_digest((p.relative_to(root.parent).as_posix(), p) for root in roots
                       for p in root.rglob("*")
                       if p.suffix in SOURCE_SUFFIXES and "__pycache__" not in p.parts)


def input_files(scenario: Scenario) -> list[Path]:
    """The files ``scenario`` reads when it runs."""
    network = scenario.network
    return [Path(network.edges)] if network is not None and network.edges else []


def input_fingerprint(scenario: Scenario) -> str:
    """The contents of the files ``scenario`` reads (a missing file is left to the run)."""
    return "".join(_contents(str(p), p.stat().st_mtime_ns, p.stat().st_size)
                   for p in input_files(scenario) if p.is_file())


@cache
def _contents(path: str, mtime_ns: int, size: int) -> str:
    # keyed by modification time and size too, so a sweep hashes a large edge list once
    return file_digest([(path, Path(path))])


def work_key(payload: object, *sources: Path) -> str:
    """The key of a stored piece of work: SHA-256 (16 hex digits) of ``payload`` (JSON, e.g.
    the scenario, seeds and settings), :func:`code_fingerprint` and the ``sources`` that
    turn runs into what is stored (the analysis module writing it). Every store of runs
    keys on this, so no code change leaves a stale result in use."""
    text = json.dumps(payload, sort_keys=True, default=str)
    code = code_fingerprint() + file_digest((p.name, p) for p in sources)
    return hashlib.sha256(f"{text}\0{code}".encode()).hexdigest()[:16]
