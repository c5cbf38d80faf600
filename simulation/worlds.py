"""Many worlds in one pass: K independent runs of one campaign structure, batched.

Every analysis is made of runs, and at small populations a run's cost is per simulated hour,
not per consumer. A batch simulates K worlds at once: world ``w`` owns the contiguous block
``offsets[w]:offsets[w + 1]`` of every consumer column, draws its population (and follow
graph) from its own seed, keeps its own parameter values, channel pacing and budget state,
and the recorder keeps its tables apart. One world of a batch is statistically the same run
as ``simulation.run`` with its scenario and seed; a batch of one *is* that run.

Worlds may differ in any number that shapes consumers, channels' budgets and costs, or the
network (so calibration design points and optimiser candidates batch); they must share what the
calendar's SimPy processes and the offers act on, because those run once for all worlds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields

import numpy as np

from scenarios.schema import KocSeeding, KolPost, Scenario

from . import fused
from .population import N_SEGMENTS, Population, draw_population
from .streams import Streams

# Scenario parts every world of a batch must share (they drive the shared calendar).
_SHARED = ("products", "offers")
NO_WEIGHTS = np.empty(0)  # fused.sum_by_world and add_to_cells count one per consumer
_EVENT_MONEY = ("budget", "accounts", "fee_per_thousand_followers", "cost_per_account",
                "post_probability", "reach")


@dataclass(frozen=True)
class Worlds:
    """K worlds' scenarios, seeds and concatenated population."""

    scenarios: tuple[Scenario, ...]
    seeds: tuple[int, ...]
    population: Population  # every world's consumers, world by world
    world: np.ndarray  # int32 world of each consumer
    offsets: np.ndarray  # int64, K + 1: world w is offsets[w]:offsets[w + 1]

    @property
    def k(self) -> int:
        return len(self.scenarios)

    @property
    def scenario(self) -> Scenario:
        """World 0's scenario: the structure every world shares."""
        return self.scenarios[0]

    @property
    def batch_seed(self) -> int:
        """Seed of the batch's shared streams: a batch of one uses its world's seed."""
        if self.k == 1:
            return self.seeds[0]
        return int(np.random.SeedSequence(list(self.seeds)).generate_state(1, np.uint64)[0])

    @property
    def segment(self) -> np.ndarray:
        """World x segment cell of each consumer, in 0 .. K * N_SEGMENTS - 1."""
        return self.world * N_SEGMENTS + self.population.segment

    def values(self, get: Callable[[Scenario], float]) -> float | np.ndarray:
        """``get`` of every world: a scalar when all worlds agree, else a (K,) array."""
        vals = [get(s) for s in self.scenarios]
        if all(v == vals[0] for v in vals):
            return vals[0]
        return np.asarray(vals, dtype=np.float64)

    def per_world(self, value, dtype=np.float64) -> np.ndarray:
        """A ``values`` result as a (K,) array of ``dtype`` (a compiled loop's lookup)."""
        return np.ascontiguousarray(np.broadcast_to(np.asarray(value, dtype=dtype), (self.k,)))

    def at(self, value, ids: np.ndarray):
        """A ``values`` result for consumers ``ids``: the scalar, or each one's world's."""
        if np.ndim(value) == 0:
            return value
        return value[self.world[ids]]

    def sum_by_world(self, ids: np.ndarray, weights=None) -> np.ndarray:
        """(K,) sums of ``weights`` (or counts) of consumers ``ids`` per world."""
        if self.k == 1:
            total = len(ids) if weights is None else np.sum(weights)
            return np.array([total], dtype=np.float64)
        weights = NO_WEIGHTS if weights is None else np.asarray(weights, dtype=np.float64)
        return fused.sum_by_world(self.world, ids, weights, self.k)

    def local(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(world, id within its world) of consumers ``ids``."""
        w = self.world[ids]
        return w, ids - self.offsets[w]


def build(scenarios: Sequence[Scenario], seeds: Sequence[int], *,
          streams: Streams | None = None) -> Worlds:
    """The worlds of ``scenarios`` (one per seed), checked to share one structure."""
    scenarios, seeds = tuple(scenarios), tuple(int(s) for s in seeds)
    if len(scenarios) != len(seeds) or not scenarios:
        raise ValueError(f"a batch needs one seed per scenario, got {len(scenarios)} "
                         f"scenarios and {len(seeds)} seeds")
    check_shared(scenarios)
    pops = []
    for i, (s, seed) in enumerate(zip(scenarios, seeds, strict=True)):
        own = streams if (streams is not None and i == 0 and len(seeds) == 1) else Streams(seed)
        pops.append(draw_population(s, rng=own("population")))
    sizes = np.array([p.size for p in pops], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    population = pops[0] if len(pops) == 1 else Population(**{
        f.name: np.concatenate([getattr(p, f.name) for p in pops]) for f in fields(Population)})
    world = np.repeat(np.arange(len(pops), dtype=np.int32), sizes)
    return Worlds(scenarios, seeds, population, world, offsets)


def check_shared(scenarios: Sequence[Scenario]) -> None:
    """Refuse a batch whose worlds differ in what the shared calendar acts on."""
    first = scenarios[0]
    for w, s in enumerate(scenarios[1:], start=1):
        for part in _SHARED:
            if getattr(s, part) != getattr(first, part):
                raise ValueError(f"world {w} of a batch differs from world 0 in {part!r}; "
                                 "worlds may differ only in consumers, budgets and network")
        if _calendar_shape(s) != _calendar_shape(first):
            raise ValueError(f"world {w} of a batch has another calendar than world 0")
        if [(c.name, c.cost_model, c.requires_consent, c.product, c.targeting)
                for c in s.channels] != [(c.name, c.cost_model, c.requires_consent,
                                          c.product, c.targeting) for c in first.channels]:
            raise ValueError(f"world {w} of a batch has other channels than world 0")
        if (s.network is None) != (first.network is None) or s.market.hour_profile != \
                first.market.hour_profile:
            raise ValueError(f"world {w} of a batch differs from world 0 in network or "
                             "hour profile")
        if s.network is not None and _network_shape(s) != _network_shape(first):
            raise ValueError(f"world {w} of a batch differs from world 0 in the network's "
                             "timing, influence mode or edge list")
    if len(scenarios) > 1 and any(_controlled(s) for s in scenarios):
        raise ValueError("real-time budget control runs one world at a time; "
                         "simulate these scenarios separately")


def _calendar_shape(s: Scenario):
    events = [e.model_dump(exclude=set(_EVENT_MONEY)) if isinstance(e, KolPost | KocSeeding)
              else e for e in s.calendar.events]
    return s.calendar.days, s.calendar.phases, events


def _network_shape(s: Scenario):
    n = s.network
    gb = n.group_buy
    return (n.influence, n.edges, n.response_hours, n.proof_per_activation,
            n.proof_half_life_hours, n.word_of_mouth.reach,
            None if gb is None else (gb.discount, gb.k, gb.sharer_reward, gb.window_hours,
                                     gb.product))


def _controlled(s: Scenario) -> bool:
    return s.budget_control is not None and s.budget_control.policy != "static"
