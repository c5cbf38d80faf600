"""Influence on the follow graph inside the campaign: KOL posts, KOC seeding, word of mouth
and group-buying fission, as independent cascades in calendar time.

Every post (a paid KOL post, a seeded KOC review, a buyer's word of mouth) or group-buy link
exposes ties from the poster to followers. Each exposed tie has one chance, ever, per
mechanism (posts, links) to influence its follower, with its type's probability
(``network.tie_probability``, or ``group_buy.join_probability`` for links) times the tie's
weight; a follower is influenced at most once in a campaign. An influenced follower acts
after an exponential delay (``response_hours``): under ``influence = "proof"`` with
``proof_per_activation`` added to its social proof (decaying with ``proof_half_life_hours``)
and the logit deciding; under ``"convert"`` by buying if in the market. Buyers post and share
in turn, so cascades continue through purchases.

Each influenced consumer keeps its lineage: the tie type that influenced it (its source),
the account it came from (parent), the cascade (one per root post or link) and the depth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from scenarios.schema import GENERATIONS, KocSeeding, KolPost
from scenarios.social import SOCIAL_SOURCES

from . import fused
from . import kernels as k
from .buckets import Buckets
from .network import ROLE_KOC, ROLE_KOL, TIE_FRIEND, FollowGraph
from .outcomes import Purchases
from .streams import Draws
from .worlds import Worlds

POSTS, LINKS = np.uint8(1), np.uint8(2)  # one chance per tie per mechanism
NO_WINDOW = np.iinfo(np.int64).max  # a post's followers act whenever they respond
CASCADE_KINDS = {"kol": "kol_post", "koc": "koc_seeding", "friend": "word_of_mouth",
                 "group_buy": "group_buy"}


@dataclass(frozen=True)
class Trigger:
    """Influenced consumers due to act this hour for one product through one source."""

    ids: np.ndarray  # sorted, unique
    product: int
    source: int
    discount: float  # group-buy joiners' discount, else 0
    certain: bool


class SocialNetwork:
    """Diffusion state of one run (or batch of worlds, on their stacked graphs); the
    model's ``SocialProof`` when a network is set.

    ``first_source`` is the index of ``kol`` among the model's sources; the social sources
    follow in ``SOCIAL_SOURCES`` order. ``record`` is the model's ``Recorder``. Probabilities
    the worlds set differently are looked up by the poster's world.
    """

    def __init__(self, worlds: Worlds, graph: FollowGraph, *, recorder, first_source: int,
                 streams):
        scenario = worlds.scenario
        net = scenario.network
        self.scenario, self.net, self.graph, self.worlds = scenario, net, graph, worlds
        self.generation = worlds.population.generation
        self.recorder, self.streams = recorder, streams
        self.source = {name: first_source + i for i, name in enumerate(SOCIAL_SOURCES)}
        self.tie_source = np.array([self.source[s] for s in ("kol", "koc", "friend")])
        nets = [s.network for s in worlds.scenarios]
        self.p_post = np.array([[n.tie_probability.kol, n.tie_probability.koc,
                                 n.tie_probability.friend] for n in nets])  # (K, tie type)
        self.p_wom = np.array([[n.word_of_mouth.post_probability[g] for g in GENERATIONS]
                               for n in nets])  # (K, generation)
        self.satisfaction = worlds.per_world(worlds.values(  # (K,)
            lambda s: s.network.word_of_mouth.satisfaction_weight))
        if net.group_buy is not None:
            self.p_share = worlds.values(lambda s: s.network.group_buy.share_probability)
            self.p_join = worlds.values(lambda s: s.network.group_buy.join_probability)
        n = graph.n
        self.used = np.zeros(graph.n_edges, dtype=np.uint8)
        self.influenced = np.zeros(n, dtype=bool)
        self.reached = np.zeros((n, len(SOCIAL_SOURCES)), dtype=bool)
        self.depth = np.zeros(n, dtype=np.int16)
        self.parent = np.full(n, -1, dtype=np.int32)
        self.cascade = np.full(n, -1, dtype=np.int32)
        self.share = np.full(n, -1, dtype=np.int32)  # group-buy link a joiner came through
        self.proof_value = np.zeros(n, dtype=np.float32)
        self.proof_hour = np.zeros(n, dtype=np.int32)
        # who acts when: hour buckets of (source, product, consumer) codes (``_act_group``)
        self.pending = Buckets(scenario.calendar.hours)
        self.n_products = len(scenario.products)
        self.cascades: list[tuple[str, int, int, float]] = []  # kind, root, hour, cost
        # per group-buy link (the first n_shares entries): its sharer and joiners so far
        self.link_sharer = np.zeros(0, dtype=np.int64)
        self.share_joined = np.zeros(0, dtype=np.int32)
        self.n_shares = 0
        self.rewards = np.zeros(worlds.k, dtype=np.int64)  # group-buy rewards per world
        self.list_price = np.array([p.list_price for p in scenario.products])
        self.hours = scenario.calendar.hours
        self.tick = scenario.calendar.tick_hours
        self.warnings: list[tuple[int, str]] = []  # (world, message)
        audience = np.diff(graph.indptr)
        self.kols_by_audience, self.kocs = [], []
        for lo, hi in zip(worlds.offsets[:-1], worlds.offsets[1:], strict=True):
            kols = lo + np.flatnonzero(graph.role[lo:hi] == ROLE_KOL)
            self.kols_by_audience.append(kols[np.argsort(-audience[kols], kind="stable")])
            self.kocs.append(lo + np.flatnonzero(graph.role[lo:hi] == ROLE_KOC))
        self.audience = audience

    # -- SocialProof -------------------------------------------------------------------
    def proof(self, ids: np.ndarray, hour: int) -> np.ndarray:
        age = hour - self.proof_hour[ids]
        decay = k.adstock_decay(age, self.net.proof_half_life_hours)
        return (self.proof_value[ids] * decay).astype(np.float32)

    def after_purchases(self, bought: Purchases, hour: int, source: int, product: int) -> None:
        if len(bought.ids) == 0:
            return
        if source == self.source["group_buy"]:
            self._credit_joiners(bought.ids, hour)
        self._word_of_mouth(bought, hour, source, product)
        gb = self.net.group_buy
        if gb is not None and (gb.product is None or
                               self.scenario.products[product].name == gb.product):
            self._share_links(bought.ids, hour, product)

    # -- the model's questions -----------------------------------------------------------
    def due(self, hour: int) -> list[Trigger]:
        """Influenced consumers acting in the tick [hour, hour + tick), grouped by (source,
        product)."""
        codes = np.unique(self.pending.pop(hour, min(hour + self.tick, self.hours)))
        if len(codes) == 0:
            return []
        group, ids = np.divmod(codes, self.graph.n)
        starts = np.flatnonzero(np.diff(group, prepend=-1))
        gb, certain = self.net.group_buy, self.net.influence == "convert"
        out = []
        for g, lo, hi in zip(group[starts].tolist(), starts.tolist(),
                             starts[1:].tolist() + [len(codes)], strict=True):
            source, product = divmod(g, self.n_products)
            source += self.source["kol"]
            discount = gb.discount if source == self.source["group_buy"] else 0.0
            out.append(Trigger(ids[lo:hi], product, source, discount, certain))
        return out

    def _act_group(self, source: np.ndarray, product: int) -> np.ndarray:
        """The (source, product) group of influenced consumers waiting to act; each waits
        as one int64 code, group x n + consumer (``fused.acts_due``), so that sorted codes
        come group by group in ``due``'s order."""
        return (source - self.source["kol"]) * self.n_products + product

    def lineage(self, ids: np.ndarray, source: int) -> tuple[np.ndarray, ...]:
        """(depth, parent, cascade) of buyers via ``source``; (0, -1, -1) for non-social."""
        if source in self.source.values():
            return self.depth[ids], self.parent[ids], self.cascade[ids]
        n = len(ids)
        return np.zeros(n, np.int16), np.full(n, -1, np.int32), np.full(n, -1, np.int32)

    def cascade_table(self) -> pd.DataFrame:
        kinds, roots, hours, costs = zip(*self.cascades, strict=True) if self.cascades else (
            (), (), (), ())
        return pd.DataFrame({
            "cascade": np.arange(len(kinds), dtype=np.int32),
            "kind": pd.Categorical(list(kinds), categories=list(CASCADE_KINDS.values())),
            "root": np.array(roots, dtype=np.int64),
            "hour": np.array(hours, dtype=np.int32),
            "cost": np.array(costs, dtype=np.float64),
        })

    # -- calendar events -----------------------------------------------------------------
    def post(self, event: KolPost | KocSeeding) -> None:
        """A paid post event in every world, each with its own accounts, fees and budget."""
        rng = self.streams(f"event:{event.name}")
        hour = event.start_hour
        product = self._product(event.product)
        index = self.scenario.calendar.events.index(event)
        own = [s.calendar.events[index] for s in self.worlds.scenarios]
        if isinstance(event, KolPost):
            chosen = [self._kol_accounts(e, w) for w, e in enumerate(own)]
            paid = np.concatenate([c[0] for c in chosen])
            fees = np.concatenate([c[1] for c in chosen])
            source, kind = self.source["kol"], "kol_post"
            posters = paid
        else:
            paid = np.concatenate([self._koc_accounts(e, w, rng) for w, e in enumerate(own)])
            fees = self.worlds.at(self.worlds.values(lambda s: s.calendar.events[index]
                                                     .cost_per_account), paid)
            fees = np.broadcast_to(np.asarray(fees, dtype=np.float64), paid.shape)
            p_post = self.worlds.at(self.worlds.values(
                lambda s: s.calendar.events[index].post_probability), paid)
            posting = rng.random(paid) < p_post
            posters, source, kind = paid[posting], self.source["koc"], "koc_seeding"
        self.recorder.add_total("spend", hour, source, self.worlds.sum_by_world(paid, fees),
                                paid)
        cascades = self._open_cascades(kind, paid, hour, fees)
        reach = self.worlds.values(lambda s: s.calendar.events[index].reach)
        self._spread(posters, hour, product, rng=rng, reach=reach, mechanism=POSTS,
                     spread_hours=event.duration_hours,
                     paid_post=dict(zip(paid.tolist(), cascades.tolist(), strict=True)))

    def _kol_accounts(self, event: KolPost, world: int) -> tuple[np.ndarray, np.ndarray]:
        ranked = self.kols_by_audience[world][event.rank - 1:]
        if event.accounts is not None:
            ranked = ranked[:event.accounts]
        fees = event.fee_per_thousand_followers * self.audience[ranked] / 1000.0
        if event.budget is not None:
            keep = np.cumsum(fees) <= event.budget + 1e-9
            ranked, fees = ranked[keep], fees[keep]
        if len(ranked) == 0:
            self.warnings.append((world, f"{event.name}: no KOL account at rank {event.rank} "
                                          "fits the event's limits; nothing was posted"))
        return ranked, fees

    def _koc_accounts(self, event: KocSeeding, world: int, rng) -> np.ndarray:
        kocs = self.kocs[world]
        if len(kocs) < event.accounts:
            self.warnings.append((world, f"{event.name}: {event.accounts} KOCs asked, "
                                          f"the graph has {len(kocs)}"))
        size = min(event.accounts, len(kocs))
        return np.sort(rng.generator(world).choice(kocs, size=size, replace=False))

    def _product(self, name: str | None) -> int:
        names = [p.name for p in self.scenario.products]
        return names.index(name) if name else 0

    def _open_cascades(self, kind: str, roots: np.ndarray, hour: int, costs) -> np.ndarray:
        """New cascade ids, one per root."""
        costs = np.broadcast_to(np.asarray(costs, dtype=np.float64), (len(roots),))
        first = len(self.cascades)
        self.cascades.extend((kind, int(r), hour, float(c))
                             for r, c in zip(roots.tolist(), costs.tolist(), strict=True))
        return np.arange(first, first + len(roots), dtype=np.int32)

    def _register(self, kind: str, roots: np.ndarray, hour: int) -> None:
        """Buyers who post or share start a cascade unless influence put them in one."""
        fresh = roots[self.cascade[roots] < 0]
        if len(fresh):
            self.cascade[fresh] = self._open_cascades(kind, fresh, hour, 0.0)

    # -- purchases spread ----------------------------------------------------------------
    def _word_of_mouth(self, bought: Purchases, hour: int, source: int, product: int) -> None:
        wom, ids = self.net.word_of_mouth, bought.ids
        p = fused.post_chances(ids, bought.price, self.list_price[product], self.worlds.world,
                               self.generation, self.p_wom, self.satisfaction)
        rng = self.streams("network:word_of_mouth")
        posters = bought.ids[rng.random(bought.ids) < p]
        if len(posters) == 0:
            return
        self._register("word_of_mouth", posters, hour)
        self._spread(posters, hour, product, rng=rng, reach=wom.reach, mechanism=POSTS)

    def _share_links(self, ids: np.ndarray, hour: int, product: int) -> None:
        rng = self.streams("network:group_buy")
        sharers = ids[rng.random(ids) < self.worlds.at(self.p_share, ids)]
        if len(sharers) == 0:
            return
        self._register("group_buy", sharers, hour)
        first = self.n_shares
        self.n_shares += len(sharers)
        self.link_sharer = _room_for(self.link_sharer, self.n_shares)
        self.share_joined = _room_for(self.share_joined, self.n_shares)
        self.link_sharer[first:self.n_shares] = sharers
        share_of = dict(zip(sharers.tolist(), range(first, first + len(sharers)), strict=True))
        self._spread(sharers, hour, product, rng=rng, reach=1.0, mechanism=LINKS,
                     share_of=share_of)

    def _credit_joiners(self, ids: np.ndarray, hour: int) -> None:
        """A joiner's purchase counts toward its link; at ``k`` joiners the sharer is paid."""
        shares = self.share[ids]
        shares = shares[shares >= 0]
        before = self.share_joined[shares]
        np.add.at(self.share_joined, shares, 1)
        unlocked = np.unique(shares[(before < self.net.group_buy.k)
                                    & (self.share_joined[shares] >= self.net.group_buy.k)])
        if len(unlocked):
            sharers = self.link_sharer[unlocked]
            self.rewards += self.worlds.sum_by_world(sharers).astype(np.int64)
            reward = self.net.group_buy.sharer_reward * self.worlds.sum_by_world(sharers)
            self.recorder.add_total("spend", hour, self.source["group_buy"], reward, sharers)

    def _spread(self, posters: np.ndarray, hour: int, product: int, *, rng, reach: float,
                mechanism: np.uint8, spread_hours: int = 1, share_of=None,
                paid_post: dict[int, int] | None = None) -> None:
        """Expose the posters' ties (one chance each) and schedule who acts, and when.

        ``share_of`` maps a sharer to its group-buy link; ``paid_post`` maps a paid poster
        to the cascade its post opened (its followers start at depth 1 in that cascade)."""
        g = self.graph
        links = mechanism == LINKS
        reach = None if _all_at_least_one(reach) else reach
        edges, src = expose(g, posters, self.used, mechanism, rng, friends_only=links,
                            reach=None if reach is None else lambda s: self.worlds.at(reach, s))
        targets = g.indices[edges].astype(np.int64)
        source = (np.full(len(edges), self.source["group_buy"]) if links
                  else self.tie_source[g.tie[edges]])
        self._record_exposures(hour, targets, source)

        if links:
            chance = self.worlds.at(self.p_join, src)
        else:
            chance = self.p_post[self.worlds.world[src], g.tie[edges]]
        targets, won = influence(g, edges, src, chance, self.influenced, rng)
        if len(targets) == 0:  # nobody to schedule (the draws below would take no numbers)
            return
        src, source = src[won], source[won]

        if paid_post is None:
            fused.inherit(targets, src, self.parent, self.depth, self.cascade)
        else:
            self.parent[targets] = src
            self.depth[targets] = 1
            self.cascade[targets] = [paid_post[s] for s in src.tolist()]
        if share_of is not None:
            self.share[targets] = [share_of[s] for s in src.tolist()]
        if self.net.influence == "proof":
            self.proof_value[targets] = (self.proof(targets, hour)
                                         + self.net.proof_per_activation)
            self.proof_hour[targets] = hour
        waits = rng.integers(spread_hours, targets)
        responses = rng.exponential(self.net.response_hours, targets)
        window = self.net.group_buy.window_hours if links else NO_WINDOW
        self.pending.push(*fused.acts_due(waits, responses, hour, self.tick, self.hours, window,
                                          self._act_group(source, product), self.graph.n,
                                          targets))

    def _record_exposures(self, hour: int, targets: np.ndarray, source: np.ndarray) -> None:
        for s, ids in _by_source(targets, source):
            col = int(s) - self.source["kol"]
            self.recorder.add("impressions", hour, int(s), ids)
            first = fused.first_reach(ids, self.reached, col)
            self.recorder.add("reach", hour, int(s), first)


