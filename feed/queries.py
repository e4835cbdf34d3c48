"""Feed queries over the projection's tables; same answers as :class:`feed.model.FeedState`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session

from feed.errors import InvalidFeedQuery, UnknownAsset
from feed.model import MAX_LINEAGE_DEPTH, MAX_PAGE, FeedEntry, Lineage, LineageNode
from feed.models import FeedAccountHoldRow, FeedAssetRow, FeedFollowRow


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidFeedQuery(f"limit must be between 1 and {MAX_PAGE}", limit=limit)


def _held_owners(now: datetime) -> Select[Any]:
    return select(FeedAccountHoldRow.user_id).where(
        or_(FeedAccountHoldRow.until.is_(None), FeedAccountHoldRow.until > now)
    )


def _visible(now: datetime, adult: bool) -> Any:
    cond = and_(FeedAssetRow.removed.is_(False), FeedAssetRow.owner_id.not_in(_held_owners(now)))
    if not adult:
        cond = and_(cond, FeedAssetRow.age_restricted.is_(False))
    return cond


def entry(row: FeedAssetRow) -> FeedEntry:
    published = _utc(row.published_at)
    assert published is not None
    return FeedEntry(
        asset_id=row.asset_id,
        owner_id=row.owner_id,
        published_at=published,
        parent_id=row.parent_id,
        title=row.title,
        labels=tuple(row.labels),
        age_restricted=row.age_restricted,
        featured_at=_utc(row.featured_at),
    )


def _page(
    s: Session, stmt: Select[Any], limit: int, before: tuple[datetime, str] | None
) -> list[FeedEntry]:
    if before is not None:
        at, asset_id = before[0].astimezone(UTC), before[1]
        stmt = stmt.where(
            or_(
                FeedAssetRow.published_at < at,
                and_(FeedAssetRow.published_at == at, FeedAssetRow.asset_id < asset_id),
            )
        )
    stmt = stmt.order_by(FeedAssetRow.published_at.desc(), FeedAssetRow.asset_id.desc()).limit(
        limit
    )
    return [entry(r) for r in s.scalars(stmt)]


def recent(
    s: Session,
    now: datetime,
    *,
    limit: int = 50,
    before: tuple[datetime, str] | None = None,
    adult: bool = False,
) -> list[FeedEntry]:
    _check_limit(limit)
    stmt = select(FeedAssetRow).where(_visible(now, adult), FeedAssetRow.restricted.is_(False))
    return _page(s, stmt, limit, before)


def featured(s: Session, now: datetime, *, limit: int = 50, adult: bool = False) -> list[FeedEntry]:
    _check_limit(limit)
    stmt = (
        select(FeedAssetRow)
        .where(
            _visible(now, adult),
            FeedAssetRow.restricted.is_(False),
            FeedAssetRow.featured_at.is_not(None),
        )
        .order_by(FeedAssetRow.featured_at.desc(), FeedAssetRow.asset_id.desc())
        .limit(limit)
    )
    return [entry(r) for r in s.scalars(stmt)]


def following(
    s: Session,
    user_id: str,
    now: datetime,
    *,
    limit: int = 50,
    before: tuple[datetime, str] | None = None,
    adult: bool = False,
) -> list[FeedEntry]:
    _check_limit(limit)
    followees = select(FeedFollowRow.followee_id).where(FeedFollowRow.follower_id == user_id)
    stmt = select(FeedAssetRow).where(_visible(now, adult), FeedAssetRow.owner_id.in_(followees))
    return _page(s, stmt, limit, before)


def _is_visible(s: Session, row: FeedAssetRow | None, now: datetime, adult: bool) -> bool:
    if row is None or row.removed or (row.age_restricted and not adult):
        return False
    held = s.scalar(_held_owners(now).where(FeedAccountHoldRow.user_id == row.owner_id).limit(1))
    return held is None


def lineage(s: Session, asset_id: str, now: datetime, *, adult: bool = False) -> Lineage:
    row = s.get(FeedAssetRow, asset_id)
    if not _is_visible(s, row, now, adult):
        raise UnknownAsset(f"asset {asset_id!r} is not in the feed", asset_id=asset_id)
    assert row is not None
    ancestors: list[LineageNode] = []
    seen = {asset_id}
    parent_id = row.parent_id
    while parent_id is not None and len(ancestors) < MAX_LINEAGE_DEPTH:
        if parent_id in seen:
            break
        seen.add(parent_id)
        parent = s.get(FeedAssetRow, parent_id)
        ancestors.append(LineageNode(parent_id, _is_visible(s, parent, now, adult)))
        parent_id = parent.parent_id if parent is not None else None
    children = s.scalars(
        select(FeedAssetRow)
        .where(FeedAssetRow.parent_id == asset_id, _visible(now, adult))
        .order_by(FeedAssetRow.published_at.desc(), FeedAssetRow.asset_id.desc())
    )
    return Lineage(
        asset_id=asset_id,
        parent_id=row.parent_id,
        depth=len(ancestors),
        ancestors=tuple(ancestors),
        remixes=tuple(c.asset_id for c in children),
    )
