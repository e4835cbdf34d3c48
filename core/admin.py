"""Admin routes of the core: erasing a person's personal data (docs/privacy.md)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from core.auth import Admin
from core.openapi import AUTHENTICATED, ID_PATTERN, problems
from core.privacy import erase_personal_data

router = APIRouter(prefix="/v1/admin", tags=["admin"])


def _services(request: Request) -> Any:
    return request.app.state.services


ServicesDep = Annotated[Any, Depends(_services)]


class ErasureIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject_id: str = Field(pattern=ID_PATTERN, max_length=64, description="the principal id")
    request_ref: str | None = Field(
        default=None,
        max_length=200,
        pattern=r"^[A-Za-z0-9_.:/#@-]{1,200}$",
        description="the request's reference outside Clearframe (a ticket id), never its text",
    )


class ErasurePublic(BaseModel):
    subject_id: str
    event_id: str = Field(description="the PersonalDataErased event")
    position: int
    keys_erased: int = Field(description="key generations whose key material was deleted")
    sealed_events: int = Field(description="events whose personal fields are now unreadable")
    read_model_rows: dict[str, int] = Field(description="rows scrubbed, per table.column")
    settled: bool = Field(description="false: a projection was behind; run the erasure again")
    projections_behind: list[str]
    storage_purged: bool = Field(
        description="the database's own old copies of the key were dropped (WAL, dead rows)"
    )


@router.post(
    "/erasures",
    status_code=201,
    response_model=ErasurePublic,
    responses={**AUTHENTICATED, **problems(400, 404, 413, 422)},
)
def erase(body: ErasureIn, principal: Admin, services: ServicesDep) -> dict[str, Any]:
    """Erase a person's personal data: crypto-shred it in the event log (their key is
    deleted), scrub it from every read model and record ``PersonalDataErased``. Statements of
    reasons and transparency counts are kept. Erasing again is harmless."""
    report = erase_personal_data(
        services, body.subject_id, principal.actor(), request_ref=body.request_ref
    )
    return report.as_dict()