def expose(graph: FollowGraph, posters: np.ndarray, used: np.ndarray, mechanism: np.uint8,
           rng: Draws, *, friends_only: bool = False, reach=None
           ) -> tuple[np.ndarray, np.ndarray]:
    """The posters' out-ties that ``mechanism`` has not used yet (friend ties only for
    links), each seen with probability ``reach(source)`` (all without one); marks them used.
    Returns (edge index, source node). ``posters`` sorted: the ties come poster by poster."""
    edges, src = fused.open_ties(graph.indptr, graph.tie, np.asarray(posters, dtype=np.int64),
                                 used, mechanism, TIE_FRIEND if friends_only else -1)
    seen = None if reach is None else _seen(reach(src), src, rng)
    if seen is not None:
        edges, src = edges[seen], src[seen]
    used[edges] |= mechanism
    return edges, src


def _seen(p, src: np.ndarray, rng: Draws) -> np.ndarray | None:
    """Which ties from ``src`` are seen, with probability ``p`` (one number, or one per
    tie): only ties of a reach below 1 draw (worlds may differ in it); None: all seen."""
    if np.ndim(p) == 0:
        return rng.random(src) < p if p < 1 else None
    below = p < 1
    if below.all():
        return rng.random(src) < p
    seen = np.ones(len(src), dtype=bool)
    seen[below] = rng.random(src[below]) < p[below]
    return seen


