"""``/v1/generations`` (requesters, reviewers) and ``/v1/moderation`` (admins' list edits)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from core.app import ServicesDep
from core.auth import Principal, Role, require_roles
from trust_safety.generation import lists
from trust_safety.generation.params import GenerationRequestIn
from trust_safety.generation.service import (
    generation_state,
    list_generations,
    moderation_record,
    request_generation,
)
from trust_safety.moderation.categories import parse_category

router = APIRouter(prefix="/v1/generations", tags=["generation"])
admin_router = APIRouter(prefix="/v1/moderation", tags=["moderation"])

UserDep = Annotated[Principal, Depends(require_roles(Role.user))]
ViewerDep = Annotated[Principal, Depends(require_roles(Role.user, Role.reviewer))]
ReviewerDep = Annotated[Principal, Depends(require_roles(Role.reviewer))]
AdminDep = Annotated[Principal, Depends(require_roles(Role.admin))]


@router.post("", status_code=202)
def create(body: GenerationRequestIn, principal: UserDep, services: ServicesDep) -> dict[str, Any]:
    generation_id = request_generation(services, body, principal.actor())
    return {"generation_id": generation_id, "status": "requested"}


@router.get("")
def mine(
    principal: UserDep,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    return {"items": list_generations(services, principal.id, limit=limit, offset=offset)}


@router.get("/{generation_id}")
def state(generation_id: str, principal: ViewerDep, services: ServicesDep) -> dict[str, Any]:
    sees_all = principal.is_admin or principal.has(Role.reviewer)
    return generation_state(services, generation_id, principal.id, sees_all=sees_all)


@router.get("/{generation_id}/moderation")
def decision(generation_id: str, principal: ReviewerDep, services: ServicesDep) -> dict[str, Any]:
    return moderation_record(services, generation_id)


class TermIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    term: str = Field(min_length=1, max_length=80)
    expected_version: int | None = Field(default=None, ge=1)


class FigureIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=120)
    aliases: list[Annotated[str, Field(min_length=1, max_length=120)]] = Field(
        default_factory=list, max_length=50
    )
    exclusions: list[Annotated[str, Field(min_length=1, max_length=120)]] = Field(
        default_factory=list, max_length=50
    )
    expected_version: int | None = Field(default=None, ge=1)


@admin_router.get("/lists")
def current_lists(principal: AdminDep, services: ServicesDep) -> dict[str, Any]:
    live = lists.load_live_lists(services)
    return {"blocklist": live.blocklist.to_json(), "public_figures": live.figures.to_json()}


@admin_router.post("/blocklist/{category}/terms", status_code=201)
def add_term(
    category: str, body: TermIn, principal: AdminDep, services: ServicesDep
) -> dict[str, Any]:
    updated = lists.add_blocklist_term(
        services, parse_category(category), body.term, principal.actor(), body.expected_version
    )
    return {"version": updated.version}


@admin_router.delete("/blocklist/{category}/terms/{term}")
def remove_term(
    category: str,
    term: str,
    principal: AdminDep,
    services: ServicesDep,
    expected_version: Annotated[int | None, Query(ge=1)] = None,
) -> dict[str, Any]:
    updated = lists.remove_blocklist_term(
        services, parse_category(category), term, principal.actor(), expected_version
    )
    return {"version": updated.version}


@admin_router.put("/public-figures/{figure_id}")
def put_figure(
    figure_id: str, body: FigureIn, principal: AdminDep, services: ServicesDep
) -> dict[str, Any]:
    raw = {
        "id": figure_id,
        "name": body.name,
        "aliases": body.aliases,
        "exclusions": body.exclusions,
    }
    updated = lists.list_public_figure(services, raw, principal.actor(), body.expected_version)
    return {"version": updated.version}


@admin_router.delete("/public-figures/{figure_id}")
def delete_figure(
    figure_id: str,
    principal: AdminDep,
    services: ServicesDep,
    expected_version: Annotated[int | None, Query(ge=1)] = None,
) -> dict[str, Any]:
    updated = lists.delist_public_figure(services, figure_id, principal.actor(), expected_version)
    return {"version": updated.version}
