"""HTTP API of the cameo consent ledger.

Users see and change only their own cameos; a cameo they do not own answers 404, so ids
cannot be probed. Anyone signed in may ask whether *they* may use a cameo (the answer reveals
nothing about other people). Linking a cameo to a public figure is an operator (admin) act.

A cameo is registered, and enrolled again, from the owner's liveness capture (a multipart
form: one selfie video, or several photos), which the service checks itself
(trust_safety/consent/enrolment.py); nobody can claim a liveness result for their own cameo.
A liveness verdict comes only from a principal with the ``liveness_provider`` role.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, UploadFile
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy import select

from contracts.ports import FOLLOW_GRAPH
from core.app import ServicesDep
from core.auth import Principal, Role, require_roles
from core.events import utcnow
from core.openapi import id_path, problems
from trust_safety.consent.enrolment import Capture, EnrolmentResult, decode_capture
from trust_safety.consent.errors import CameoNotFound, EnrolmentCaptureTooLarge
from trust_safety.consent.facts import Audience, LivenessResult
from trust_safety.consent.ledger import CameoRecord, decide_cameo_use
from trust_safety.consent.models import CameoAppearanceRow, CameoRow
from trust_safety.consent.schemas import (
    CameoAcceptedPublic,
    CameoAppearancesPublic,
    CameoEnrolmentPublic,
    CameoHistoryPublic,
    CameoListPublic,
    CameoPublic,
    CameoUsePublic,
)
from trust_safety.consent.service import ConsentService, require_cameo_owner
from trust_safety.consent.settings import EnrolmentSettings
from trust_safety.consent.store import load_record
from trust_safety.consent.templates import has_template

router = APIRouter(prefix="/v1/cameos", tags=["consent"], responses=problems(401, 403, 503))

UserP = Annotated[Principal, Depends(require_roles(Role.user))]
AdminP = Annotated[Principal, Depends(require_roles(Role.admin))]
LivenessProviderP = Annotated[Principal, Depends(require_roles(Role.liveness_provider))]
CameoId = Annotated[str, id_path("a cameo id")]
# A command on a cameo: absent or not the caller's (404), refused by its state (409).
_COMMAND = problems(400, 404, 409, 413, 422)
_QUERY = problems(404, 422)


class _Body(BaseModel):
    # Fields are named as the service's arguments: a route passes ``**dict(body)`` (shallow,
    # so nested models stay models).
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


_VIDEO = File(
    description="a short selfie video (MP4, MOV or WebM, a few seconds) turning the head "
    "slowly left and right; or send 'frames' instead"
)
_FRAMES = File(description="several photos (JPEG, PNG or WebP) of the face from different angles")
VideoPart = Annotated[UploadFile | None, _VIDEO]
FramesPart = Annotated[list[UploadFile] | None, _FRAMES]


def _read_capture(
    services: Any, video: UploadFile | None, frames: list[UploadFile] | None
) -> tuple[Capture, EnrolmentSettings]:
    policy = services.settings.section(EnrolmentSettings)
    budget = policy.max_capture_bytes

    def read(part: UploadFile) -> bytes:
        nonlocal budget
        data = part.file.read(budget + 1)
        budget -= len(data)
        if budget < 0:
            raise EnrolmentCaptureTooLarge(
                f"the capture is over {policy.max_capture_bytes} bytes; a few seconds of "
                "video, or a few photos, are enough"
            )
        return data

    clip = read(video) if video is not None else None
    images = [read(f) for f in frames or []]
    return decode_capture(clip, images, policy), policy


def _enrolment(cameo_id: str, version: int, result: EnrolmentResult) -> dict[str, Any]:
    return {
        "cameo_id": cameo_id,
        "stream_version": version,
        "capture_kind": result.kind,
        "scores": dict(result.scores),
        "model_versions": dict(result.model_versions),
        "age_check_passed": result.age_passed,
    }


class ChangeAudience(_Body):
    audience: Audience


class GrantConsent(_Body):
    grantee_id: str = Field(min_length=1, max_length=128)
    expires_at: AwareDatetime | None = None


class RecordLiveness(_Body):
    liveness_reference: str = Field(min_length=1, max_length=256)
    liveness_result: LivenessResult
    liveness_checked_at: AwareDatetime


class LinkPublicFigure(_Body):
    public_figure_id: str = Field(min_length=1, max_length=128)


class RemoveAppearance(_Body):
    reason: str | None = Field(default=None, max_length=500)


def _public(record: CameoRecord, at: datetime) -> dict[str, Any]:
    return {
        "cameo_id": record.cameo_id,
        "owner_id": record.owner_id,
        "handle": record.handle,
        "display_name": record.display_name,
        "audience": record.audience.value,
        "liveness": {
            "reference": record.liveness_reference,
            "result": record.liveness_result.value,
            "checked_at": record.liveness_checked_at.isoformat(),
            "source": record.liveness_source,
        },
        "enrolled_at": record.enrolled_at.isoformat() if record.enrolled_at else None,
        "public_figure_id": record.public_figure_id,
        "registered_at": record.registered_at.isoformat(),
        "retired_at": record.retired_at.isoformat() if record.retired_at else None,
        "approved_people": record.approved_people(at),
        "revoked_people": record.revoked_people(),
    }


def _owned(services: Any, principal: Principal, cameo_id: str, **load: bool) -> CameoRecord:
    with services.read_sessions() as s:
        record = load_record(s, cameo_id, **load)
    if record is None or not principal.owns(record.owner_id):
        raise CameoNotFound(f"no cameo {cameo_id!r}")
    return record


def _with_template(services: Any, public: dict[str, Any]) -> dict[str, Any]:
    with services.read_sessions() as s:
        public["face_template"] = has_template(s, public["cameo_id"])
    return public


def _accepted(cameo_id: str, version: int) -> dict[str, Any]:
    return {"cameo_id": cameo_id, "stream_version": version}


@router.post(
    "",
    status_code=201,
    response_model=CameoEnrolmentPublic,
    responses=problems(400, 409, 413, 415, 422),
)
def register_cameo(
    principal: UserP,
    services: ServicesDep,
    handle: Annotated[str, Form(min_length=3, max_length=30)],
    display_name: Annotated[str, Form(min_length=1, max_length=80)],
    audience: Annotated[Audience, Form()] = Audience.ONLY_ME,
    video: VideoPart = None,
    frames: FramesPart = None,
) -> dict[str, Any]:
    """Register your cameo from a liveness capture, which the service checks: exactly one
    face in every frame, the same person throughout, a head that moves (not a photo held to
    the camera), and an adult. A sync route: the analysis is CPU-bound (threadpool)."""
    capture, _ = _read_capture(services, video, frames)
    consent = ConsentService(services)
    cameo_id, result = consent.register_with_result(
        principal.actor(),
        handle=handle.strip(),
        display_name=display_name.strip(),
        audience=audience,
        capture=capture,
    )
    return _enrolment(cameo_id, 2, result)


@router.post(
    "/{cameo_id}/enrolment",
    response_model=CameoEnrolmentPublic,
    responses=problems(400, 404, 409, 413, 415, 422),
)
def enrol_again(
    cameo_id: CameoId,
    principal: UserP,
    services: ServicesDep,
    video: VideoPart = None,
    frames: FramesPart = None,
) -> dict[str, Any]:
    """Enrol your face again from a new capture; the new template replaces the old one."""
    require_cameo_owner(services, principal, cameo_id)
    capture, _ = _read_capture(services, video, frames)
    version, result = ConsentService(services).enrol_with_result(
        principal.actor(), cameo_id, capture
    )
    return _enrolment(cameo_id, version, result)


@router.get("", response_model=CameoListPublic)
def list_my_cameos(principal: UserP, services: ServicesDep) -> dict[str, Any]:
    now = utcnow()
    with services.read_sessions() as s:
        ids = s.scalars(
            select(CameoRow.cameo_id)
            .where(CameoRow.owner_id == principal.id)
            .order_by(CameoRow.registered_at)
        ).all()
        records = [load_record(s, i) for i in ids]
    return {"cameos": [_with_template(services, _public(r, now)) for r in records if r]}


@router.get("/{cameo_id}", response_model=CameoPublic, responses=_QUERY)
def get_cameo(cameo_id: CameoId, principal: UserP, services: ServicesDep) -> dict[str, Any]:
    return _with_template(services, _public(_owned(services, principal, cameo_id), utcnow()))


@router.get("/{cameo_id}/history", response_model=CameoHistoryPublic, responses=_QUERY)
def cameo_history(cameo_id: CameoId, principal: UserP, services: ServicesDep) -> dict[str, Any]:
    record = _owned(services, principal, cameo_id, history=True)
    return {
        "cameo_id": cameo_id,
        "history": [
            {
                "at": h.at.isoformat(),
                "actor_id": h.actor_id,
                "action": h.action,
                "subject_id": h.subject_id,
                "details": dict(h.details),
            }
            for h in record.history
        ],
    }


@router.get("/{cameo_id}/appearances", response_model=CameoAppearancesPublic, responses=_QUERY)
def cameo_appearances(cameo_id: CameoId, principal: UserP, services: ServicesDep) -> dict[str, Any]:
    """Every draft and published video that uses this cameo, made by anyone."""
    _owned(services, principal, cameo_id)
    with services.read_sessions() as s:
        rows = s.scalars(
            select(CameoAppearanceRow)
            .where(CameoAppearanceRow.cameo_id == cameo_id)
            .order_by(CameoAppearanceRow.first_seen_at, CameoAppearanceRow.generation_id)
        ).all()
        items = [
            {
                "generation_id": r.generation_id,
                "creator_id": r.creator_id,
                "status": r.status,
                "asset_id": r.asset_id,
                "removed_reason": r.removed_reason,
            }
            for r in rows
        ]
    return {"cameo_id": cameo_id, "appearances": items}


@router.post(
    "/{cameo_id}/appearances/{generation_id}/remove",
    status_code=202,
    response_model=CameoAcceptedPublic,
    responses=_COMMAND,
)
def remove_appearance(
    cameo_id: CameoId,
    generation_id: Annotated[str, id_path("the generation the cameo appears in")],
    body: RemoveAppearance,
    principal: UserP,
    services: ServicesDep,
) -> dict[str, Any]:
    require_cameo_owner(services, principal, cameo_id)
    version = ConsentService(services).remove_appearance(
        principal.actor(), cameo_id, generation_id, body.reason
    )
    return _accepted(cameo_id, version)


@router.put("/{cameo_id}/audience", response_model=CameoAcceptedPublic, responses=_COMMAND)
def change_audience(
    cameo_id: CameoId, body: ChangeAudience, principal: UserP, services: ServicesDep
) -> dict[str, Any]:
    require_cameo_owner(services, principal, cameo_id)
    version = ConsentService(services).change_audience(principal.actor(), cameo_id, body.audience)
    return _accepted(cameo_id, version)


@router.post(
    "/{cameo_id}/grants", status_code=201, response_model=CameoAcceptedPublic, responses=_COMMAND
)
def grant_consent(
    cameo_id: CameoId, body: GrantConsent, principal: UserP, services: ServicesDep
) -> dict[str, Any]:
    require_cameo_owner(services, principal, cameo_id)
    version = ConsentService(services).grant(
        principal.actor(), cameo_id, body.grantee_id, body.expires_at
    )
    return _accepted(cameo_id, version)


@router.delete(
    "/{cameo_id}/grants/{grantee_id}",
    response_model=CameoAcceptedPublic,
    responses=problems(404, 409, 422),
)
def revoke_consent(
    cameo_id: CameoId,
    grantee_id: Annotated[str, id_path("the person whose consent is revoked")],
    principal: UserP,
    services: ServicesDep,
) -> dict[str, Any]:
    require_cameo_owner(services, principal, cameo_id)
    version = ConsentService(services).revoke(principal.actor(), cameo_id, grantee_id)
    return _accepted(cameo_id, version)


@router.post("/{cameo_id}/liveness", response_model=CameoAcceptedPublic, responses=_COMMAND)
def record_liveness(
    cameo_id: CameoId, body: RecordLiveness, principal: LivenessProviderP, services: ServicesDep
) -> dict[str, Any]:
    """A liveness provider's verdict on a cameo; never the owner's (403), whatever roles
    they hold. A failed verdict stops the cameo's use until a provider records a pass."""
    acting = Role.liveness_provider if principal.has(Role.liveness_provider) else None
    version = ConsentService(services).record_liveness(
        principal.actor(acting), cameo_id, **dict(body)
    )
    return _accepted(cameo_id, version)


