"""The follow graph (KOLs, KOCs, friends) as compressed sparse arrays.

The generator's settings are the scenario's ``[network]`` table (``scenarios.social``);
``simulation.diffusion`` runs influence on the graph inside the campaign calendar.

Edges point from the account posting to the account that sees the post (followee ->
follower), so a cascade walks out-edges. ``indptr``/``indices`` are CSR rows per source.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sized
from dataclasses import dataclass

import numpy as np

from scenarios.social import Network as NetworkSettings

from . import fused
from .population import group_order

TIE_KOL, TIE_KOC, TIE_FRIEND = 0, 1, 2
ROLE_CONSUMER, ROLE_KOL, ROLE_KOC = 0, 1, 2  # FollowGraph.role
TIE_NAMES = ("kol", "koc", "friend")
# Up to this many nodes the CSR build's per-node counts stay in cache: two counting sorts
# (fused.csr_edges_by_target) beat sorting each source's row (fused.csr_edges).
CACHED_NODES = 1 << 18


@dataclass(frozen=True)
class FollowGraph:
    n: int
    indptr: np.ndarray  # int64, n + 1
    indices: np.ndarray  # int32 followers, grouped by source
    tie: np.ndarray  # int8 tie type per edge (TIE_KOL, TIE_KOC, TIE_FRIEND)
    role: np.ndarray  # int8 per node: ROLE_CONSUMER, ROLE_KOL or ROLE_KOC
    weight: np.ndarray | None = None  # float32 per edge: multiplies the tie's probability

    @property
    def n_edges(self) -> int:
        return len(self.indices)

    def out_degree(self) -> np.ndarray:
        return np.diff(self.indptr)

    def sources(self) -> np.ndarray:
        """Source node of every edge (expands ``indptr``)."""
        return np.repeat(np.arange(self.n, dtype=np.int64), self.out_degree())

    def to_networkx(self, max_edges: int = 2_000_000):
        """A ``networkx.DiGraph`` with a ``tie`` edge attribute (small graphs only)."""
        import networkx as nx

        if self.n_edges > max_edges:
            raise ValueError(f"{self.n_edges:,} edges is too many for networkx "
                             f"(limit {max_edges:,})")
        g = nx.DiGraph()
        g.add_nodes_from(range(self.n))
        names = np.array(TIE_NAMES)[self.tie]
        g.add_edges_from((int(s), int(t), {"tie": str(k)})
                         for s, t, k in zip(self.sources(), self.indices, names, strict=True))
        return g


def from_edges(n: int, src: np.ndarray, dst: np.ndarray, tie: np.ndarray,
               role: np.ndarray | None = None, weight: np.ndarray | None = None
               ) -> FollowGraph:
    """CSR graph from edge arrays; drops self-loops and duplicate (src, dst) pairs."""
    return _from_parts(n, [(src, dst, tie)], role, weight)


def _from_parts(n: int, parts: list[tuple[np.ndarray, ...]], role: np.ndarray | None = None,
                weight: np.ndarray | None = None) -> FollowGraph:
    """``from_edges`` of the concatenation of ``parts`` (src, dst, tie), without building
    it: only the edges kept are gathered."""
    src, dst, tie = ([np.asarray(p[i]) for p in parts] for i in range(3))
    if len({a.dtype for a in src + dst}) > 1:  # one compiled loop per dtype
        src, dst = [a.astype(np.int64) for a in src], [a.astype(np.int64) for a in dst]
    tie = [a.astype(np.int8, copy=False) for a in tie]
    build = fused.csr_edges_by_target if n <= CACHED_NODES else fused.csr_edges
    indptr, indices, tie, first = build(n, tuple(src), tuple(dst), tuple(tie),
                                        weight is not None)
    if weight is not None:
        weight = np.asarray(weight, dtype=np.float32)[first]
    return FollowGraph(n=n, indptr=indptr, indices=indices, tie=tie,
                       role=np.zeros(n, dtype=np.int8) if role is None else role,
                       weight=weight)


def out_edges(graph: FollowGraph, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every out-edge of ``nodes``: (edge index, source node), grouped by node."""
    return fused.out_edges(graph.indptr, np.asarray(nodes, dtype=np.int64))


