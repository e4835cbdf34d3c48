"""Follow and curation commands, validated against their own streams."""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.auth import PrincipalRow
from core.db import transaction
from core.events import Actor, stream_id
from core.services import Services
from feed.errors import AlreadyFeatured, AlreadyFollowing, InvalidFollow, UnknownAsset
from feed.events import FEED, AssetFeatured, AssetUnfeatured, UserFollowed, UserUnfollowed
from feed.models import FeedAssetRow


def follows_stream(follower_id: str) -> str:
    return stream_id(FEED, f"follows.{follower_id}")


def curation_stream(asset_id: str) -> str:
    return stream_id(FEED, f"curation.{asset_id}")


def _following(services: Services, session: Session, follower_id: str) -> tuple[set[str], int]:
    events = services.store.read_stream(follows_stream(follower_id), session=session)
    follows: set[str] = set()
    for e in events:
        if e.type == "UserFollowed":
            follows.add(e.payload["followee_id"])
        elif e.type == "UserUnfollowed":
            follows.discard(e.payload["followee_id"])
    return follows, (events[-1].stream_version if events else 0)


def follow(services: Services, follower_id: str, followee_id: str, actor: Actor) -> None:
    if follower_id == followee_id:
        raise InvalidFollow("you cannot follow yourself")
    with transaction(services.sessions) as s:
        if s.get(PrincipalRow, followee_id) is None:
            raise InvalidFollow(f"there is no account {followee_id!r}", followee_id=followee_id)
        current, version = _following(services, s, follower_id)
        if followee_id in current:
            raise AlreadyFollowing(f"you already follow {followee_id!r}")
        services.store.append(
            follows_stream(follower_id),
            [UserFollowed(follower_id=follower_id, followee_id=followee_id)],
            expected_version=version,
            actor=actor,
            session=s,
        )


def unfollow(services: Services, follower_id: str, followee_id: str, actor: Actor) -> None:
    with transaction(services.sessions) as s:
        current, version = _following(services, s, follower_id)
        if followee_id not in current:
            raise InvalidFollow(f"you do not follow {followee_id!r}")
        services.store.append(
            follows_stream(follower_id),
            [UserUnfollowed(follower_id=follower_id, followee_id=followee_id)],
            expected_version=version,
            actor=actor,
            session=s,
        )


def set_featured(
    services: Services, asset_id: str, featured: bool, actor: Actor, note: str | None = None
) -> None:
    with transaction(services.sessions) as s:
        events = services.store.read_stream(curation_stream(asset_id), session=s)
        is_featured = bool(events) and events[-1].type == "AssetFeatured"
        if featured:
            row = s.get(FeedAssetRow, asset_id)
            if row is None or row.removed:
                raise UnknownAsset(f"asset {asset_id!r} is not in the feed", asset_id=asset_id)
            if is_featured:
                raise AlreadyFeatured(f"asset {asset_id!r} is already featured")
            payload: AssetFeatured | AssetUnfeatured = AssetFeatured(
                asset_id=asset_id, curator_id=actor.id, note=note
            )
        else:
            if not is_featured:
                raise UnknownAsset(f"asset {asset_id!r} is not featured", asset_id=asset_id)
            payload = AssetUnfeatured(asset_id=asset_id, curator_id=actor.id)
        services.store.append(
            curation_stream(asset_id),
            [payload],
            expected_version=events[-1].stream_version if events else 0,
            actor=actor,
            session=s,
        )
