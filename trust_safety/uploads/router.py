"""``/v1/uploads``: images and clips used as generation inputs."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, UploadFile
from pydantic import StringConstraints

from core.app import ServicesDep
from core.auth import Principal, Role, require_roles
from core.openapi import id_path, problems
from trust_safety.uploads.moderation import MAX_REQUEST_CAMEOS
from trust_safety.uploads.schemas import UploadPublic
from trust_safety.uploads.service import receive_upload, upload_for

router = APIRouter(prefix="/v1/uploads", tags=["uploads"], responses=problems(401, 403, 503))
UserDep = Annotated[Principal, Depends(require_roles(Role.user))]


def _public(upload_id: str, record: dict[str, Any]) -> dict[str, Any]:
    decision = record["decision"]
    return {
        "upload_id": upload_id,
        "outcome": "approved" if record["approved"] else "refused",
        "reason_category": record["reason_category"],
        "media_type": decision["media_type"],
        "width": decision["width"],
        "height": decision["height"],
        "duration_s": decision["duration_s"],
        "sha256": decision["sha256"],
    }


@router.post(
    "",
    status_code=201,
    response_model=UploadPublic,
    responses=problems(400, 404, 409, 413, 415, 422),
)
def upload(
    principal: UserDep,
    services: ServicesDep,
    file: Annotated[
        UploadFile, File(description="an image (JPEG/PNG/GIF/WebP) or a clip (MP4/MOV/WebM)")
    ],
    cameo_ids: Annotated[
        list[Annotated[str, StringConstraints(min_length=1, max_length=64)]],
        Form(
            max_length=MAX_REQUEST_CAMEOS,
            description="the cameos the request that will use this upload brings in (repeat "
            "the field for several); a face in the upload passes only as the uploader's own "
            "cameo or one of these that they may use",
        ),
    ] = [],  # noqa: B006 - FastAPI copies defaults
) -> dict[str, Any]:
    principal.require_age_assured()  # adults only: 403 age_assurance_required otherwise
    # A sync route: moderation is CPU-bound and runs in the threadpool, not on the event loop.
    data = file.file.read()
    received = receive_upload(
        services,
        data=data,
        owner=principal.actor(),
        declared_type=file.content_type,
        cameo_ids=cameo_ids,
    )
    return _public(
        received.upload_id,
        {
            "approved": received.decision.approved,
            "reason_category": received.decision.reason.value if received.decision.reason else None,
            "decision": received.decision.to_record(),
        },
    )


@router.get("/{upload_id}", response_model=UploadPublic, responses=problems(404, 422))
def get_upload(
    upload_id: Annotated[str, id_path("an upload id")], principal: UserDep, services: ServicesDep
) -> dict[str, Any]:
    return _public(
        upload_id, upload_for(services, upload_id, principal.id, is_admin=principal.is_admin)
    )
