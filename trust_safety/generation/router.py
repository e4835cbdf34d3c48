"""``/v1/generations`` (requesters, reviewers) and ``/v1/moderation`` (admins' list edits)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from core.app import ServicesDep
from core.auth import Principal, Role, require_roles
from core.openapi import MAX_POSITION, MAX_VERSION, id_path, problems
from trust_safety.generation import lists
from trust_safety.generation.params import GenerationRequestIn
from trust_safety.generation.schemas import (
    GenerationAcceptedPublic,
    GenerationListPublic,
    GenerationPublic,
    ListVersionPublic,
    ModerationListsPublic,
    ModerationRecordPublic,
)
from trust_safety.generation.service import (
    generation_state,
    list_generations,
    moderation_record,
    request_generation,
)
from trust_safety.moderation.categories import Category

router = APIRouter(prefix="/v1/generations", tags=["generation"], responses=problems(401, 403, 503))
admin_router = APIRouter(
    prefix="/v1/moderation", tags=["moderation"], responses=problems(401, 403, 503)
)
GenerationId = Annotated[str, id_path("a generation id")]
ExpectedVersion = Annotated[int | None, Query(ge=1, le=MAX_VERSION)]
HarmCategory = Annotated[Category, Path(description="the blocklist's harm category")]

UserDep = Annotated[Principal, Depends(require_roles(Role.user))]
ViewerDep = Annotated[Principal, Depends(require_roles(Role.user, Role.reviewer))]
ReviewerDep = Annotated[Principal, Depends(require_roles(Role.reviewer))]
AdminDep = Annotated[Principal, Depends(require_roles(Role.admin))]


@router.post(
    "",
    status_code=202,
    response_model=GenerationAcceptedPublic,
    responses=problems(400, 404, 409, 413, 422),
)
def create(body: GenerationRequestIn, principal: UserDep, services: ServicesDep) -> dict[str, Any]:
    principal.require_age_assured()  # adults only: 403 age_assurance_required otherwise
    generation_id = request_generation(services, body, principal.actor())
    return {"generation_id": generation_id, "status": "requested"}


@router.get("", response_model=GenerationListPublic, responses=problems(422))
def mine(
    principal: UserDep,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=MAX_POSITION)] = 0,
) -> dict[str, Any]:
    return {"items": list_generations(services, principal.id, limit=limit, offset=offset)}


@router.get("/{generation_id}", response_model=GenerationPublic, responses=problems(404, 422))
def state(
    generation_id: GenerationId, principal: ViewerDep, services: ServicesDep
) -> dict[str, Any]:
    sees_all = principal.is_admin or principal.has(Role.reviewer)
    return generation_state(services, generation_id, principal.id, sees_all=sees_all)


@router.get(
    "/{generation_id}/moderation",
    response_model=ModerationRecordPublic,
    responses=problems(404, 422),
)
def decision(
    generation_id: GenerationId, principal: ReviewerDep, services: ServicesDep
) -> dict[str, Any]:
    return moderation_record(services, generation_id)


class TermIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    term: str = Field(min_length=1, max_length=80)
    expected_version: int | None = Field(default=None, ge=1, le=MAX_VERSION)


class FigureIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=120)
    aliases: list[Annotated[str, Field(min_length=1, max_length=120)]] = Field(
        default_factory=list, max_length=50
    )
    exclusions: list[Annotated[str, Field(min_length=1, max_length=120)]] = Field(
        default_factory=list, max_length=50
    )
    expected_version: int | None = Field(default=None, ge=1, le=MAX_VERSION)


# The API's id pattern, as every {..._id}; an unknown or malformed office is a 404.
OfficeId = Annotated[str, id_path("the office's id, e.g. pope, us-president")]
Language = Annotated[str, Path(pattern=r"^[a-z]{2}$", description="ISO 639-1 code")]


class OfficeHolderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    figure_id: str = Field(min_length=3, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]{1,63}$")
    start: date = Field(description="the day the holder takes office (ISO date)")
    expected_version: int | None = Field(default=None, ge=1, le=MAX_VERSION)


class OfficeTitleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    language: str = Field(pattern=r"^[a-z]{2}$", description="ISO 639-1 code")
    title: str = Field(min_length=1, max_length=80)
    expected_version: int | None = Field(default=None, ge=1, le=MAX_VERSION)


@admin_router.get("/lists", response_model=ModerationListsPublic)
def current_lists(principal: AdminDep, services: ServicesDep) -> dict[str, Any]:
    live = lists.load_live_lists(services)
    return {
        "blocklist": live.blocklist.to_json(),
        "public_figures": live.figures.to_json(),
        "public_offices": live.offices.to_json(),
    }


@admin_router.post(
    "/blocklist/{category}/terms",
    status_code=201,
    response_model=ListVersionPublic,
    responses=problems(400, 409, 413, 422),
)
def add_term(
    category: HarmCategory, body: TermIn, principal: AdminDep, services: ServicesDep
) -> dict[str, Any]:
    updated = lists.add_blocklist_term(
        services, category, body.term, principal.actor(), body.expected_version
    )
    return {"version": updated.version}


@admin_router.delete(
    "/blocklist/{category}/terms/{term}",
    response_model=ListVersionPublic,
    responses=problems(409, 422),
)
def remove_term(
    category: HarmCategory,
    term: Annotated[str, Path(min_length=1, max_length=80)],
    principal: AdminDep,
    services: ServicesDep,
    expected_version: ExpectedVersion = None,
) -> dict[str, Any]:
    updated = lists.remove_blocklist_term(
        services, category, term, principal.actor(), expected_version
    )
    return {"version": updated.version}


@admin_router.put(
    "/public-figures/{figure_id}",
    response_model=ListVersionPublic,
    responses=problems(400, 409, 413, 422),
)
def put_figure(
    figure_id: Annotated[str, id_path("the figure's id, e.g. pf-jane-doe")],
    body: FigureIn,
    principal: AdminDep,
    services: ServicesDep,
) -> dict[str, Any]:
    raw = {
        "id": figure_id,
        "name": body.name,
        "aliases": body.aliases,
        "exclusions": body.exclusions,
    }
    updated = lists.list_public_figure(services, raw, principal.actor(), body.expected_version)
    return {"version": updated.version}


@admin_router.delete(
    "/public-figures/{figure_id}",
    response_model=ListVersionPublic,
    responses=problems(409, 422),
)
def delete_figure(
    figure_id: Annotated[str, id_path("the figure's id")],
    principal: AdminDep,
    services: ServicesDep,
    expected_version: ExpectedVersion = None,
) -> dict[str, Any]:
    updated = lists.delist_public_figure(services, figure_id, principal.actor(), expected_version)
    return {"version": updated.version}


@admin_router.put(
    "/public-offices/{office_id}/holder",
    response_model=ListVersionPublic,
    responses=problems(400, 404, 409, 413, 422),
)
def put_office_holder(
    office_id: OfficeId, body: OfficeHolderIn, principal: AdminDep, services: ServicesDep
) -> dict[str, Any]:
    """``OfficeHolderSet``: the figure holds the office from ``start`` on."""
    updated = lists.set_office_holder(
        services, office_id, body.figure_id, body.start, principal.actor(), body.expected_version
    )
    return {"version": updated.version}


@admin_router.post(
    "/public-offices/{office_id}/titles",
    status_code=201,
    response_model=ListVersionPublic,
    responses=problems(400, 404, 409, 413, 422),
)
def add_office_title(
    office_id: OfficeId, body: OfficeTitleIn, principal: AdminDep, services: ServicesDep
) -> dict[str, Any]:
    updated = lists.add_office_title(
        services, office_id, body.language, body.title, principal.actor(), body.expected_version
    )
    return {"version": updated.version}


@admin_router.delete(
    "/public-offices/{office_id}/titles/{language}/{title}",
    response_model=ListVersionPublic,
    responses=problems(404, 409, 422),
)
def remove_office_title(
    office_id: OfficeId,
    language: Language,
    title: Annotated[str, Path(min_length=1, max_length=80)],
    principal: AdminDep,
    services: ServicesDep,
    expected_version: ExpectedVersion = None,
) -> dict[str, Any]:
    updated = lists.remove_office_title(
        services, office_id, language, title, principal.actor(), expected_version
    )
    return {"version": updated.version}
