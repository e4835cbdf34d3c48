"""The feed projection: the SQL twin of :class:`feed.model.FeedState`.

It consumes provenance's signing and publication events (``provenance-`` streams, and the
generation streams they were written on before the split), the asset stream's
visibility (decided by the assets domain), account actions from the enforcement stream and the
feed's own follow and curation events, each through its contract class. Tests replay random
event sequences through both and require the same feeds.
"""

from __future__ import annotations

from typing import ClassVar

from sqlalchemy import Table, delete, select
from sqlalchemy.orm import Session

from contracts.assets import AssetVisibilityChanged
from contracts.enforcement import ACCOUNT_ACTIONS, EnforcementActionTaken, EnforcementReversed
from contracts.feed import UserFollowed, UserUnfollowed
from contracts.generation import AssetPublished, AssetSigned
from core.events import RecordedEvent
from core.projections import Projection, handles
from feed.events import AssetFeatured, AssetUnfeatured
from feed.model import AssetFlags
from feed.models import (
    FeedAccountHoldRow,
    FeedAssetRow,
    FeedFollowRow,
    FeedRemixRow,
    FeedVisibilityRow,
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


def _copy(row: FeedAssetRow, flags: FeedVisibilityRow) -> None:
    row.removed, row.restricted = flags.removed, flags.restricted
    row.age_restricted, row.labels = flags.age_restricted, list(flags.labels)


def _index_generation(s: Session, row: FeedAssetRow, generation_id: str) -> None:
    row.generation_id = generation_id
    flags = s.get(FeedVisibilityRow, generation_id)
    if flags is not None:
        _copy(row, flags)


class FeedProjection(Projection):
    name = "feed"
    categories = ("provenance", "generation", "asset", "enforcement", "feed")
    tables: ClassVar[tuple[Table, ...]] = (  # type: ignore[assignment]
        FeedAssetRow.__table__,
        FeedRemixRow.__table__,
        FeedVisibilityRow.__table__,
        FeedAccountHoldRow.__table__,
        FeedFollowRow.__table__,
    )

    @handles(AssetSigned)
    def _signed(self, s: Session, e: RecordedEvent) -> None:
        signed: AssetSigned = e.payload_as(AssetSigned)
        asset = _asset(s, signed.asset_id)
        if asset.generation_id is None:
            _index_generation(s, asset, signed.generation_id)
        if asset.owner_id is None and signed.requester_id:
            asset.owner_id = signed.requester_id
        if not asset.parent_generation_ids:
            parents = list(dict.fromkeys(g for g in signed.remix_parents if g))
            asset.parent_generation_ids = parents
            for parent in parents:
                if s.get(FeedRemixRow, (parent, asset.asset_id)) is None:
                    s.add(FeedRemixRow(parent_generation_id=parent, child_asset_id=asset.asset_id))

    @handles(AssetPublished)
    def _published(self, s: Session, e: RecordedEvent) -> None:
        published: AssetPublished = e.payload_as(AssetPublished)
        asset = _asset(s, published.asset_id)
        if asset.published_at is None:
            asset.published_at = e.occurred_at
        if asset.generation_id is None:
            _index_generation(s, asset, published.generation_id)

    @handles(AssetVisibilityChanged)
    def _visibility(self, s: Session, e: RecordedEvent) -> None:
        fact: AssetVisibilityChanged = e.payload_as(AssetVisibilityChanged)
        flags = AssetFlags.of(fact)
        row = s.get(FeedVisibilityRow, fact.generation_id)
        if row is None:
            row = FeedVisibilityRow(generation_id=fact.generation_id)
            s.add(row)
        row.removed, row.restricted = flags.removed, flags.restricted
        row.age_restricted, row.labels = flags.age_restricted, list(flags.labels)
        s.flush()
        if fact.asset_id is not None:
            asset = _asset(s, fact.asset_id)
            if asset.generation_id is None:
                asset.generation_id = fact.generation_id
            s.flush()
        for asset in s.scalars(
            select(FeedAssetRow).where(FeedAssetRow.generation_id == fact.generation_id)
        ):
            _copy(asset, row)

    @handles(EnforcementActionTaken)
    def _action(self, s: Session, e: RecordedEvent) -> None:
        action: EnforcementActionTaken = e.payload_as(EnforcementActionTaken)
        if action.kind in ACCOUNT_ACTIONS and s.get(FeedAccountHoldRow, action.action_id) is None:
            s.add(
                FeedAccountHoldRow(
                    action_id=action.action_id,
                    user_id=action.affected_user_id,
                    kind=action.kind.value,
                    until=action.ends_at,
                )
            )

    @handles(EnforcementReversed)
    def _reversed(self, s: Session, e: RecordedEvent) -> None:
        reversal: EnforcementReversed = e.payload_as(EnforcementReversed)
        if reversal.kind in ACCOUNT_ACTIONS:
            s.execute(
                delete(FeedAccountHoldRow).where(FeedAccountHoldRow.action_id == reversal.action_id)
            )

    @handles(AssetFeatured)
    def _featured(self, s: Session, e: RecordedEvent) -> None:
        asset = s.get(FeedAssetRow, e.payload_as(AssetFeatured).asset_id)
        if asset is not None:
            asset.featured_at = e.occurred_at

    @handles(AssetUnfeatured)
    def _unfeatured(self, s: Session, e: RecordedEvent) -> None:
        asset = s.get(FeedAssetRow, e.payload_as(AssetUnfeatured).asset_id)
        if asset is not None:
            asset.featured_at = None

    @handles(UserFollowed)
    def _followed(self, s: Session, e: RecordedEvent) -> None:
        followed: UserFollowed = e.payload_as(UserFollowed)
        key = (followed.follower_id, followed.followee_id)
        if s.get(FeedFollowRow, key) is None:
            s.add(FeedFollowRow(follower_id=key[0], followee_id=key[1]))

    @handles(UserUnfollowed)
    def _unfollowed(self, s: Session, e: RecordedEvent) -> None:
        unfollowed: UserUnfollowed = e.payload_as(UserUnfollowed)
        s.execute(
            delete(FeedFollowRow).where(
                FeedFollowRow.follower_id == unfollowed.follower_id,
                FeedFollowRow.followee_id == unfollowed.followee_id,
            )
        )
