"""The feed as a pure fold of events: Recent, Featured, Following and remix lineage.

It reads other domains' events by type name and payload only (domains meet through events):
the generation stream's ``AssetPublished`` / ``AssetRemoved`` / ``AssetRestored``, the cases
domain's ``EnforcementActionTaken`` / ``EnforcementReversed``, and its own curation and follow
events. The SQL projection must agree with this fold on every event sequence; tests replay both.

Visibility is a set of *holds*, not a flag: an asset removed by its generation pipeline and by a
moderator stays hidden until both are lifted, so reversing one decision never resurfaces what
another still keeps down.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from feed.errors import InvalidFeedQuery, UnknownAsset

ASSET_PUBLISHED = "AssetPublished"
ASSET_REMOVED = "AssetRemoved"
ASSET_RESTORED = "AssetRestored"
ENFORCEMENT_ACTION_TAKEN = "EnforcementActionTaken"
ENFORCEMENT_REVERSED = "EnforcementReversed"
ASSET_FEATURED = "AssetFeatured"
ASSET_UNFEATURED = "AssetUnfeatured"
USER_FOLLOWED = "UserFollowed"
USER_UNFOLLOWED = "UserUnfollowed"

CONSUMED_EVENT_TYPES = frozenset(
    {
        ASSET_PUBLISHED,
        ASSET_REMOVED,
        ASSET_RESTORED,
        ENFORCEMENT_ACTION_TAKEN,
        ENFORCEMENT_REVERSED,
        ASSET_FEATURED,
        ASSET_UNFEATURED,
        USER_FOLLOWED,
        USER_UNFOLLOWED,
    }
)

MAX_PAGE = 200
# Remix chains are short in practice; the bound only protects lineage walks from corrupt data.
MAX_LINEAGE_DEPTH = 10_000

# The generation pipeline's own removal (consent revoked, output moderation) is one hold per
# asset; enforcement holds are keyed by action id so each reversal lifts exactly its own.
PIPELINE_HOLD = "pipeline"


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
    asset_id: str
    owner_id: str
    published_at: datetime
    parent_id: str | None
    title: str | None = None
    holds: dict[str, HoldKind] = field(default_factory=dict)  # hold key -> kind
    labels: dict[str, str] = field(default_factory=dict)  # action id -> label text
    featured_at: datetime | None = None

    def has(self, kind: HoldKind) -> bool:
        return kind in self.holds.values()


@dataclass(frozen=True, slots=True)
class FeedEntry:
    asset_id: str
    owner_id: str
    published_at: datetime
    parent_id: str | None
    title: str | None
    labels: tuple[str, ...]
    age_restricted: bool
    featured_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "asset_id": self.asset_id,
            "owner_id": self.owner_id,
            "published_at": self.published_at.isoformat(),
            "parent_id": self.parent_id,
            "title": self.title,
            "labels": list(self.labels),
            "age_restricted": self.age_restricted,
            "featured_at": self.featured_at.isoformat() if self.featured_at else None,
        }


@dataclass(frozen=True, slots=True)
class LineageNode:
    asset_id: str
    available: bool  # False when removed or its owner is held: the id is shown, nothing else


@dataclass(frozen=True, slots=True)
class Lineage:
    asset_id: str
    parent_id: str | None
    depth: int  # how many remixes deep: 0 for an original
    ancestors: tuple[LineageNode, ...]  # parent first, root last
    remixes: tuple[str, ...]  # visible direct remixes, newest first

    def to_dict(self) -> dict[str, Any]:
        return {
            "asset_id": self.asset_id,
            "parent_id": self.parent_id,
            "depth": self.depth,
            "ancestors": [
                {"asset_id": n.asset_id, "available": n.available} for n in self.ancestors
            ],
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
        self.account_holds: dict[str, dict[str, AccountHold]] = {}
        # action id -> (target kind, target id); reversals name only the action
        self.actions: dict[str, tuple[str, str]] = {}
        self.following: dict[str, set[str]] = {}
        self.children: dict[str, set[str]] = {}
        # Holds on assets whose AssetPublished has not arrived yet (streams are ordered per
        # aggregate, not across aggregates).
        self._early_holds: dict[str, dict[str, tuple[HoldKind, str | None]]] = {}

    def apply_all(self, events: Iterable[Any]) -> FeedState:
        for event in events:
            self.apply(event.type, event.payload, event.occurred_at)
        return self

    def apply(self, event_type: str, payload: Mapping[str, Any], occurred_at: datetime) -> None:
        at = _utc(occurred_at)
        p = payload
        if event_type == ASSET_PUBLISHED:
            self._published(p, at)
        elif event_type == ASSET_REMOVED:
            self._hold(str(p["asset_id"]), PIPELINE_HOLD, HoldKind.REMOVED, None)
        elif event_type == ASSET_RESTORED:
            self._lift(str(p["asset_id"]), PIPELINE_HOLD)
        elif event_type == ENFORCEMENT_ACTION_TAKEN:
            self._action(p)
        elif event_type == ENFORCEMENT_REVERSED:
            self._reversed(str(p["action_id"]))
        elif event_type == ASSET_FEATURED:
            asset = self.assets.get(str(p["asset_id"]))
            if asset is not None:
                asset.featured_at = at
        elif event_type == ASSET_UNFEATURED:
            asset = self.assets.get(str(p["asset_id"]))
            if asset is not None:
                asset.featured_at = None
        elif event_type == USER_FOLLOWED:
            self.following.setdefault(str(p["follower_id"]), set()).add(str(p["followee_id"]))
        elif event_type == USER_UNFOLLOWED:
            self.following.get(str(p["follower_id"]), set()).discard(str(p["followee_id"]))

    # -- folds -------------------------------------------------------------------------------

    def _published(self, p: Mapping[str, Any], at: datetime) -> None:
        asset_id = str(p["asset_id"])
        if asset_id in self.assets:
            return  # redelivery
        parent = p.get("remix_of")
        asset = FeedAsset(
            asset_id=asset_id,
            owner_id=str(p["owner_id"]),
            published_at=_instant(p["published_at"]) if p.get("published_at") else at,
            parent_id=str(parent) if parent else None,
            title=p.get("title"),
        )
        self.assets[asset_id] = asset
        if asset.parent_id:
            self.children.setdefault(asset.parent_id, set()).add(asset_id)
        for key, (kind, label) in self._early_holds.pop(asset_id, {}).items():
            asset.holds[key] = kind
            if label:
                asset.labels[key] = label

    def _hold(self, asset_id: str, key: str, kind: HoldKind, label: str | None) -> None:
        asset = self.assets.get(asset_id)
        if asset is None:
            self._early_holds.setdefault(asset_id, {})[key] = (kind, label)
            return
        asset.holds[key] = kind
        if label:
            asset.labels[key] = label

    def _lift(self, asset_id: str, key: str) -> None:
        self._early_holds.get(asset_id, {}).pop(key, None)
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

    def owner_held(self, owner_id: str, now: datetime) -> bool:
        return any(h.active(now) for h in self.account_holds.get(owner_id, {}).values())

    def is_visible(self, asset: FeedAsset, now: datetime, *, adult: bool = False) -> bool:
        if asset.has(HoldKind.REMOVED) or self.owner_held(asset.owner_id, now):
            return False
        return adult or not asset.has(HoldKind.AGE_RESTRICTED)

    def _entry(self, asset: FeedAsset) -> FeedEntry:
        return FeedEntry(
            asset_id=asset.asset_id,
            owner_id=asset.owner_id,
            published_at=asset.published_at,
            parent_id=asset.parent_id,
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

    def lineage(self, asset_id: str, now: datetime, *, adult: bool = False) -> Lineage:
        now = _utc(now)
        asset = self.assets.get(asset_id)
        if asset is None or not self.is_visible(asset, now, adult=adult):
            raise UnknownAsset(f"asset {asset_id!r} is not in the feed", asset_id=asset_id)
        ancestors: list[LineageNode] = []
        seen = {asset_id}
        parent_id = asset.parent_id
        while parent_id is not None and len(ancestors) < MAX_LINEAGE_DEPTH:
            if parent_id in seen:
                break  # corrupt data would loop; a real remix graph is acyclic
            seen.add(parent_id)
            parent = self.assets.get(parent_id)
            ancestors.append(
                LineageNode(
                    parent_id, parent is not None and self.is_visible(parent, now, adult=adult)
                )
            )
            parent_id = parent.parent_id if parent is not None else None
        remixes = [
            self.assets[c]
            for c in self.children.get(asset_id, set())
            if self.is_visible(self.assets[c], now, adult=adult)
        ]
        remixes.sort(key=lambda a: (a.published_at, a.asset_id), reverse=True)
        return Lineage(
            asset_id=asset_id,
            parent_id=asset.parent_id,
            depth=len(ancestors),
            ancestors=tuple(ancestors),
            remixes=tuple(a.asset_id for a in remixes),
        )

    def can_remix(self, asset_id: str, now: datetime) -> bool:
        asset = self.assets.get(asset_id)
        return (
            asset is not None
            and self.is_visible(asset, _utc(now), adult=True)
            and not asset.has(HoldKind.RESTRICTED)
        )


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidFeedQuery(f"limit must be between 1 and {MAX_PAGE}", limit=limit)
