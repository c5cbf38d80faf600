"""The follow graph (KOLs, KOCs, friends) as compressed sparse arrays.

The generator's settings are the scenario's ``[network]`` table (``scenarios.social``);
``simulation.diffusion`` runs influence on the graph inside the campaign calendar.

Edges point from the account posting to the account that sees the post (followee ->
follower), so a cascade walks out-edges. ``indptr``/``indices`` are CSR rows per source.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scenarios.social import Network as NetworkSettings

from . import fused
from .population import grouped

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


def _targets(rng: np.random.Generator, owners: np.ndarray, segment: np.ndarray,
             members: tuple[np.ndarray, np.ndarray, np.ndarray], homophily: float
             ) -> np.ndarray:
    """One tie target per owner: inside the owner's segment with prob. ``homophily``
    (``members``: ``population.grouped(segment)``)."""
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
    members = grouped(segment)
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


def stack(graphs: list[FollowGraph]) -> FollowGraph:
    """One graph of disjoint blocks: graph ``i``'s nodes follow graph ``i - 1``'s (no ties
    between blocks), as the worlds of a batch need."""
    if len(graphs) == 1:
        return graphs[0]
    nodes = np.cumsum([0] + [g.n for g in graphs])
    edges = np.cumsum([0] + [g.n_edges for g in graphs])
    indices = np.empty(edges[-1], dtype=np.int32)
    for g, first_node, first_edge in zip(graphs, nodes, edges, strict=False):
        np.add(g.indices, np.int32(first_node), out=indices[first_edge:first_edge + g.n_edges])
    weight = None
    if any(g.weight is not None for g in graphs):
        weight = np.concatenate([np.ones(g.n_edges, np.float32) if g.weight is None
                                 else g.weight for g in graphs])
    return FollowGraph(
        n=int(nodes[-1]),
        indptr=np.concatenate([[0]] + [g.indptr[1:] + e for g, e in zip(graphs, edges,
                                                                         strict=False)]),
        indices=indices, tie=np.concatenate([g.tie for g in graphs]),
        role=np.concatenate([g.role for g in graphs]), weight=weight)
