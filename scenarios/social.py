"""The social side of a scenario: the follow graph, how influence spreads, and social events.

Influence follows independent-cascade semantics (Kempe, Kleinberg & Tardos 2003): when an
account posts, each follower who sees the post is an exposed tie with one chance, ever, to
influence the follower, with the probability of the tie's type (``tie_probability``). What a
successful influence does is ``influence``: ``"proof"`` adds ``proof_per_activation`` to the
follower's social proof and brings the follower to the product page, where the usual logit
decides; ``"convert"`` makes the follower buy (if in the market for the product). Sources of
every default: assumption unless stated.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from .common import GENERATIONS, Frozen, TimedEvent, problem

SOCIAL_SOURCES = ("kol", "koc", "friend", "group_buy")


class TieProbability(Frozen):
    """Chance that one exposed tie influences the follower, by tie type.

    KOL posts reach many followers who trust them less than a KOC's small audience or a
    friend (domain brief: "wide reach, lower trust per follower").
    """

    kol: float = Field(0.01, ge=0, le=1)
    koc: float = Field(0.04, ge=0, le=1)
    friend: float = Field(0.03, ge=0, le=1)


class WordOfMouth(Frozen):
    """Buyers post about a purchase; followers see the post.

    P(post) = min(1, post_probability[generation] x (1 + satisfaction_weight x deal)) with
    ``deal`` = 1 - price paid / list price: a better deal makes a more satisfied buyer.
    """

    post_probability: dict[str, float] = Field(
        default_factory=lambda: {"gen_z": 0.12, "millennial": 0.08, "gen_x": 0.05,
                                 "silver": 0.04}
    )
    satisfaction_weight: float = Field(2.0, ge=0, le=100)
    reach: float = Field(0.3, ge=0, le=1, description="Share of followers who see a post.")

    @field_validator("post_probability")
    @classmethod
    def _by_generation(cls, v: dict[str, float]) -> dict[str, float]:
        bad = sorted(set(v) - set(GENERATIONS))
        if bad:
            raise ValueError(f"unknown generations {bad}; allowed: {list(GENERATIONS)}")
        if any(not 0 <= x <= 1 for x in v.values()):
            raise ValueError(f"probabilities must be in [0, 1], got {v}")
        return {g: float(v.get(g, 0.0)) for g in GENERATIONS}


class GroupBuy(Frozen):
    """Group-buying fission: a buyer shares a link with friends; friends who join within the
    window get ``discount``; the sharer earns ``sharer_reward`` once ``k`` friends joined.
    Joiners may share again, so cascades continue."""

    product: str | None = Field(None, description="Default: every product.")
    share_probability: float = Field(0.2, ge=0, le=1)
    join_probability: float = Field(0.06, ge=0, le=1, description="Per friend reached.")
    discount: float = Field(0.1, ge=0, lt=1)
    k: int = Field(3, ge=1, le=1000)
    sharer_reward: float = Field(10.0, ge=0, allow_inf_nan=False)
    window_hours: int = Field(24, ge=1, le=24 * 366)


class Network(Frozen):
    """The follow graph (generated, or loaded from ``edges``) and how influence spreads.

    kol_share, koc_share: shares of consumers who are KOLs / KOCs.
    kol_mean_followers, kol_tail: KOL audiences are Pareto with this tail index (heavier
        for smaller values; > 1 so the mean exists), scaled to the mean.
    koc_followers: (min, max) audience of a KOC, uniform.
    friend_degree: mean number of friends a consumer adds; reciprocity: chance the friend
        follows back. homophily: share of ties drawn inside the consumer's own segment
        (generation x city tier) rather than at random.
    """

    kol_share: float = Field(0.0005, ge=0, le=0.05)
    kol_mean_followers: float = Field(2000.0, ge=1, le=1e8)
    kol_tail: float = Field(1.8, gt=1, le=10)
    koc_share: float = Field(0.02, ge=0, le=0.5)
    koc_followers: tuple[int, int] = (20, 300)
    friend_degree: float = Field(8.0, ge=0, le=500)
    reciprocity: float = Field(0.6, ge=0, le=1)
    homophily: float = Field(0.5, ge=0, le=1)
    edges: str | None = Field(
        None, description="Edge list (CSV or Parquet: follower, followee[, weight][, tie]) "
        "to use instead of the generated graph; relative to the scenario file."
    )

    influence: Literal["proof", "convert"] = "proof"
    proof_per_activation: float = Field(1.0, ge=0, le=100)
    proof_half_life_hours: float = Field(72.0, gt=0, le=24 * 366)
    response_hours: float = Field(
        6.0, ge=0, le=24 * 30, description="Mean delay from influence to acting (exponential)."
    )
    tie_probability: TieProbability = TieProbability()
    word_of_mouth: WordOfMouth = WordOfMouth()
    group_buy: GroupBuy | None = None

    @field_validator("koc_followers")
    @classmethod
    def _audience(cls, v: tuple[int, int]) -> tuple[int, int]:
        lo, hi = v
        if not 1 <= lo <= hi <= 10_000_000:
            raise ValueError(f"needs 1 <= min <= max <= 10,000,000, got {list(v)}")
        return v


class KolPost(TimedEvent):
    """Paid posts by KOLs, the largest audiences first from ``rank`` (1 = the largest).

    Each account posting costs ``fee_per_thousand_followers`` per thousand followers; posts
    go to ``accounts`` KOLs, or as many as ``budget`` pays for (or both limits). Followers who
    see the post (``reach``) see it at a uniform hour within ``duration_hours``.
    """

    kind: Literal["kol_post"]
    duration_hours: int = Field(24, ge=1)
    product: str | None = Field(None, description="Default: the first product.")
    rank: int = Field(1, ge=1)
    accounts: int | None = Field(None, ge=1)
    budget: float | None = Field(None, gt=0, allow_inf_nan=False)
    fee_per_thousand_followers: float = Field(30.0, ge=0, allow_inf_nan=False)
    reach: float = Field(0.25, gt=0, le=1)

    @model_validator(mode="after")
    def _limit(self) -> KolPost:
        if self.accounts is None and self.budget is None:
            raise problem("accounts", "give accounts, budget or both")
        return self


class KocSeeding(TimedEvent):
    """Samples sent to ``accounts`` KOCs drawn at random; each posts a review with
    ``post_probability``, seen by ``reach`` of its followers within ``duration_hours``."""

    kind: Literal["koc_seeding"]
    duration_hours: int = Field(48, ge=1)
    product: str | None = Field(None, description="Default: the first product.")
    accounts: int = Field(ge=1)
    cost_per_account: float = Field(ge=0, allow_inf_nan=False)
    post_probability: float = Field(0.7, ge=0, le=1)
    reach: float = Field(0.6, gt=0, le=1)
