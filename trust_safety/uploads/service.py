"""Receiving an upload: moderate it, keep the bytes only if approved, record the decision."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from core.errors import Forbidden, NotFound, ValidationFailed
from core.events import Actor, stream_id, utcnow
from core.ports import Resource
from core.services import Services
from trust_safety.uploads.events import UPLOAD, UploadModerated
from trust_safety.uploads.moderation import Frame, OwnCameoCheck, UploadDecision, UploadModerator

_EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "video/mp4": ".mp4",
    "video/quicktime": ".mov",
    "video/webm": ".webm",
}


def uploads_dir(services: Services) -> Path:
    return Path(services.settings.data_dir) / "uploads"


def _build_moderator(_services: Services) -> UploadModerator:
    from trust_safety.classifiers.faces import shared_face_detector
    from trust_safety.classifiers.nsfw import shared_nudenet

    return UploadModerator(shared_nudenet(), shared_face_detector())


UPLOAD_MODERATOR = Resource[UploadModerator]("uploads.moderator", _build_moderator)


def shared_moderator(services: Services) -> UploadModerator:
    return services.resource(UPLOAD_MODERATOR)


def own_cameo_check(services: Services, at: datetime) -> OwnCameoCheck:
    """The uploader's face is acceptable when the claimed cameo is theirs and verified.

    Matching the face pixels to the cameo's enrolment is the liveness system's job (out of
    scope); the ledger answers ownership and verification.
    """
    from trust_safety.consent.public import recheck_cameos_at_pickup

    def check(uploader_id: str, cameo_id: str | None, frames: list[Frame] | Any) -> bool:
        if cameo_id is None:
            return False
        result = recheck_cameos_at_pickup(
            services, principal_id=uploader_id, cameo_ids=[cameo_id], at=at
        )
        return any(
            d.decision.allowed and d.decision.reason.value == "owner" for d in result.decisions
        )

    return check


@dataclass(frozen=True)
class ReceivedUpload:
    upload_id: str
    decision: UploadDecision


def receive_upload(
    services: Services,
    *,
    data: bytes,
    owner: Actor,
    declared_type: str | None,
    cameo_id: str | None,
    moderator: UploadModerator | None = None,
) -> ReceivedUpload:
    moderator = moderator or shared_moderator(services)
    decision = moderator.moderate(
        data,
        uploader_id=owner.id,
        declared_type=declared_type,
        cameo_id=cameo_id,
        own_cameo=own_cameo_check(services, utcnow()),
    )
    upload_id = uuid.uuid4().hex
    blob: str | None = None
    if decision.approved:
        blob = f"{decision.sha256}{_EXTENSIONS[decision.media_type.value]}"
        target = uploads_dir(services) / blob
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():  # content-addressed: identical bytes are stored once
            tmp = target.with_suffix(f".{uuid.uuid4().hex}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, target)
    services.store.append(
        stream_id(UPLOAD, upload_id),
        [
            UploadModerated(
                upload_id=upload_id,
                owner_id=owner.id,
                approved=decision.approved,
                reason_category=decision.reason.value if decision.reason else None,
                decision=decision.to_record(),
                blob=blob,
            )
        ],
        expected_version=0,
        actor=owner,
    )
    return ReceivedUpload(upload_id, decision)


def load_upload(services: Services, upload_id: str) -> dict[str, Any] | None:
    events = services.store.read_stream(stream_id(UPLOAD, upload_id))
    moderated = [e for e in events if e.type == "UploadModerated"]
    return dict(moderated[-1].payload) if moderated else None


def upload_for(
    services: Services, upload_id: str, principal_id: str, *, is_admin: bool
) -> dict[str, Any]:
    record = load_upload(services, upload_id)
    # Someone else's upload is reported as missing, so ids cannot be probed.
    if record is None or (record["owner_id"] != principal_id and not is_admin):
        raise NotFound(f"no upload {upload_id!r}")
    return record


def require_usable_image(services: Services, upload_id: str, requester_id: str) -> dict[str, Any]:
    record = load_upload(services, upload_id)
    if record is None or record["owner_id"] != requester_id:
        raise NotFound(f"no upload {upload_id!r}")
    if not record["approved"]:
        raise Forbidden(
            f"upload {upload_id} was refused ({record['reason_category']}) and cannot be used"
        )
    if not str(record["decision"]["media_type"]).startswith("image/"):
        raise ValidationFailed(f"upload {upload_id} is a video; image_to_video needs an image")
    return record
