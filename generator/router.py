"""Job status and downloads of generated videos."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import FileResponse

from contracts.ports import BLOB_STORE
from core.app import ServicesDep, SessionDep
from core.auth import Principal, Role, require_roles
from core.errors import Conflict, NotFound
from core.openapi import id_path, problems
from generator.models import GenerationJobRow
from generator.schemas import JobPublic

router = APIRouter(prefix="/v1/generations", tags=["generator"], responses=problems(401, 503))
AnyPrincipal = Annotated[Principal, Depends(require_roles(*Role))]
_STAFF = (Role.reviewer, Role.investigator)
GenerationId = Annotated[str, id_path("a generation id")]


def _visible_job(
    session: Any, generation_id: str, principal: Principal, *, staff_ok: bool
) -> GenerationJobRow:
    row = session.get(GenerationJobRow, generation_id)
    allowed = row is not None and (
        principal.is_admin
        or row.requester_id == principal.id
        or (staff_ok and principal.has(*_STAFF))
    )
    if not allowed:
        # The same answer for "absent" and "not yours": ids of others' jobs are not confirmed.
        raise NotFound(f"no generation {generation_id}")
    assert row is not None
    return row


@router.get("/{generation_id}/job", response_model=JobPublic, responses=problems(404, 422))
def job_status(
    generation_id: GenerationId, principal: AnyPrincipal, session: SessionDep
) -> dict[str, Any]:
    row = _visible_job(session, generation_id, principal, staff_ok=True)
    return {
        "generation_id": row.generation_id,
        "status": row.status,
        "tier": row.tier,
        "backend": row.backend,
        "model_id": row.model_id,
        "asset_id": row.asset_id,
        "failure_reason": row.failure_reason,
        "blocked_categories": row.blocked_categories,
        "downloadable": row.published and not row.removed,
        "updated_at": row.updated_at.isoformat(),
    }


@router.get(
    "/{generation_id}/download",
    response_class=FileResponse,
    responses={
        200: {
            "description": "The signed MP4 (free tier: with the visible watermark).",
            "content": {"video/mp4": {"schema": {"type": "string", "format": "binary"}}},
        },
        **problems(404, 409, 422),
    },
)
def download(
    generation_id: GenerationId, principal: AnyPrincipal, session: SessionDep, services: ServicesDep
) -> FileResponse:
    """The requester's signed download (visible watermark on the free tier)."""
    row = _visible_job(session, generation_id, principal, staff_ok=False)
    if row.status == "blocked":
        raise Conflict("this output was blocked by output moderation", reason="output_blocked")
    if row.removed:
        raise Conflict("this video was removed", reason="removed")
    if not row.published or row.download_blob is None:
        raise Conflict(f"the video is not ready (status: {row.status})", reason="not_ready")
    path = services.port(BLOB_STORE).path(row.download_blob)
    return FileResponse(path, media_type="video/mp4", filename=f"{generation_id}.mp4")
