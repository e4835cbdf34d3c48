"""The cameo owner's likeness view and its actions (``/v1/cameos/{cameo_id}/likeness``).

Only the cameo's owner sees or acts on it: anyone else, admins included, gets the same 404 as
for a cameo that does not exist (the thumbnails are crops of the owner's face). The admin
routes of public figures' galleries are in ``gallery_router``.
"""

from __future__ import annotations

import base64
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from contracts.enforcement import TargetKind
from contracts.ports import BLOB_STORE
from core.aggregate import execute, load
from core.app import ServicesDep
from core.auth import Principal, Role, require_roles
from core.openapi import Timestamp, id_path, problems
from trust_safety.consent.service import require_cameo_owner
from trust_safety.likeness.matches import (
    MATCHES,
    Archive,
    LikenessMatchConflict,
    LikenessMatchNotFound,
    RecordReport,
    ThumbnailUnreadable,
    match_key,
    open_thumbnail,
)
from trust_safety.likeness.owner_view import generation_row, match_row, owner_view

router = APIRouter(prefix="/v1/cameos", tags=["likeness"], responses=problems(401, 403, 503))

UserP = Annotated[Principal, Depends(require_roles(Role.user))]
CameoId = Annotated[str, id_path("a cameo id")]
GenerationId = Annotated[str, id_path("a generation the cameo's face was found in")]
_ACTION = problems(400, 404, 409, 413, 422)


class TimeRangePublic(BaseModel):
    start_s: float
    end_s: float


class LikenessVideoPublic(BaseModel):
    generation_id: str
    creator_id: str | None
    status: Literal["draft", "published", "removed", "blocked"]
    asset_id: str | None
    named: bool = Field(description="the request named the cameo (an appearance)")
    detected: bool = Field(description="output moderation found the cameo's face in it")
    matched_as: Literal["cameo", "public_figure"] | None
    public_figure_id: str | None
    time_ranges: list[TimeRangePublic]
    best_distance: float | None
    consented: bool
    consent_reason: str
    thumbnail_url: str | None
    archived: bool
    report_id: str | None
    case_id: str | None
    removed_by_you: bool
    seen_at: Timestamp


class RefusedAttemptPublic(BaseModel):
    generation_id: str
    requester_id: str | None
    stage: str = Field(examples=["consent", "output"])
    reason: str
    at: Timestamp


class LikenessViewPublic(BaseModel):
    cameo_id: str
    videos: list[LikenessVideoPublic]
    refused_attempts: list[RefusedAttemptPublic]


class ThumbnailPublic(BaseModel):
    cameo_id: str
    generation_id: str
    media_type: Literal["image/jpeg"]
    data_url: str = Field(description="data:image/jpeg;base64,...")


class LikenessActionPublic(BaseModel):
    cameo_id: str
    generation_id: str
    action: Literal["removed", "archived", "reported"]
    report_id: str | None = None
    case_id: str | None = None


