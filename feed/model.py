"""The feed as a pure fold of events: Recent, Featured, Following and remix lineage.

It reads other domains' events by type name and payload only (domains meet through events):
the generation stream's ``AssetSigned`` (owner, remix parents), ``AssetPublished``,
``AssetRemoved`` / ``AssetRestored``, the cases
domain's ``EnforcementActionTaken`` / ``EnforcementReversed``, and its own curation and follow
events. The SQL projection must agree with this fold on every event sequence; tests replay both.

Visibility is a set of *holds*, not a flag: an asset removed by its generation pipeline and by a
moderator stays hidden until both are lifted, so reversing one decision never resurfaces what
another still keeps down.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from feed.errors import InvalidFeedQuery, UnknownAsset

ASSET_SIGNED = "AssetSigned"
ASSET_PUBLISHED = "AssetPublished"
ASSET_REMOVED = "AssetRemoved"
ASSET_RESTORED = "AssetRestored"
ENFORCEMENT_ACTION_TAKEN = "EnforcementActionTaken"
ENFORCEMENT_REVERSED = "EnforcementReversed"
ASSET_FEATURED = "AssetFeatured"
ASSET_UNFEATURED = "AssetUnfeatured"
USER_FOLLOWED = "UserFollowed"
USER_UNFOLLOWED = "UserUnfollowed"


MAX_PAGE = 200
# Remix chains are short in practice; the bound only protects lineage walks from corrupt data.
MAX_LINEAGE_DEPTH = 1_000

# The generation pipeline's own removal (consent revoked, output moderation) is one hold per
# asset; enforcement holds are keyed by action id so each reversal lifts exactly its own.
PIPELINE_HOLD = "pipeline"


def removal_hold(payload: dict[str, Any]) -> str:
    """The key of an AssetRemoved/AssetRestored hold: an enforcement action id or
    ``cameo:<id>``, the same key the enforcement handlers use, so the two never double up."""
    return str(payload.get("hold") or PIPELINE_HOLD)


class HoldKind(StrEnum):
    REMOVED = "removed"  # hidden everywhere
    RESTRICTED = "restricted"  # out of Recent and Featured, no new remixes
    AGE_RESTRICTED = "age_restricted"  # only for adult viewers
    LABELLED = "labelled"  # shown with a label


_ASSET_ACTION_HOLDS: Mapping[str, HoldKind] = {
    "remove_asset": HoldKind.REMOVED,
    "restrict_asset": HoldKind.RESTRICTED,
    "age_restrict_asset": HoldKind.AGE_RESTRICTED,
    "label_asset": HoldKind.LABELLED,
}
_ACCOUNT_ACTIONS = frozenset({"suspend_account", "ban_account"})


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"datetime {moment.isoformat()} has no timezone; use UTC")
    return moment.astimezone(UTC)


def _instant(value: Any) -> datetime:
    return _utc(value if isinstance(value, datetime) else datetime.fromisoformat(str(value)))


@dataclass(slots=True)
class FeedAsset:
    """An asset as the feed knows it. It exists as soon as any event names it (a hold can
    precede the publication: streams are ordered per aggregate only) and appears in feeds
    only once published."""

    asset_id: str
    generation_id: str | None = None
    owner_id: str | None = None
    published_at: datetime | None = None
    parent_generation_ids: tuple[str, ...] = ()
    title: str | None = None
    holds: dict[str, HoldKind] = field(default_factory=dict)  # hold key -> kind
    labels: dict[str, str] = field(default_factory=dict)  # action id -> label text
    featured_at: datetime | None = None

    def has(self, kind: HoldKind) -> bool:
        return kind in self.holds.values()


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
        self.account_holds: dict[str, dict[str, AccountHold]] = {}
        # action id -> (target kind, target id); reversals name only the action
        self.actions: dict[str, tuple[str, str]] = {}
        self.following: dict[str, set[str]] = {}

    def apply_all(self, events: Iterable[Any]) -> FeedState:
        for event in events:
            self.apply(event.type, event.payload, event.occurred_at)
        return self

    def apply(self, event_type: str, payload: Mapping[str, Any], occurred_at: datetime) -> None:
        at = _utc(occurred_at)
        p = payload
        if event_type == ASSET_SIGNED:
            self._signed(p)
        elif event_type == ASSET_PUBLISHED:
            asset = self._asset(str(p["asset_id"]))
            if asset.published_at is None:
                asset.published_at = at
            if asset.generation_id is None and p.get("generation_id"):
                self._index_generation(asset, str(p["generation_id"]))
        elif event_type == ASSET_REMOVED:
            if p.get("asset_id"):  # a draft removed before signing never enters the feed
                self._hold(str(p["asset_id"]), removal_hold(p), HoldKind.REMOVED, None)
        elif event_type == ASSET_RESTORED:
            if p.get("asset_id"):
                self._lift(str(p["asset_id"]), removal_hold(p))
        elif event_type == ENFORCEMENT_ACTION_TAKEN:
            self._action(p)
        elif event_type == ENFORCEMENT_REVERSED:
            self._reversed(str(p["action_id"]))
        elif event_type == ASSET_FEATURED:
            featured = self.assets.get(str(p["asset_id"]))
            if featured is not None:
                featured.featured_at = at
        elif event_type == ASSET_UNFEATURED:
            featured = self.assets.get(str(p["asset_id"]))
            if featured is not None:
                featured.featured_at = None
        elif event_type == USER_FOLLOWED:
            self.following.setdefault(str(p["follower_id"]), set()).add(str(p["followee_id"]))
        elif event_type == USER_UNFOLLOWED:
            self.following.get(str(p["follower_id"]), set()).discard(str(p["followee_id"]))

    # -- folds -------------------------------------------------------------------------------

    def _asset(self, asset_id: str) -> FeedAsset:
        asset = self.assets.get(asset_id)
        if asset is None:
            asset = self.assets[asset_id] = FeedAsset(asset_id)
        return asset

    def _index_generation(self, asset: FeedAsset, generation_id: str) -> None:
        asset.generation_id = generation_id
        self.asset_by_generation.setdefault(generation_id, asset.asset_id)

    def _signed(self, p: Mapping[str, Any]) -> None:
        asset = self._asset(str(p["asset_id"]))
        if asset.generation_id is None and p.get("generation_id"):
            self._index_generation(asset, str(p["generation_id"]))
        if asset.owner_id is None and p.get("requester_id"):
            asset.owner_id = str(p["requester_id"])
        if not asset.parent_generation_ids:
            parents = tuple(dict.fromkeys(str(g) for g in p.get("remix_parents") or () if g))
            asset.parent_generation_ids = parents
            for parent in parents:
                self.children.setdefault(parent, set()).add(asset.asset_id)
        if asset.title is None and p.get("title"):
            asset.title = str(p["title"])

    def _hold(self, asset_id: str, key: str, kind: HoldKind, label: str | None) -> None:
        asset = self._asset(asset_id)
        asset.holds[key] = kind
        if label:
            asset.labels[key] = label

    def _lift(self, asset_id: str, key: str) -> None:
        asset = self.assets.get(asset_id)
        if asset is not None:
            asset.holds.pop(key, None)
            asset.labels.pop(key, None)

    def _action(self, p: Mapping[str, Any]) -> None:
        action_id = str(p["action_id"])
        kind = str(p["kind"])
        if kind in _ASSET_ACTION_HOLDS:
            target = str(p["target_id"])
            self.actions[action_id] = ("asset", target)
            self._hold(target, action_id, _ASSET_ACTION_HOLDS[kind], p.get("label_text"))
        elif kind in _ACCOUNT_ACTIONS:
            user = str(p["affected_user_id"])
            self.actions[action_id] = ("account", user)
            until = _instant(p["ends_at"]) if p.get("ends_at") else None
            self.account_holds.setdefault(user, {})[action_id] = AccountHold(kind, until)

    def _reversed(self, action_id: str) -> None:
        target = self.actions.get(action_id)
        if target is None:
            return
        kind, target_id = target
        if kind == "asset":
            self._lift(target_id, action_id)
        else:
            self.account_holds.get(target_id, {}).pop(action_id, None)

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
            labels=tuple(asset.labels[k] for k in sorted(asset.labels)),
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
        now = _utc(now)
        _check_limit(limit)
        pool = [
            a
            for a in self.assets.values()
            if self.is_visible(a, now, adult=adult) and not a.has(HoldKind.RESTRICTED)
        ]
        return self._page(pool, limit, before)

    def featured(self, now: datetime, *, limit: int = 50, adult: bool = False) -> list[FeedEntry]:
        now = _utc(now)
        _check_limit(limit)
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
        now = _utc(now)
        _check_limit(limit)
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
            cursor = (_utc(before[0]), before[1])
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
        now = _utc(now)
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
            and self.is_visible(asset, _utc(now), adult=True)
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


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidFeedQuery(f"limit must be between 1 and {MAX_PAGE}", limit=limit)
