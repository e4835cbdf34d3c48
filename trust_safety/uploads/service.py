"""Receiving an upload: moderate it, keep the bytes only if approved, record the decision."""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.db import transaction
from core.errors import Forbidden, NotFound, ValidationFailed
from core.events import Actor, stream_id, utcnow
from core.ports import Resource
from core.services import Services
from trust_safety.hash_banks.hooks import commit_match, screen_upload
from trust_safety.uploads.events import UPLOAD, UploadModerated
from trust_safety.uploads.faces import FacePolicy, LedgerLikeness
from trust_safety.uploads.moderation import UploadDecision, UploadModerator
from trust_safety.uploads.settings import UploadSettings

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


def _build_moderator(services: Services) -> UploadModerator:
    from trust_safety.classifiers.faces import shared_face_analyzer
    from trust_safety.classifiers.nsfw import shared_nudenet

    settings = services.settings.section(UploadSettings)
    policy = FacePolicy(adult_age=settings.adult_age, age_margin=settings.age_margin)
    return UploadModerator(shared_nudenet(), shared_face_analyzer(), policy=policy)


UPLOAD_MODERATOR = Resource[UploadModerator]("uploads.moderator", _build_moderator)


def shared_moderator(services: Services) -> UploadModerator:
    return services.resource(UPLOAD_MODERATOR)


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
    cameo_ids: Sequence[str] = (),
    moderator: UploadModerator | None = None,
) -> ReceivedUpload:
    """Moderate and record an upload. ``cameo_ids``: the cameos the request that will use it
    brings in; a face in it may be one of them where the consent ledger allows."""
    moderator = moderator or shared_moderator(services)
    received_at = utcnow()
    decision = moderator.moderate(
        data,
        uploader_id=owner.id,
        likeness=LedgerLikeness(services, received_at),
        declared_type=declared_type,
        cameo_ids=cameo_ids,
    )
    upload_id = uuid.uuid4().hex
    # Every upload is matched against the hash banks, approved or not: a match in a blocking
    # bank refuses it, and its evidence, ban and report commit with the decision below.
    known = screen_upload(services, data, decision.media_type.value)
    decision = known.apply(decision)
    match = known.appends(services, upload_id, owner.id, data, received_at)
    blob: str | None = None
    if decision.approved:
        blob = f"{decision.sha256}{_EXTENSIONS[decision.media_type.value]}"
        target = uploads_dir(services) / blob
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():  # content-addressed: identical bytes are stored once
            tmp = target.with_suffix(f".{uuid.uuid4().hex}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, target)
    with transaction(services.sessions) as session:
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
            session=session,
        )
        commit_match(services, match, session)
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
