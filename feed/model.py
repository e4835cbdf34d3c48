"""The feed as a pure fold of events: Recent, Featured, Following and remix lineage.

It reads other domains' events through their published contracts: provenance's
``AssetSigned`` (owner, remix parents) and ``AssetPublished``, the asset stream's
``AssetVisibilityChanged`` (what the holds on an asset add up to, decided once by the assets
domain), account actions from ``EnforcementActionTaken`` / ``EnforcementReversed`` (an owner
suspended or banned leaves every feed: that is account status, not asset visibility), and its
own curation and follow events. The SQL projection must agree with this fold on every event
sequence; tests replay both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from contracts.assets import AssetVisibilityChanged, HoldKind
from contracts.enforcement import (
    ACCOUNT_ACTIONS,
    EnforcementActionTaken,
    EnforcementReversed,
)
from contracts.feed import UserFollowed, UserUnfollowed
from contracts.generation import AssetPublished, AssetSigned
from core.db import utc
from core.events import EventPayload, require_utc
from feed.errors import InvalidFeedQuery, UnknownAsset
from feed.events import AssetFeatured, AssetUnfeatured

MAX_PAGE = 200
# Remix chains are short in practice; the bound only protects lineage walks from corrupt data.
MAX_LINEAGE_DEPTH = 1_000


@dataclass(frozen=True, slots=True)
class AssetFlags:
    """What the feed keeps of an asset's visibility: copied, never computed from holds."""

    removed: bool = False
    restricted: bool = False
    age_restricted: bool = False
    labels: tuple[str, ...] = ()

    @classmethod
    def of(cls, fact: AssetVisibilityChanged) -> AssetFlags:
        return cls(
            removed=fact.removed,
            restricted=fact.has(HoldKind.RESTRICTED),
            age_restricted=fact.has(HoldKind.AGE_RESTRICTED),
            labels=tuple(fact.labels),
        )


class _Recorded(Protocol):
    occurred_at: datetime

    def decode(self) -> EventPayload: ...


@dataclass(slots=True)
class FeedAsset:
    """An asset as the feed knows it. It exists as soon as any event names it (its visibility
    can precede the publication: streams are ordered per stream only) and appears in feeds
    only once published."""

    asset_id: str
    generation_id: str | None = None
    owner_id: str | None = None
    published_at: datetime | None = None
    parent_generation_ids: tuple[str, ...] = ()
    title: str | None = None
    flags: AssetFlags = AssetFlags()
    featured_at: datetime | None = None

    def has(self, kind: HoldKind) -> bool:
        return {
            HoldKind.REMOVED: self.flags.removed,
            HoldKind.RESTRICTED: self.flags.restricted,
            HoldKind.AGE_RESTRICTED: self.flags.age_restricted,
            HoldKind.LABELLED: bool(self.flags.labels),
        }[kind]


@dataclass(frozen=True, slots=True)
class FeedEntry:
    asset_id: str
    generation_id: str | None
    owner_id: str | None
    published_at: datetime
    remixes_of: tuple[str, ...]  # parent generation ids
    title: str | None
    labels: tuple[str, ...]
    age_restricted: bool
    featured_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "asset_id": self.asset_id,
            "generation_id": self.generation_id,
            "owner_id": self.owner_id,
            "published_at": self.published_at.isoformat(),
            "remixes_of": list(self.remixes_of),
            "title": self.title,
            "labels": list(self.labels),
            "age_restricted": self.age_restricted,
            "featured_at": self.featured_at.isoformat() if self.featured_at else None,
        }


@dataclass(frozen=True, slots=True)
class LineageNode:
    generation_id: str
    asset_id: str | None  # None when the feed never saw that generation's asset
    available: bool  # False when unpublished, removed or its owner is held: only ids shown

    def to_dict(self) -> dict[str, Any]:
        return {
            "generation_id": self.generation_id,
            "asset_id": self.asset_id,
            "available": self.available,
        }


@dataclass(frozen=True, slots=True)
class Lineage:
    asset_id: str
    parents: tuple[LineageNode, ...]  # what this video remixes, directly
    depth: int  # longest remix chain above it: 0 for an original
    ancestors: tuple[LineageNode, ...]  # every ancestor once, nearest first
    remixes: tuple[str, ...]  # visible direct remixes, newest first

    def to_dict(self) -> dict[str, Any]:
        return {
            "asset_id": self.asset_id,
            "parents": [n.to_dict() for n in self.parents],
            "depth": self.depth,
            "ancestors": [n.to_dict() for n in self.ancestors],
            "remixes": list(self.remixes),
        }


@dataclass(slots=True)
class AccountHold:
    kind: str
    until: datetime | None

    def active(self, now: datetime) -> bool:
        return self.until is None or now < self.until