@router.post(
    "/{cameo_id}/retire", response_model=CameoAcceptedPublic, responses=problems(404, 409, 422)
)
def retire_cameo(cameo_id: CameoId, principal: UserP, services: ServicesDep) -> dict[str, Any]:
    require_cameo_owner(services, principal, cameo_id)
    version = ConsentService(services).retire(principal.actor(), cameo_id)
    return _accepted(cameo_id, version)


@router.post("/{cameo_id}/public-figure", response_model=CameoAcceptedPublic, responses=_COMMAND)
def link_public_figure(
    cameo_id: CameoId, body: LinkPublicFigure, principal: AdminP, services: ServicesDep
) -> dict[str, Any]:
    version = ConsentService(services).link_public_figure(
        principal.actor(), cameo_id, body.public_figure_id
    )
    return _accepted(cameo_id, version)


@router.get("/{cameo_id}/may-i-use", response_model=CameoUsePublic, responses=problems(422))
def may_i_use(cameo_id: CameoId, principal: UserP, services: ServicesDep) -> dict[str, Any]:
    """The caller's own standing with a cameo (allowed, and the rule that decided)."""
    now = utcnow()
    with services.read_sessions() as s:
        decision = decide_cameo_use(
            load_record(s, cameo_id),
            principal.id,
            now,
            services.port(FOLLOW_GRAPH),
            cameo_id=cameo_id,
        )
    return {"cameo_id": cameo_id, "allowed": decision.allowed, "reason": decision.reason.value}
