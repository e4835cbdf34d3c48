"""``POST /v1/provenance/verify``: where did this file come from?"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, UploadFile

from core.app import ServicesDep
from core.auth import Principal, Role, require_roles
from core.errors import ValidationFailed
from core.openapi import problems
from provenance.errors import UnreadableMedia
from provenance.schemas import ProvenanceReportPublic
from provenance.service import check_file

router = APIRouter(prefix="/v1/provenance", tags=["provenance"], responses=problems(401, 503))
AnyPrincipal = Annotated[Principal, Depends(require_roles(*Role))]


@router.post(
    "/verify", response_model=ProvenanceReportPublic, responses=problems(400, 413, 415, 422)
)
def verify(file: UploadFile, principal: AnyPrincipal, services: ServicesDep) -> dict[str, Any]:
    """C2PA state, watermark serial and (for investigators) fingerprint matches of a file.

    Every check is recorded as a ``ProvenanceChecked`` audit event (the file is not kept).
    Fingerprint matches carry prompts and accounts, so only investigators and admins get them.
    A file whose video cannot be decoded is answered 422 ``provenance.unreadable_media``
    (its check is still recorded, with the conclusion ``unreadable``).
    """
    if file.filename is None and file.size == 0:
        raise ValidationFailed("send the suspect video as the multipart field 'file'")
    scratch = Path(services.settings.data_dir) / "tmp"
    scratch.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=scratch, suffix=".mp4", delete=False) as fh:
        shutil.copyfileobj(file.file, fh, length=1 << 20)
        path = Path(fh.name)
    try:
        if path.stat().st_size == 0:
            raise ValidationFailed("the uploaded file is empty")
        check_id, report = check_file(
            services,
            path,
            actor=principal.actor(),
            channel="api",
            include_fingerprints=principal.is_admin or principal.has(Role.investigator),
        )
    finally:
        path.unlink(missing_ok=True)
    if report.conclusion == "unreadable":
        raise UnreadableMedia(
            "the file's video cannot be decoded, so it cannot be verified",
            check_id=check_id,
            notes="; ".join(report.notes),
        )
    return {"check_id": check_id, **report.to_dict()}