class FeedState:
    """All feed read models, folded from events in log order."""

    def __init__(self) -> None:
        self.assets: dict[str, FeedAsset] = {}
        self.asset_by_generation: dict[str, str] = {}
        self.children: dict[str, set[str]] = {}  # parent generation id -> child asset ids
        # The latest visibility of each generation: it may arrive before the asset is signed
        # (a cameo removal of a draft), and the asset takes it when it is.
        self.visibility: dict[str, AssetFlags] = {}
        self.account_holds: dict[str, dict[str, AccountHold]] = {}
        self.following: dict[str, set[str]] = {}

    def apply_all(self, events: Iterable[_Recorded]) -> FeedState:
        for event in events:
            self.apply(event.decode(), event.occurred_at)
        return self

    def apply(self, fact: EventPayload, occurred_at: datetime) -> None:
        at = require_utc(occurred_at)
        if isinstance(fact, AssetSigned):
            self._signed(fact)
        elif isinstance(fact, AssetPublished):
            asset = self._asset(fact.asset_id)
            if asset.published_at is None:
                asset.published_at = at
            if asset.generation_id is None:
                self._index_generation(asset, fact.generation_id)
        elif isinstance(fact, AssetVisibilityChanged):
            self._visibility(fact)
        elif isinstance(fact, EnforcementActionTaken):
            if fact.kind in ACCOUNT_ACTIONS:
                # an end without a zone is read as UTC, as the database hands it back
                until = utc(fact.ends_at) if fact.ends_at else None
                holds = self.account_holds.setdefault(fact.affected_user_id, {})
                holds.setdefault(fact.action_id, AccountHold(fact.kind.value, until))
        elif isinstance(fact, EnforcementReversed):
            if fact.kind in ACCOUNT_ACTIONS:
                for holds in self.account_holds.values():
                    holds.pop(fact.action_id, None)
        elif isinstance(fact, AssetFeatured):
            featured = self.assets.get(fact.asset_id)
            if featured is not None:
                featured.featured_at = at
        elif isinstance(fact, AssetUnfeatured):
            featured = self.assets.get(fact.asset_id)
            if featured is not None:
                featured.featured_at = None
        elif isinstance(fact, UserFollowed):
            self.following.setdefault(fact.follower_id, set()).add(fact.followee_id)
        elif isinstance(fact, UserUnfollowed):
            self.following.get(fact.follower_id, set()).discard(fact.followee_id)

    # -- folds -------------------------------------------------------------------------------

    def _asset(self, asset_id: str) -> FeedAsset:
        asset = self.assets.get(asset_id)
        if asset is None:
            asset = self.assets[asset_id] = FeedAsset(asset_id)
        return asset

    def _index_generation(self, asset: FeedAsset, generation_id: str) -> None:
        asset.generation_id = generation_id
        self.asset_by_generation.setdefault(generation_id, asset.asset_id)
        flags = self.visibility.get(generation_id)
        if flags is not None:
            asset.flags = flags

    def _signed(self, fact: AssetSigned) -> None:
        asset = self._asset(fact.asset_id)
        if asset.generation_id is None:
            self._index_generation(asset, fact.generation_id)
        if asset.owner_id is None and fact.requester_id:
            asset.owner_id = fact.requester_id
        if not asset.parent_generation_ids:
            parents = tuple(dict.fromkeys(g for g in fact.remix_parents if g))
            asset.parent_generation_ids = parents
            for parent in parents:
                self.children.setdefault(parent, set()).add(asset.asset_id)

    def _visibility(self, fact: AssetVisibilityChanged) -> None:
        flags = AssetFlags.of(fact)
        self.visibility[fact.generation_id] = flags
        if fact.asset_id is not None:
            asset = self._asset(fact.asset_id)
            if asset.generation_id is None:
                self._index_generation(asset, fact.generation_id)
        for asset in self.assets.values():
            if asset.generation_id == fact.generation_id:
                asset.flags = flags

    # -- queries -----------------------------------------------------------------------------

    def owner_held(self, owner_id: str | None, now: datetime) -> bool:
        if owner_id is None:
            return False
        return any(h.active(now) for h in self.account_holds.get(owner_id, {}).values())

    def is_visible(self, asset: FeedAsset | None, now: datetime, *, adult: bool = False) -> bool:
        if asset is None or asset.published_at is None:
            return False
        if asset.has(HoldKind.REMOVED) or self.owner_held(asset.owner_id, now):
            return False
        return adult or not asset.has(HoldKind.AGE_RESTRICTED)

    def _entry(self, asset: FeedAsset) -> FeedEntry:
        assert asset.published_at is not None
        return FeedEntry(
            asset_id=asset.asset_id,
            generation_id=asset.generation_id,
            owner_id=asset.owner_id,
            published_at=asset.published_at,
            remixes_of=asset.parent_generation_ids,
            title=asset.title,
            labels=asset.flags.labels,
            age_restricted=asset.has(HoldKind.AGE_RESTRICTED),
            featured_at=asset.featured_at,
        )

    def recent(
        self,
        now: datetime,
        *,
        limit: int = 50,
        before: tuple[datetime, str] | None = None,
        adult: bool = False,
    ) -> list[FeedEntry]:
        """Newest first; ``before`` is the (published_at, asset_id) of the last item seen."""
        now = require_utc(now)
        check_limit(limit)
        pool = [
            a
            for a in self.assets.values()
            if self.is_visible(a, now, adult=adult) and not a.has(HoldKind.RESTRICTED)
        ]
        return self._page(pool, limit, before)

    def featured(self, now: datetime, *, limit: int = 50, adult: bool = False) -> list[FeedEntry]:
        now = require_utc(now)
        check_limit(limit)
        pool = [
            a
            for a in self.assets.values()
            if a.featured_at is not None
            and self.is_visible(a, now, adult=adult)
            and not a.has(HoldKind.RESTRICTED)
        ]
        pool.sort(key=lambda a: (a.featured_at, a.asset_id), reverse=True)
        return [self._entry(a) for a in pool[:limit]]

    def following_feed(
        self,
        user_id: str,
        now: datetime,
        *,
        limit: int = 50,
        before: tuple[datetime, str] | None = None,
        adult: bool = False,
    ) -> list[FeedEntry]:
        """Assets of the accounts ``user_id`` follows. Restricted assets stay here: demotion
        removes them from discovery, not from people who chose to follow their author."""
        now = require_utc(now)
        check_limit(limit)
        followees = self.following.get(user_id, set())
        pool = [
            a
            for a in self.assets.values()
            if a.owner_id in followees and self.is_visible(a, now, adult=adult)
        ]
        return self._page(pool, limit, before)

    def _page(
        self, pool: list[FeedAsset], limit: int, before: tuple[datetime, str] | None
    ) -> list[FeedEntry]:
        if before is not None:
            cursor = (require_utc(before[0]), before[1])
            pool = [a for a in pool if (a.published_at, a.asset_id) < cursor]
        pool.sort(key=lambda a: (a.published_at, a.asset_id), reverse=True)
        return [self._entry(a) for a in pool[:limit]]

    def _node(self, generation_id: str, now: datetime, adult: bool) -> LineageNode:
        asset_id = self.asset_by_generation.get(generation_id)
        asset = self.assets.get(asset_id) if asset_id else None
        return LineageNode(generation_id, asset_id, self.is_visible(asset, now, adult=adult))

    def _parents_of(self, generation_id: str) -> tuple[str, ...]:
        asset_id = self.asset_by_generation.get(generation_id)
        return self.assets[asset_id].parent_generation_ids if asset_id else ()

    def lineage(self, asset_id: str, now: datetime, *, adult: bool = False) -> Lineage:
        now = require_utc(now)
        asset = self.assets.get(asset_id)
        if asset is None or not self.is_visible(asset, now, adult=adult):
            raise UnknownAsset(f"asset {asset_id!r} is not in the feed", asset_id=asset_id)
        ancestors, depth = remix_ancestry(asset.parent_generation_ids, self._parents_of)
        remixes = [
            self.assets[c]
            for g in ([asset.generation_id] if asset.generation_id else [])
            for c in self.children.get(g, set())
            if self.is_visible(self.assets[c], now, adult=adult)
        ]
        remixes.sort(key=lambda a: (a.published_at, a.asset_id), reverse=True)
        return Lineage(
            asset_id=asset_id,
            parents=tuple(self._node(g, now, adult) for g in asset.parent_generation_ids),
            depth=depth,
            ancestors=tuple(self._node(g, now, adult) for g in ancestors),
            remixes=tuple(a.asset_id for a in remixes),
        )

    def can_remix(self, asset_id: str, now: datetime) -> bool:
        asset = self.assets.get(asset_id)
        return (
            asset is not None
            and self.is_visible(asset, require_utc(now), adult=True)
            and not asset.has(HoldKind.RESTRICTED)
        )


def remix_ancestry(
    parents: tuple[str, ...], parents_of: Callable[[str], tuple[str, ...]]
) -> tuple[list[str], int]:
    """Every ancestor generation once (nearest first) and the longest chain's length.

    A remix may have several parents, so ancestry is a graph; a generation met again through
    another path is listed once, and a cycle (only corrupt data could make one) ends the walk.
    """
    order: list[str] = []
    level: dict[str, int] = {}
    frontier = list(dict.fromkeys(parents))
    distance = 1
    while frontier and distance <= MAX_LINEAGE_DEPTH:
        nxt: list[str] = []
        for g in frontier:
            if g not in level:
                order.append(g)
            level[g] = distance  # the deepest path to an ancestor sets the chain length
            nxt.extend(p for p in parents_of(g) if level.get(p, 0) <= distance)
        frontier = list(dict.fromkeys(nxt))
        distance += 1
    return order, max(level.values(), default=0)


def check_limit(limit: int) -> None:
    """The page bound: the fold here and the SQL queries (feed.queries) answer alike."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidFeedQuery(f"limit must be between 1 and {MAX_PAGE}", limit=limit)
