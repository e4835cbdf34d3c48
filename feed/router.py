"""HTTP API of the feed. Age-restricted assets stay out of user feeds (no age assurance exists
yet); reviewers and admins see them, marked."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from core.access import Admin, AnyUser
from core.app import ServicesDep, SessionDep
from core.auth import Principal, Role
from core.events import utcnow
from core.openapi import id_path, problems
from feed import commands, queries
from feed.errors import InvalidFeedQuery
from feed.model import MAX_PAGE
from feed.schemas import FeedPagePublic, LineagePublic

router = APIRouter(prefix="/v1/feed", tags=["feed"], responses=problems(401, 503))


Limit = Annotated[int, Query(ge=1, le=MAX_PAGE)]
AssetId = Annotated[str, id_path("an asset id")]
BeforeAssetId = Annotated[str | None, Query(max_length=200)]


class FollowBody(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    followee_id: str = Field(min_length=1, max_length=128)


class FeatureBody(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    asset_id: str = Field(min_length=1, max_length=200)
    note: str | None = Field(default=None, max_length=500)


def _cursor(
    before_published_at: datetime | None = None, before_asset_id: BeforeAssetId = None
) -> tuple[datetime, str] | None:
    if (before_published_at is None) != (before_asset_id is None):
        raise InvalidFeedQuery("before_published_at and before_asset_id go together")
    if before_published_at is None or before_asset_id is None:
        return None
    if before_published_at.tzinfo is None:
        raise InvalidFeedQuery("before_published_at needs a timezone")
    return (before_published_at, before_asset_id)


# The keyset cursor of a time-ordered feed, read from its two query parameters.
Before = Annotated[tuple[datetime, str] | None, Depends(_cursor)]


def _adult(principal: Principal) -> bool:
    return principal.has(Role.reviewer, Role.admin)


def _page(entries: list[Any]) -> dict[str, Any]:
    items = [e.to_dict() for e in entries]
    nxt = (
        {"before_published_at": items[-1]["published_at"], "before_asset_id": items[-1]["asset_id"]}
        if items
        else None
    )
    return {"items": items, "next": nxt}


@router.get("/recent", response_model=FeedPagePublic, responses=problems(422))
def recent(
    principal: AnyUser,
    session: SessionDep,
    cursor: Before,
    limit: Limit = 50,
) -> dict[str, Any]:
    return _page(
        queries.recent(session, utcnow(), limit=limit, before=cursor, adult=_adult(principal))
    )


@router.get("/featured", response_model=FeedPagePublic, responses=problems(422))
def featured(principal: AnyUser, session: SessionDep, limit: Limit = 50) -> dict[str, Any]:
    return _page(queries.featured(session, utcnow(), limit=limit, adult=_adult(principal)))


@router.get("/following", response_model=FeedPagePublic, responses=problems(422))
def following(
    principal: AnyUser,
    session: SessionDep,
    cursor: Before,
    limit: Limit = 50,
) -> dict[str, Any]:
    return _page(
        queries.following(
            session, principal.id, utcnow(), limit=limit, before=cursor, adult=_adult(principal)
        )
    )


@router.get(
    "/assets/{asset_id}/lineage", response_model=LineagePublic, responses=problems(404, 422)
)
def lineage(asset_id: AssetId, principal: AnyUser, session: SessionDep) -> dict[str, Any]:
    return queries.lineage(session, asset_id, utcnow(), adult=_adult(principal)).to_dict()


@router.post("/follows", status_code=204, responses=problems(400, 409, 413, 422))
def follow(body: FollowBody, principal: AnyUser, services: ServicesDep) -> None:
    commands.follow(services, principal.id, body.followee_id, principal.actor())


@router.delete("/follows/{followee_id}", status_code=204, responses=problems(409, 422))
def unfollow(
    followee_id: Annotated[str, id_path("the followed account")],
    principal: AnyUser,
    services: ServicesDep,
) -> None:
    commands.unfollow(services, principal.id, followee_id, principal.actor())


@router.post("/featured", status_code=204, responses=problems(400, 403, 404, 409, 413, 422))
def feature(body: FeatureBody, principal: Admin, services: ServicesDep) -> None:
    commands.set_featured(services, body.asset_id, True, principal.actor(), body.note)


@router.delete("/featured/{asset_id}", status_code=204, responses=problems(403, 404, 409, 422))
def unfeature(asset_id: AssetId, principal: Admin, services: ServicesDep) -> None:
    commands.set_featured(services, asset_id, False, principal.actor())