class _Body(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class RemoveBody(_Body):
    reason: str | None = Field(default=None, max_length=500)


class ReportBody(_Body):
    explanation: str = Field(
        default="My face appears in this video without my consent.", min_length=10, max_length=5000
    )


@router.get(
    "/{cameo_id}/likeness",
    response_model=LikenessViewPublic,
    responses=problems(404, 422),
)
def likeness_view(
    cameo_id: CameoId,
    principal: UserP,
    services: ServicesDep,
    include_archived: Annotated[bool, Query(description="list archived matches too")] = False,
) -> dict[str, Any]:
    """Every draft and published video the cameo's face was found in, made by anyone, and the
    videos that name it; and the attempts refused because of the cameo."""
    require_cameo_owner(services, principal, cameo_id, admins=False)
    with services.read_sessions() as s:
        return owner_view(s, cameo_id, include_archived=include_archived)


@router.get(
    "/{cameo_id}/likeness/{generation_id}/thumbnail",
    response_model=ThumbnailPublic,
    responses=problems(404, 422),
)
def match_thumbnail(
    cameo_id: CameoId,
    generation_id: GenerationId,
    principal: UserP,
    services: ServicesDep,
    response: Response,
) -> dict[str, Any]:
    """The face as it was found in the video: a small JPEG, as a ``data:`` URL an ``<img>``
    can show (it is decrypted for this answer only and never cached)."""
    require_cameo_owner(services, principal, cameo_id, admins=False)
    with services.read_sessions() as s:
        row = match_row(s, cameo_id, generation_id)
        blob, key = (row.thumbnail_blob, row.thumbnail_key) if row is not None else (None, None)
    if blob is None or key is None:
        raise LikenessMatchNotFound(f"no thumbnail of cameo {cameo_id} in {generation_id}")
    store = services.port(BLOB_STORE)
    with store.open(blob) as fh:
        sealed = fh.read()
    try:
        jpeg = open_thumbnail(sealed, key, cameo_id, generation_id)
    except ThumbnailUnreadable as exc:
        # An erased owner's key: the thumbnail is gone for good, as the rest of their data.
        raise LikenessMatchNotFound(f"the thumbnail is no longer readable: {exc.message}") from exc
    response.headers["Cache-Control"] = "private, no-store"
    return {
        "cameo_id": cameo_id,
        "generation_id": generation_id,
        "media_type": "image/jpeg",
        "data_url": "data:image/jpeg;base64," + base64.b64encode(jpeg).decode(),
    }


@router.post(
    "/{cameo_id}/likeness/{generation_id}/archive",
    response_model=LikenessActionPublic,
    responses=_ACTION,
)
def archive_match(
    cameo_id: CameoId, generation_id: GenerationId, principal: UserP, services: ServicesDep
) -> dict[str, Any]:
    require_cameo_owner(services, principal, cameo_id, admins=False)
    execute(
        services.store,
        MATCHES,
        match_key(cameo_id, generation_id),
        Archive(principal.id),
        actor=principal.actor(Role.user),
    )
    return {"cameo_id": cameo_id, "generation_id": generation_id, "action": "archived"}


@router.post(
    "/{cameo_id}/likeness/{generation_id}/remove",
    status_code=202,
    response_model=LikenessActionPublic,
    responses=_ACTION,
)
def remove_match(
    cameo_id: CameoId,
    generation_id: GenerationId,
    body: RemoveBody,
    principal: UserP,
    services: ServicesDep,
) -> dict[str, Any]:
    """Take the video down: the same hold as removing a video that names the cameo."""
    from trust_safety.likeness.actions import remove_matched_video

    require_cameo_owner(services, principal, cameo_id, admins=False)
    remove_matched_video(services, principal, cameo_id, generation_id, body.reason)
    return {"cameo_id": cameo_id, "generation_id": generation_id, "action": "removed"}


@router.post(
    "/{cameo_id}/likeness/{generation_id}/report",
    status_code=201,
    response_model=LikenessActionPublic,
    responses=_ACTION,
)
def report_match(
    cameo_id: CameoId,
    generation_id: GenerationId,
    body: ReportBody,
    principal: UserP,
    services: ServicesDep,
) -> dict[str, Any]:
    """Report the published video (likeness without consent) to the reviewers' queue."""
    from trust_safety.cases.notices import ReportCategory, ReportSubmission, ReportTarget
    from trust_safety.cases.reports import file_report

    require_cameo_owner(services, principal, cameo_id, admins=False)
    loaded = load(services.store, MATCHES, match_key(cameo_id, generation_id))
    matched = loaded.state.matched
    if matched is None or matched.owner_id != principal.id:
        raise LikenessMatchNotFound(f"no match of cameo {cameo_id} in {generation_id}")
    if loaded.state.report_id is not None:
        raise LikenessMatchConflict(
            f"this video was reported already (report {loaded.state.report_id})"
        )
    with services.read_sessions() as s:
        gen = generation_row(s, generation_id)
        asset_id = gen.asset_id if gen is not None and gen.published else None
    if matched.output_blocked or asset_id is None:
        raise LikenessMatchConflict(
            "only a published video can be reported; a draft or a blocked output is seen by "
            "nobody but its creator (remove it instead)"
        )
    submission = ReportSubmission(
        target=ReportTarget(kind=TargetKind.ASSET, id=asset_id),
        category=ReportCategory.LIKENESS_WITHOUT_CONSENT,
        explanation=body.explanation,
        good_faith=True,
        at_seconds=matched.ranges[0].start_s if matched.ranges else None,
    )
    filed = file_report(services, principal, submission)
    execute(
        services.store,
        MATCHES,
        match_key(cameo_id, generation_id),
        RecordReport(principal.id, filed.report_id, filed.case_id),
        actor=principal.actor(Role.user),
    )
    return {
        "cameo_id": cameo_id,
        "generation_id": generation_id,
        "action": "reported",
        "report_id": filed.report_id,
        "case_id": filed.case_id,
    }
