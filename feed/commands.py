"""Follow and curation commands, decided on their own streams (``core.aggregate``)."""

from __future__ import annotations

from dataclasses import dataclass

from contracts.featured import FEATURED_POLICY
from contracts.feed import FEED, UserFollowed, UserUnfollowed
from core.aggregate import Transaction, execute, transact
from core.auth import PrincipalRow
from core.events import Actor, EventPayload, RecordedEvent, stream_id
from core.services import Services
from feed.errors import (
    AlreadyFeatured,
    AlreadyFollowing,
    FeaturedPolicyFailed,
    InvalidFollow,
    UnknownAsset,
)
from feed.events import AssetFeatured, AssetUnfeatured
from feed.models import FeedAssetRow


def _follows_key(follower_id: str) -> str:
    return f"follows.{follower_id}"


def _curation_key(asset_id: str) -> str:
    return f"curation.{asset_id}"


def follows_stream(follower_id: str) -> str:
    return stream_id(FEED, _follows_key(follower_id))


def curation_stream(asset_id: str) -> str:
    return stream_id(FEED, _curation_key(asset_id))


@dataclass(frozen=True)
class _SetFollow:
    follower_id: str
    followee_id: str
    follow: bool


class _Follows:
    """One person's follow graph: the set of accounts they follow."""

    category = FEED

    def initial(self) -> frozenset[str]:
        return frozenset()

    def evolve(self, state: frozenset[str], event: RecordedEvent) -> frozenset[str]:
        fact = event.decode()
        if isinstance(fact, UserFollowed):
            return state | {fact.followee_id}
        if isinstance(fact, UserUnfollowed):
            return state - {fact.followee_id}
        return state

    def decide(self, state: frozenset[str], command: _SetFollow) -> list[EventPayload]:
        follower, followee = command.follower_id, command.followee_id
        if command.follow:
            if followee in state:
                raise AlreadyFollowing(f"you already follow {followee!r}")
            return [UserFollowed(follower_id=follower, followee_id=followee)]
        if followee not in state:
            raise InvalidFollow(f"you do not follow {followee!r}")
        return [UserUnfollowed(follower_id=follower, followee_id=followee)]


@dataclass(frozen=True)
class _SetFeatured:
    asset_id: str
    featured: bool
    curator_id: str
    note: str | None
    policy_version: str | None = None


class _Curation:
    """An asset's featuring history; only whether it is featured now matters."""

    category = FEED

    def initial(self) -> bool:
        return False

    def evolve(self, state: bool, event: RecordedEvent) -> bool:
        return isinstance(event.decode(), AssetFeatured)

    def decide(self, state: bool, command: _SetFeatured) -> list[EventPayload]:
        asset_id = command.asset_id
        if command.featured:
            if state:
                raise AlreadyFeatured(f"asset {asset_id!r} is already featured")
            return [
                AssetFeatured(
                    asset_id=asset_id,
                    curator_id=command.curator_id,
                    note=command.note,
                    policy_version=command.policy_version,
                )
            ]
        if not state:
            raise UnknownAsset(f"asset {asset_id!r} is not featured", asset_id=asset_id)
        return [AssetUnfeatured(asset_id=asset_id, curator_id=command.curator_id)]


FOLLOWS = _Follows()
CURATION = _Curation()


def follow(services: Services, follower_id: str, followee_id: str, actor: Actor) -> None:
    if follower_id == followee_id:
        raise InvalidFollow("you cannot follow yourself")

    def work(tx: Transaction) -> None:
        if tx.session.get(PrincipalRow, followee_id) is None:
            raise InvalidFollow(f"there is no account {followee_id!r}", followee_id=followee_id)
        tx.execute(FOLLOWS, _follows_key(follower_id), _SetFollow(follower_id, followee_id, True))

    transact(services.store, work, actor=actor)


def unfollow(services: Services, follower_id: str, followee_id: str, actor: Actor) -> None:
    command = _SetFollow(follower_id, followee_id, False)
    execute(services.store, FOLLOWS, _follows_key(follower_id), command, actor=actor)


def _in_feed(row: FeedAssetRow | None, asset_id: str) -> FeedAssetRow:
    if row is None or row.removed or row.published_at is None:
        raise UnknownAsset(f"asset {asset_id!r} is not in the feed", asset_id=asset_id)
    return row


def _featured_policy_version(services: Services, asset_id: str) -> str:
    """The Featured policy's version, once the asset's output-moderation scores passed it."""
    with services.read_sessions() as s:
        row = _in_feed(s.get(FeedAssetRow, asset_id), asset_id)
        generation_id = row.generation_id
    if generation_id is None:
        raise UnknownAsset(f"asset {asset_id!r} is not in the feed", asset_id=asset_id)
    check = services.port(FEATURED_POLICY).check(generation_id)
    if not check.passed:
        names = ", ".join(f.category for f in check.failed)
        raise FeaturedPolicyFailed(
            f"asset {asset_id!r} does not pass the Featured policy {check.policy_version}: {names}",
            asset_id=asset_id,
            policy_version=check.policy_version,
            failed=[
                {
                    "category": f.category,
                    "score": f.score,
                    "threshold": f.threshold,
                    "reason": f.reason,
                }
                for f in check.failed
            ],
        )
    return check.policy_version


def set_featured(
    services: Services, asset_id: str, featured: bool, actor: Actor, note: str | None = None
) -> None:
    policy_version = _featured_policy_version(services, asset_id) if featured else None

    def work(tx: Transaction) -> None:
        if featured:
            _in_feed(tx.session.get(FeedAssetRow, asset_id), asset_id)
        command = _SetFeatured(asset_id, featured, actor.id, note, policy_version)
        tx.execute(CURATION, _curation_key(asset_id), command)

    transact(services.store, work, actor=actor)
