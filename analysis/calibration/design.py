"""Simulating a design of parameter values in batches of worlds, resumably, on every core.

Each design point is one world of a batched run (``simulation.run_batch``): ``batch_size``
worlds per pass, passes spread over ``cores`` processes. Every finished pass is written to
``store`` at once (``batch_NNNN.npz``: the points, their seeds, daily orders and GMV per
product, daily orders per influence source, and daily repeat-purchase counts), keyed by a fingerprint of everything that shapes it, so an interrupted
calibration resumes without re-running a finished pass, and a changed scenario, design or
stored layout never reuses a stale one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from scenarios import Scenario, with_overrides
from simulation.fingerprint import input_fingerprint, work_key
from simulation.io import write_atomic

from ..parallel import ordered_map
from . import agent_model
from .agent_model import PRIORS, overrides
from .order_statistics import repeat_counts
from .priors import from_z


@dataclass(frozen=True)
class Design:
    """Design points (in prior coordinates ``z``) with their simulated daily series."""

    z: np.ndarray  # (N, P)
    seeds: np.ndarray  # (N,)
    orders: np.ndarray  # (N, products, days)
    gmv: np.ndarray  # (N, products, days)
    by_source: np.ndarray  # (N, sources, days) orders by influence source
    repeats: np.ndarray  # (N, days, 4) order_statistics.repeat_counts


ARRAYS = ("orders", "gmv", "by_source", "repeats")
SERIES = "daily by product, by source, repeat counts"
"""What a stored pass holds; part of the fingerprint, so passes of another layout are
simulated again rather than misread."""


def simulate_points(scenario: Scenario, names: tuple[str, ...], z: np.ndarray,
                    seeds: np.ndarray) -> tuple[np.ndarray, ...]:
    """One world per design point, in one batched pass: daily orders and GMV per product
    (K, products, days), orders per source (K, sources, days) and repeat counts
    (K, days, 4), as :data:`ARRAYS` names them."""
    import simulation

    thetas = {n: from_z(PRIORS[n], z[:, j]) for j, n in enumerate(names)}
    worlds = [with_overrides(scenario, overrides(scenario, {n: float(thetas[n][i])
                                                            for n in names}))
              for i in range(len(z))]
    batch = simulation.run_batch(worlds, [int(s) for s in seeds])
    return (batch.daily_by_product("orders"), batch.daily_by_product("gmv"),
            daily_by_source(batch), batch_repeat_counts(batch))


def daily_by_source(batch) -> np.ndarray:
    """(K, sources, days) daily orders of each source (``batch.model.sources``)."""
    every, days = batch.model.recorder.every, batch.model.scenario.calendar.days
    per_slot = batch.metric("orders")  # (K, slots, sources)
    day_of_slot = np.arange(per_slot.shape[1]) * every // 24
    out = np.zeros((batch.k, per_slot.shape[2], days))
    np.add.at(out, (slice(None), slice(None), day_of_slot), per_slot.transpose(0, 2, 1))
    return out


def batch_repeat_counts(batch) -> np.ndarray:
    """(K, days, 4) repeat counts of each world's order log."""
    consumer, hour, _, product, price, *_ = batch.model.recorder.order_log()
    return repeat_counts(consumer, hour, product, price,
                         days=batch.model.scenario.calendar.days,
                         group=batch.model.worlds.world[consumer], groups=batch.k)


def fingerprint(scenario: Scenario, names: tuple[str, ...], extra: dict) -> str:
    """What shapes a design's simulations: scenario, parameters, design, and the source of
    the engine and of the parameter mapping (:func:`simulation.fingerprint.work_key`)."""
    return work_key({"scenario": scenario.model_dump(mode="json"), "names": names,
                     "inputs": input_fingerprint(scenario), "series": SERIES, **extra},
                    Path(__file__), Path(agent_model.__file__))


def run_design(scenario: Scenario, names: tuple[str, ...], z: np.ndarray, seeds: np.ndarray,
               *, batch_size: int = 256, cores: int = 2, store: Path | None = None,
               key: str = "", report: Callable[[int, int, float], None] | None = None
               ) -> Design:
    """Simulate every design point (resuming from ``store``); ``report(done, total,
    elapsed)`` is called after each pass."""
    chunks = [slice(i, min(i + batch_size, len(z))) for i in range(0, len(z), batch_size)]
    results: dict[int, tuple[np.ndarray, ...]] = {}
    if store is not None:
        store.mkdir(parents=True, exist_ok=True)
        for i in range(len(chunks)):
            saved = _load(store / f"batch_{i:04d}.npz", key, z[chunks[i]])
            if saved is not None:
                results[i] = saved
    started = time.perf_counter()
    todo = [i for i in range(len(chunks)) if i not in results]

    def finished(i: int, daily: tuple[np.ndarray, ...]) -> None:
        results[i] = daily
        if store is not None:
            _save(store / f"batch_{i:04d}.npz", key, z[chunks[i]], seeds[chunks[i]], daily)
        if report is not None:
            done = sum(chunks[j].stop - chunks[j].start for j in results)
            report(done, len(z), time.perf_counter() - started)

    arguments = [(scenario, names, z[chunks[i]], seeds[chunks[i]]) for i in todo]
    for i, daily in zip(todo, ordered_map(simulate_points, arguments, cores=cores),
                        strict=True):
        finished(i, daily)
    return Design(z, seeds, *(np.concatenate([results[i][a] for i in range(len(chunks))])
                              for a in range(len(ARRAYS))))


def _save(path: Path, key: str, z, seeds, arrays: tuple[np.ndarray, ...]) -> None:
    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            np.savez(f, key=np.array(key), z=z, seeds=seeds,
                     **dict(zip(ARRAYS, arrays, strict=True)))

    write_atomic(path, write)


def _load(path: Path, key: str, z: np.ndarray):
    if not path.is_file():
        return None
    try:
        with np.load(path) as f:
            if str(f["key"]) != key or not np.array_equal(f["z"], z):
                return None
            return tuple(f[a] for a in ARRAYS)
    except (OSError, ValueError, KeyError):
        return None  # a damaged pass is simulated again
