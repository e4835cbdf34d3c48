"""Follow and curation commands, decided on their own streams (``core.aggregate``)."""

from __future__ import annotations

from dataclasses import dataclass

from contracts.feed import FEED, UserFollowed, UserUnfollowed
from core.aggregate import Transaction, execute, transact
from core.auth import PrincipalRow
from core.events import Actor, EventPayload, RecordedEvent, stream_id
from core.services import Services
from feed.errors import AlreadyFeatured, AlreadyFollowing, InvalidFollow, UnknownAsset
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
                AssetFeatured(asset_id=asset_id, curator_id=command.curator_id, note=command.note)
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


def set_featured(
    services: Services, asset_id: str, featured: bool, actor: Actor, note: str | None = None
) -> None:
    def work(tx: Transaction) -> None:
        if featured:
            row = tx.session.get(FeedAssetRow, asset_id)
            if row is None or row.removed:
                raise UnknownAsset(f"asset {asset_id!r} is not in the feed", asset_id=asset_id)
        tx.execute(
            CURATION, _curation_key(asset_id), _SetFeatured(asset_id, featured, actor.id, note)
        )

    transact(services.store, work, actor=actor)
