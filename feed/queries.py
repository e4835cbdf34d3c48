"""Feed queries over the projection's tables; same answers as :class:`feed.model.FeedState`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from core.db import as_utc
from feed.errors import UnknownAsset
from feed.model import FeedEntry, Lineage, LineageNode, check_limit, remix_ancestry
from feed.models import FeedAccountHoldRow, FeedAssetRow, FeedFollowRow, FeedRemixRow


def _held_owners(now: datetime) -> Select[Any]:
    return select(FeedAccountHoldRow.user_id).where(
        or_(FeedAccountHoldRow.until.is_(None), FeedAccountHoldRow.until > now)
    )


def _visible(now: datetime, adult: bool) -> Any:
    cond = and_(
        FeedAssetRow.published_at.is_not(None),
        FeedAssetRow.removed.is_(False),
        # NOT IN over a NULL owner is NULL in SQL, so an ownerless asset needs its own arm.
        or_(FeedAssetRow.owner_id.is_(None), FeedAssetRow.owner_id.not_in(_held_owners(now))),
    )
    if not adult:
        cond = and_(cond, FeedAssetRow.age_restricted.is_(False))
    return cond


def entry(row: FeedAssetRow) -> FeedEntry:
    published = as_utc(row.published_at)
    assert published is not None
    return FeedEntry(
        asset_id=row.asset_id,
        generation_id=row.generation_id,
        owner_id=row.owner_id,
        published_at=published,
        remixes_of=tuple(row.parent_generation_ids),
        title=row.title,
        labels=tuple(row.labels),
        age_restricted=row.age_restricted,
        featured_at=as_utc(row.featured_at),
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
    check_limit(limit)
    stmt = select(FeedAssetRow).where(_visible(now, adult), FeedAssetRow.restricted.is_(False))
    return _page(s, stmt, limit, before)


def featured(s: Session, now: datetime, *, limit: int = 50, adult: bool = False) -> list[FeedEntry]:
    check_limit(limit)
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
    check_limit(limit)
    followees = select(FeedFollowRow.followee_id).where(FeedFollowRow.follower_id == user_id)
    stmt = select(FeedAssetRow).where(_visible(now, adult), FeedAssetRow.owner_id.in_(followees))
    return _page(s, stmt, limit, before)


def _is_visible(s: Session, row: FeedAssetRow | None, now: datetime, adult: bool) -> bool:
    if row is None or row.published_at is None or row.removed:
        return False
    if row.age_restricted and not adult:
        return False
    if row.owner_id is None:
        return True
    held = s.scalar(_held_owners(now).where(FeedAccountHoldRow.user_id == row.owner_id).limit(1))
    return held is None


def _by_generation(s: Session, generation_id: str) -> FeedAssetRow | None:
    # The first asset recorded for a generation, as the pure fold's index keeps it.
    return s.scalars(
        select(FeedAssetRow).where(FeedAssetRow.generation_id == generation_id).limit(1)
    ).first()


def lineage(s: Session, asset_id: str, now: datetime, *, adult: bool = False) -> Lineage:
    row = s.get(FeedAssetRow, asset_id)
    if not _is_visible(s, row, now, adult):
        raise UnknownAsset(f"asset {asset_id!r} is not in the feed", asset_id=asset_id)
    assert row is not None
    cache: dict[str, FeedAssetRow | None] = {}

    def of(generation_id: str) -> FeedAssetRow | None:
        if generation_id not in cache:
            cache[generation_id] = _by_generation(s, generation_id)
        return cache[generation_id]

    def node(generation_id: str) -> LineageNode:
        found = of(generation_id)
        return LineageNode(
            generation_id, found.asset_id if found else None, _is_visible(s, found, now, adult)
        )

    def parents_of(generation_id: str) -> tuple[str, ...]:
        found = of(generation_id)
        return tuple(found.parent_generation_ids) if found else ()

    parents = tuple(row.parent_generation_ids)
    ancestors, depth = remix_ancestry(parents, parents_of)
    remixes: list[str] = []
    if row.generation_id:
        children = s.scalars(
            select(FeedAssetRow)
            .join(FeedRemixRow, FeedRemixRow.child_asset_id == FeedAssetRow.asset_id)
            .where(FeedRemixRow.parent_generation_id == row.generation_id, _visible(now, adult))
            .order_by(FeedAssetRow.published_at.desc(), FeedAssetRow.asset_id.desc())
        )
        remixes = [c.asset_id for c in children]
    return Lineage(
        asset_id=asset_id,
        parents=tuple(node(g) for g in parents),
        depth=depth,
        ancestors=tuple(node(g) for g in ancestors),
        remixes=tuple(remixes),
    )


def are_mutual_follows(s: Session, a: str, b: str) -> bool:
    found = s.scalar(
        select(func.count())
        .select_from(FeedFollowRow)
        .where(
            or_(
                and_(FeedFollowRow.follower_id == a, FeedFollowRow.followee_id == b),
                and_(FeedFollowRow.follower_id == b, FeedFollowRow.followee_id == a),
            )
        )
    )
    return int(found or 0) == 2