def influence(graph: FollowGraph, edges: np.ndarray, src: np.ndarray, chance,
              influenced: np.ndarray, rng: Draws) -> tuple[np.ndarray, np.ndarray]:
    """Each exposed tie influences its follower with ``chance`` (times the tie's weight);
    a follower is influenced at most once, and one reached by several ties at once takes a
    random one of them. Marks the followers influenced; returns them (sorted) and, for each,
    the position in ``edges`` of the tie that won."""
    if graph.weight is not None:  # a number times float32 weights stays float64
        chance = np.minimum(np.broadcast_to(chance, edges.shape) * graph.weight[edges], 1.0)
    won, targets = fused.fresh_wins(rng.random(src) < chance, edges, graph.indices,
                                    influenced)
    shuffle = rng.permutation(src[won])  # a follower is in its poster's world
    return fused.first_wins(targets, won, shuffle, influenced)


@dataclass(frozen=True)
class Cascade:
    active: np.ndarray  # bool per node
    depth: np.ndarray  # int32 per node, -1 where never activated, 0 for seeds
    parent: np.ndarray  # int64 per node, -1 for seeds and inactive nodes

    @property
    def size(self) -> int:
        return int(self.active.sum())


def independent_cascade(graph: FollowGraph, seeds, tie_probability, *,
                        rng: np.random.Generator, max_depth: int | None = None) -> Cascade:
    """Independent cascade (Kempe, Kleinberg & Tardos 2003), frontier by frontier, with the
    campaign's own spreading step (``expose`` then ``influence``, as ``SocialNetwork`` runs
    posts): each newly active node gets one chance on each out-tie, with the probability of
    the tie's type (``tie_probability[type]``, or one number for all) times its weight."""
    p = np.broadcast_to(np.asarray(tie_probability, dtype=np.float64), (3,))
    active = np.zeros(graph.n, dtype=bool)
    depth = np.full(graph.n, -1, dtype=np.int32)
    parent = np.full(graph.n, -1, dtype=np.int64)
    used = np.zeros(graph.n_edges, dtype=np.uint8)
    frontier = np.unique(np.asarray(seeds, dtype=np.int64))
    active[frontier], depth[frontier] = True, 0
    level, draws = 0, Draws.of(rng)
    while len(frontier) and (max_depth is None or level < max_depth):
        level += 1
        edges, src = expose(graph, frontier, used, POSTS, draws)
        frontier, won = influence(graph, edges, src, p[graph.tie[edges]], active, draws)
        depth[frontier], parent[frontier] = level, src[won]
    return Cascade(active, depth, parent)


def _by_source(targets: np.ndarray, source: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """(source, its targets) for each source present, in order."""
    if len(source) and source[0] == source[-1] and (source == source[0]).all():
        return [(int(source[0]), targets)]  # one source: a link's, or one tie type's
    return [(s, targets[source == s]) for s in np.flatnonzero(np.bincount(source)).tolist()]


def _all_at_least_one(reach) -> bool:
    """Every world's reach is 1 (a Python number is checked without NumPy)."""
    if isinstance(reach, int | float):
        return reach >= 1
    return bool(np.all(np.asarray(reach) >= 1))


def _room_for(array: np.ndarray, n: int) -> np.ndarray:
    """``array`` with room for ``n`` entries, grown geometrically (new entries zero)."""
    if n <= len(array):
        return array
    grown = np.zeros(max(2 * len(array), n), dtype=array.dtype)
    grown[:len(array)] = array
    return grown
