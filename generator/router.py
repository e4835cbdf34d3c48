"""Job status and downloads of generated videos."""

from __future__ import annotations

import io
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import FileResponse
from PIL import Image, ImageFilter
from pydantic import BaseModel, Field
from sqlalchemy import select

from contracts.ports import BLOB_STORE
from core.app import ServicesDep, SessionDep
from core.auth import Principal, Role, require_roles
from core.errors import Conflict, NotFound
from core.openapi import BinaryResponse, id_path, problems
from core.video import EncodingError, frame_at
from generator.models import GenerationJobRow
from generator.schemas import JobPublic

router = APIRouter(prefix="/v1/generations", tags=["generator"], responses=problems(401, 503))
AnyPrincipal = Annotated[Principal, Depends(require_roles(*Role))]
_STAFF = (Role.reviewer, Role.investigator)
StaffPrincipal = Annotated[Principal, Depends(require_roles(*_STAFF))]
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


def _stored_video(row: GenerationJobRow) -> str:
    # the copy as published (signed, watermarked) when there is one, else the master
    blob = row.download_blob or row.master_blob
    if blob is None:
        raise Conflict(f"the video is not made yet (status: {row.status})", reason="not_ready")
    return blob


def _job_of_asset(session: Any, asset_id: str, principal: Principal) -> GenerationJobRow:
    generation_id = session.scalar(
        select(GenerationJobRow.generation_id).where(GenerationJobRow.asset_id == asset_id)
    )
    if generation_id is None:
        raise NotFound(f"no asset {asset_id}")
    return _visible_job(session, generation_id, principal, staff_ok=True)


def _media(row: GenerationJobRow, services: Any) -> FileResponse:
    if row.status == "blocked":
        raise Conflict(
            "this output was blocked by output moderation; its frames are shown blurred",
            reason="output_blocked",
        )
    path = services.port(BLOB_STORE).path(_stored_video(row))
    if not path.is_file():
        raise NotFound(f"the video of generation {row.generation_id} is no longer stored")
    return FileResponse(path, media_type="video/mp4")


def _frame(row: GenerationJobRow, services: Any, at: float, width: int) -> BinaryResponse:
    path = services.port(BLOB_STORE).path(_stored_video(row))
    if not path.is_file():
        raise NotFound(f"the video of generation {row.generation_id} is no longer stored")
    try:
        pixels = frame_at(path, at)
    except EncodingError as exc:
        raise Conflict(exc.detail, reason="undecodable") from exc
    image = Image.fromarray(pixels)
    image.thumbnail((width, width * 4))
    # A blocked output's frames come greyscale and blurred, as a hash match's preview does:
    # a reviewer sees what was caught without being shown it.
    blurred = row.status == "blocked"
    if blurred:
        image = image.convert("L").filter(ImageFilter.GaussianBlur(radius=max(6, width // 40)))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=82)
    return BinaryResponse(
        out.getvalue(),
        media_type="image/jpeg",
        headers={
            "Cache-Control": "private, max-age=300",
            "X-Clearframe-Blurred": str(blurred).lower(),
        },
    )


_MEDIA_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The video as stored, removed or not, for review and investigation.",
        "content": {"video/mp4": {"schema": {"type": "string", "format": "binary"}}},
    },
    **problems(403, 404, 409, 422),
}
_FRAME_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "One frame as JPEG; blurred and grey for a blocked output.",
        "content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}},
    },
    **problems(403, 404, 409, 422),
}

At = Annotated[float, Query(ge=0, le=24 * 3600, description="seconds into the video")]
Width = Annotated[int, Query(ge=64, le=1280, description="the JPEG's width in pixels")]
AssetId = Annotated[str, id_path("an asset id")]


@router.get("/{generation_id}/media", response_class=FileResponse, responses=_MEDIA_RESPONSES)
def staff_media(
    generation_id: GenerationId, principal: StaffPrincipal, session: SessionDep,
    services: ServicesDep,
) -> FileResponse:
    """The stored video for a reviewer or investigator, removed and restricted ones too (they
    are the evidence). A blocked output is never played: its frames are served blurred."""
    return _media(_visible_job(session, generation_id, principal, staff_ok=True), services)


@router.get("/{generation_id}/frames", response_class=BinaryResponse, responses=_FRAME_RESPONSES)
def frame(
    generation_id: GenerationId, principal: AnyPrincipal, session: SessionDep,
    services: ServicesDep, at: At = 0.0, width: Width = 480,
) -> BinaryResponse:
    """The frame shown at ``at`` seconds, for its requester and for staff (a reviewer's
    evidence frames, an investigator's side-by-side comparison)."""
    return _frame(_visible_job(session, generation_id, principal, staff_ok=True), services,
                  at, width)


assets_router = APIRouter(prefix="/v1/assets", tags=["generator"], responses=problems(401, 503))


class AssetJobPublic(BaseModel):
    asset_id: str
    generation_id: str
    status: str
    visibility: str
    playable: bool = Field(description="whether /media serves it (a blocked output is not)")


@assets_router.get(
    "/{asset_id}", response_model=AssetJobPublic, responses=problems(403, 404, 422)
)
def asset_job(asset_id: AssetId, principal: StaffPrincipal, session: SessionDep) -> dict[str, Any]:
    """Which generation made an asset, for staff: a report names the asset, the moderation
    record and the frames are the generation's."""
    row = _job_of_asset(session, asset_id, principal)
    return {
        "asset_id": asset_id,
        "generation_id": row.generation_id,
        "status": row.status,
        "visibility": row.visibility,
        "playable": row.status != "blocked" and (row.download_blob or row.master_blob) is not None,
    }


@assets_router.get("/{asset_id}/media", response_class=FileResponse, responses=_MEDIA_RESPONSES)
def asset_media(
    asset_id: AssetId, principal: StaffPrincipal, session: SessionDep, services: ServicesDep
) -> FileResponse:
    """The stored video of an asset (a reported one, a search match), for staff."""
    return _media(_job_of_asset(session, asset_id, principal), services)


@assets_router.get("/{asset_id}/frames", response_class=BinaryResponse, responses=_FRAME_RESPONSES)
def asset_frame(
    asset_id: AssetId, principal: StaffPrincipal, session: SessionDep, services: ServicesDep,
    at: At = 0.0, width: Width = 480,
) -> BinaryResponse:
    """One frame of an asset's video, for staff."""
    return _frame(_job_of_asset(session, asset_id, principal), services, at, width)