def _segment_members(segment: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Consumers grouped by segment, in order within each: (members, each segment's start
    in ``members``, its size)."""
    members = group_order(segment)
    size = np.bincount(segment, minlength=segment.max() + 1)
    start = np.concatenate([[0], np.cumsum(size)[:-1]])
    return members, start, size


def _targets(rng: np.random.Generator, owners: np.ndarray, segment: np.ndarray,
             members: tuple[np.ndarray, np.ndarray, np.ndarray], homophily: float
             ) -> np.ndarray:
    """One tie target per owner: inside the owner's segment with prob. ``homophily``
    (``members``: ``_segment_members(segment)``)."""
    n = len(segment)
    targets = rng.integers(0, n, size=len(owners))
    local = rng.random(len(owners)) < homophily
    fused.pick_in_segment(targets, local, owners, segment,
                          rng.random(np.count_nonzero(local)), *members)
    return targets


def generate(segment: np.ndarray, settings: NetworkSettings, *,
             rng: np.random.Generator) -> FollowGraph:
    """Generate the follow graph for consumers in ``segment`` (ints, one per consumer)."""
    n = len(segment)
    segment = np.asarray(segment, dtype=np.int64)
    members = _segment_members(segment)
    role = np.zeros(n, dtype=np.int8)
    perm = rng.permutation(n)
    n_kol = int(round(settings.kol_share * n))
    n_koc = int(round(settings.koc_share * n))
    kols, kocs = perm[:n_kol], perm[n_kol:n_kol + n_koc]
    role[kols], role[kocs] = ROLE_KOL, ROLE_KOC

    a = settings.kol_tail
    pareto = rng.pareto(a, size=n_kol) + 1.0  # mean a / (a - 1)
    kol_audience = np.minimum(pareto * settings.kol_mean_followers * (a - 1) / a, n - 1)
    lo, hi = settings.koc_followers
    koc_audience = rng.integers(lo, hi + 1, size=n_koc)
    friends = rng.poisson(settings.friend_degree, size=n)

    parts = []
    for owners, counts, tie in ((kols, kol_audience, TIE_KOL), (kocs, koc_audience, TIE_KOC),
                                (np.arange(n), friends, TIE_FRIEND)):
        src = np.repeat(owners, np.asarray(counts, dtype=np.int64))
        parts.append((src, _targets(rng, src, segment, members, settings.homophily),
                      np.full(len(src), tie, dtype=np.int8)))
    # friendships: the friend follows back with probability ``reciprocity``
    f_src, f_dst, _ = parts[2]
    back = np.flatnonzero(rng.random(len(f_src)) < settings.reciprocity)
    parts.append((f_dst.take(back), f_src.take(back), np.full(len(back), TIE_FRIEND,
                                                              dtype=np.int8)))
    return _from_parts(n, parts, role)


def stack(graphs: Iterable[FollowGraph], blocks: int | None = None) -> FollowGraph:
    """One graph of disjoint blocks: graph ``i``'s nodes follow graph ``i - 1``'s (no ties
    between blocks), as the worlds of a batch need. ``graphs`` may be a generator: each
    block is copied in as it comes, so a block's own arrays are freed before the next is
    built; ``blocks`` (how many to expect; a list's length by default) sizes the edge
    arrays from the first block."""
    if blocks is None:
        blocks = len(graphs) if isinstance(graphs, Sized) else 2
    graphs = iter(graphs)
    first, second = next(graphs), next(graphs, None)
    if second is None:
        return first
    capacity = int(first.n_edges * max(blocks, 2) * 1.05) + 1
    indices, tie = _Filling(np.int32, capacity), _Filling(np.int8, capacity)
    indptr, role, weight = [np.zeros(1, dtype=np.int64)], [], []
    n, edges = 0, np.int64(0)
    for g in itertools.chain((first, second), graphs):
        np.add(g.indices, np.int32(n), out=indices.next(g.n_edges))  # shifted in int32
        tie.next(g.n_edges)[:] = g.tie
        indptr.append(g.indptr[1:] + edges)
        role.append(g.role)
        weight.append((g.weight, g.n_edges))
        n, edges = n + g.n, edges + g.n_edges
    if all(w is None for w, _ in weight):
        weight = None
    else:
        weight = np.concatenate([np.ones(m, np.float32) if w is None else w
                                 for w, m in weight])
    return FollowGraph(
        n=n, indptr=np.concatenate(indptr).astype(np.int64, copy=False),
        indices=indices.filled, tie=tie.filled, role=np.concatenate(role), weight=weight)


class _Filling:
    """A 1-D array filled block after block: its capacity doubles when a block does not
    fit, and the tail never filled is never written (so never paged in)."""

    def __init__(self, dtype, capacity: int):
        self._data, self._size = np.empty(capacity, dtype=dtype), 0

    def next(self, size: int) -> np.ndarray:
        """The next ``size`` elements, for a block to be written into."""
        end = self._size + size
        if end > len(self._data):
            grown = np.empty(max(end, 2 * len(self._data)), dtype=self._data.dtype)
            grown[:self._size] = self._data[:self._size]
            self._data = grown
        block, self._size = self._data[self._size:end], end
        return block

    @property
    def filled(self) -> np.ndarray:
        """The elements filled so far (a view)."""
        return self._data[:self._size]
