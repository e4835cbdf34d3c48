"""The feed projection: the SQL twin of :class:`feed.model.FeedState`.

It consumes the generation stream's signing, publication and removal events, the cases
domain's enforcement events (by type name) and the feed's own follow and curation events.
Tests replay random event sequences through both and require the same feeds.
"""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import Table, delete, select
from sqlalchemy.orm import Session

from core.events import RecordedEvent
from core.projections import Projection, handles
from feed.model import _ACCOUNT_ACTIONS, _ASSET_ACTION_HOLDS, HoldKind, _instant, removal_hold
from feed.models import (
    FeedAccountHoldRow,
    FeedAssetRow,
    FeedFollowRow,
    FeedHoldRow,
    FeedRemixRow,
)


def _asset(s: Session, asset_id: str) -> FeedAssetRow:
    row = s.get(FeedAssetRow, asset_id)
    if row is None:
        row = FeedAssetRow(
            asset_id=asset_id,
            parent_generation_ids=[],
            labels=[],
            removed=False,
            restricted=False,
            age_restricted=False,
        )
        s.add(row)
    return row


def refresh_flags(s: Session, asset_id: str) -> None:
    asset = s.get(FeedAssetRow, asset_id)
    if asset is None:
        return
    holds = s.scalars(select(FeedHoldRow).where(FeedHoldRow.asset_id == asset_id)).all()
    kinds = {h.kind for h in holds}
    asset.removed = HoldKind.REMOVED.value in kinds
    asset.restricted = HoldKind.RESTRICTED.value in kinds
    asset.age_restricted = HoldKind.AGE_RESTRICTED.value in kinds
    asset.labels = [h.label for h in sorted(holds, key=lambda h: h.hold_key) if h.label]


def _put_hold(s: Session, asset_id: str, key: str, kind: HoldKind, label: str | None) -> None:
    _asset(s, asset_id)
    hold = s.get(FeedHoldRow, (asset_id, key))
    if hold is None:
        s.add(FeedHoldRow(asset_id=asset_id, hold_key=key, kind=kind.value, label=label))
    else:
        hold.kind, hold.label = kind.value, label
    s.flush()
    refresh_flags(s, asset_id)


def _drop_holds(s: Session, key: str, asset_id: str | None = None) -> None:
    stmt = select(FeedHoldRow.asset_id).where(FeedHoldRow.hold_key == key)
    if asset_id is not None:
        stmt = stmt.where(FeedHoldRow.asset_id == asset_id)
    assets = set(s.scalars(stmt))
    if not assets:
        return
    s.execute(
        delete(FeedHoldRow).where(FeedHoldRow.hold_key == key, FeedHoldRow.asset_id.in_(assets))
    )
    for asset in assets:
        refresh_flags(s, asset)


class FeedProjection(Projection):
    name = "feed"
    categories = ("generation", "enforcement", "feed")
    tables: ClassVar[tuple[Table, ...]] = (  # type: ignore[assignment]
        FeedAssetRow.__table__,
        FeedRemixRow.__table__,
        FeedHoldRow.__table__,
        FeedAccountHoldRow.__table__,
        FeedFollowRow.__table__,
    )

    @handles("AssetSigned")
    def _signed(self, s: Session, e: RecordedEvent) -> None:
        p = e.payload
        asset = _asset(s, p["asset_id"])
        if asset.generation_id is None and p.get("generation_id"):
            asset.generation_id = p["generation_id"]
        if asset.owner_id is None and p.get("requester_id"):
            asset.owner_id = p["requester_id"]
        if not asset.parent_generation_ids:
            parents = list(dict.fromkeys(str(g) for g in p.get("remix_parents") or () if g))
            asset.parent_generation_ids = parents
            for parent in parents:
                if s.get(FeedRemixRow, (parent, asset.asset_id)) is None:
                    s.add(FeedRemixRow(parent_generation_id=parent, child_asset_id=asset.asset_id))
        if asset.title is None and p.get("title"):
            asset.title = str(p["title"])[:500]

    @handles("AssetPublished")
    def _published(self, s: Session, e: RecordedEvent) -> None:
        asset = _asset(s, e.payload["asset_id"])
        if asset.published_at is None:
            asset.published_at = e.occurred_at
        if asset.generation_id is None and e.payload.get("generation_id"):
            asset.generation_id = e.payload["generation_id"]

    @handles("AssetRemoved")
    def _removed(self, s: Session, e: RecordedEvent) -> None:
        if e.payload.get("asset_id"):  # a draft removed before signing never enters the feed
            _put_hold(s, e.payload["asset_id"], removal_hold(e.payload), HoldKind.REMOVED, None)

    @handles("AssetRestored")
    def _restored(self, s: Session, e: RecordedEvent) -> None:
        if e.payload.get("asset_id"):
            _drop_holds(s, removal_hold(e.payload), e.payload["asset_id"])

    @handles("EnforcementActionTaken")
    def _action(self, s: Session, e: RecordedEvent) -> None:
        p: dict[str, Any] = e.payload
        kind = p["kind"]
        if kind in _ASSET_ACTION_HOLDS:
            _put_hold(
                s, p["target_id"], p["action_id"], _ASSET_ACTION_HOLDS[kind], p.get("label_text")
            )
        elif kind in _ACCOUNT_ACTIONS and s.get(FeedAccountHoldRow, p["action_id"]) is None:
            s.add(
                FeedAccountHoldRow(
                    action_id=p["action_id"],
                    user_id=p["affected_user_id"],
                    kind=kind,
                    until=_instant(p["ends_at"]) if p.get("ends_at") else None,
                )
            )

    @handles("EnforcementReversed")
    def _reversed(self, s: Session, e: RecordedEvent) -> None:
        action_id = e.payload["action_id"]
        _drop_holds(s, action_id)
        s.execute(delete(FeedAccountHoldRow).where(FeedAccountHoldRow.action_id == action_id))

    @handles("AssetFeatured", "AssetUnfeatured")
    def _curation(self, s: Session, e: RecordedEvent) -> None:
        asset = s.get(FeedAssetRow, e.payload["asset_id"])
        if asset is not None:
            asset.featured_at = e.occurred_at if e.type == "AssetFeatured" else None

    @handles("UserFollowed")
    def _followed(self, s: Session, e: RecordedEvent) -> None:
        key = (e.payload["follower_id"], e.payload["followee_id"])
        if s.get(FeedFollowRow, key) is None:
            s.add(FeedFollowRow(follower_id=key[0], followee_id=key[1]))

    @handles("UserUnfollowed")
    def _unfollowed(self, s: Session, e: RecordedEvent) -> None:
        s.execute(
            delete(FeedFollowRow).where(
                FeedFollowRow.follower_id == e.payload["follower_id"],
                FeedFollowRow.followee_id == e.payload["followee_id"],
            )
        )
