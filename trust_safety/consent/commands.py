"""Consent commands: validate against the ledger's current state, return the fact to record.

They are pure: no storage, no clock. The integration layer loads the state, calls one of
these, and appends the returned fact with optimistic concurrency on the cameo's stream.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, TypeVar

from core.validation import build
from trust_safety.consent.errors import (
    AppearanceNotFound,
    CameoAlreadyRegistered,
    CameoAlreadyRetired,
    CameoHandleTaken,
    CameoNotFound,
    InvalidCameoInput,
    NotCameoOwner,
    NotLivenessProvider,
)
from trust_safety.consent.facts import (
    AppearanceStatus,
    Audience,
    CameoAppearanceRemoved,
    CameoAudienceChanged,
    CameoConsentGranted,
    CameoConsentRevoked,
    CameoEnrolled,
    CameoLivenessRecorded,
    CameoPublicFigureLinked,
    CameoRegistered,
    CameoRetired,
    CameoTemplateDestroyed,
    LivenessResult,
)
from trust_safety.consent.ledger import CameoRecord

_F = TypeVar("_F")


class LedgerLookup(Protocol):
    """The read side the commands need; both the in-memory and SQL ledgers provide it."""

    def get(self, cameo_id: str) -> CameoRecord | None: ...

    def by_handle(self, handle: str) -> CameoRecord | None: ...

    def active_cameo_of(self, owner_id: str) -> CameoRecord | None: ...

    def cameo_for_public_figure(self, public_figure_id: str) -> CameoRecord | None: ...


def _build(factory: type[_F], **values: object) -> _F:
    return build(factory, InvalidCameoInput, **values)


def require_cameo(ledger: LedgerLookup, cameo_id: str) -> CameoRecord:
    record = ledger.get(cameo_id)
    if record is None:
        raise CameoNotFound(f"no cameo {cameo_id!r}")
    return record


def _require_owner(record: CameoRecord, actor_id: str) -> None:
    if actor_id != record.owner_id:
        raise NotCameoOwner(f"only the owner of cameo {record.cameo_id} may do this")


def _require_active(record: CameoRecord) -> None:
    if not record.active:
        raise CameoAlreadyRetired(f"cameo {record.cameo_id} was retired")


def _require_live_owner(record: CameoRecord, actor_id: str) -> None:
    _require_owner(record, actor_id)
    _require_active(record)


def _require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None:
        raise InvalidCameoInput(f"{name} must carry a time zone")


def register_cameo(
    ledger: LedgerLookup,
    *,
    cameo_id: str,
    owner_id: str,
    handle: str,
    display_name: str,
    audience: Audience = Audience.ONLY_ME,
) -> CameoRegistered:
    """The registration itself; its liveness is what the enrolment appended with it shows
    (:func:`enrol_cameo`), never a claim of the caller's."""
    if ledger.get(cameo_id) is not None:
        raise CameoAlreadyRegistered(f"cameo id {cameo_id!r} already exists")
    existing = ledger.active_cameo_of(owner_id)
    if existing is not None:
        # One likeness per person: a second cameo would split the consent history.
        raise CameoAlreadyRegistered(
            f"{owner_id} already has active cameo {existing.cameo_id}; retire it first"
        )
    taken = ledger.by_handle(handle.lower())
    if taken is not None and taken.active:
        raise CameoHandleTaken(f"handle @{handle} is in use")
    return _build(
        CameoRegistered,
        cameo_id=cameo_id,
        owner_id=owner_id,
        handle=handle.lower(),
        display_name=display_name.strip(),
        audience=audience,
    )


def enrol_cameo(
    record: CameoRecord,
    actor_id: str,
    *,
    capture_kind: str,
    model_versions: dict[str, str],
    scores: dict[str, float],
) -> CameoEnrolled:
    """The owner's face, checked from their capture (trust_safety/consent/enrolment.py)."""
    _require_live_owner(record, actor_id)
    return _build(
        CameoEnrolled,
        cameo_id=record.cameo_id,
        owner_id=record.owner_id,
        capture_kind=capture_kind,
        model_versions=model_versions,
        scores=scores,
    )


def record_liveness_check(
    record: CameoRecord,
    actor_id: str,
    *,
    liveness_reference: str,
    liveness_result: LivenessResult,
    liveness_checked_at: datetime,
) -> CameoLivenessRecorded:
    """A liveness provider's verdict (the route requires the ``liveness_provider`` role).
    The cameo's owner can never record one, whatever roles they hold."""
    if actor_id == record.owner_id:
        raise NotLivenessProvider(
            "a liveness verdict on a cameo comes from a liveness provider, never from its "
            "owner; re-enrol from a new capture instead (POST /v1/cameos/{id}/enrolment)"
        )
    _require_active(record)
    _require_aware(liveness_checked_at, "liveness_checked_at")
    return _build(
        CameoLivenessRecorded,
        cameo_id=record.cameo_id,
        owner_id=record.owner_id,
        liveness_reference=liveness_reference,
        liveness_result=liveness_result,
        liveness_checked_at=liveness_checked_at,
    )


def destroy_cameo_template(record: CameoRecord, reason: str) -> CameoTemplateDestroyed:
    return _build(CameoTemplateDestroyed, cameo_id=record.cameo_id, reason=reason)


def change_cameo_audience(
    record: CameoRecord, actor_id: str, audience: Audience
) -> CameoAudienceChanged:
    _require_live_owner(record, actor_id)
    return CameoAudienceChanged(cameo_id=record.cameo_id, audience=audience)


def grant_cameo_consent(
    record: CameoRecord,
    actor_id: str,
    grantee_id: str,
    *,
    now: datetime,
    expires_at: datetime | None = None,
) -> CameoConsentGranted:
    _require_live_owner(record, actor_id)
    if grantee_id == record.owner_id:
        raise InvalidCameoInput("the owner needs no grant to use their own cameo")
    if expires_at is not None:
        _require_aware(expires_at, "expires_at")
        if expires_at <= now:
            raise InvalidCameoInput("expires_at must be in the future")
    return _build(
        CameoConsentGranted,
        cameo_id=record.cameo_id,
        grantee_id=grantee_id,
        expires_at=expires_at,
    )


def revoke_cameo_consent(
    record: CameoRecord, actor_id: str, grantee_id: str
) -> CameoConsentRevoked:
    """Revoking a person who was never granted is allowed: it blocks them under any audience."""
    _require_live_owner(record, actor_id)
    if grantee_id == record.owner_id:
        raise InvalidCameoInput("the owner cannot revoke their own use of their cameo")
    return _build(CameoConsentRevoked, cameo_id=record.cameo_id, grantee_id=grantee_id)


def link_public_figure(
    ledger: LedgerLookup, record: CameoRecord, public_figure_id: str
) -> CameoPublicFigureLinked:
    """Called by an operator after verifying identity; never by the cameo owner alone."""
    _require_active(record)
    holder = ledger.cameo_for_public_figure(public_figure_id)
    if holder is not None and holder.active and holder.cameo_id != record.cameo_id:
        raise CameoAlreadyRegistered(
            f"public figure {public_figure_id} is already linked to cameo {holder.cameo_id}"
        )
    if record.liveness_result is not LivenessResult.PASSED:
        raise InvalidCameoInput("a public figure can only be linked to a liveness-verified cameo")
    return _build(
        CameoPublicFigureLinked, cameo_id=record.cameo_id, public_figure_id=public_figure_id
    )


def retire_cameo(record: CameoRecord, actor_id: str) -> CameoRetired:
    _require_live_owner(record, actor_id)
    return CameoRetired(cameo_id=record.cameo_id)


def remove_cameo_appearance(
    record: CameoRecord, actor_id: str, generation_id: str, reason: str | None = None
) -> CameoAppearanceRemoved:
    """The owner removes a video that uses their cameo, whoever made it (retired or not)."""
    _require_owner(record, actor_id)
    appearance = record.appearances.get(generation_id)
    if appearance is None:
        raise AppearanceNotFound(f"generation {generation_id} does not use cameo {record.cameo_id}")
    if appearance.status is AppearanceStatus.REMOVED:
        raise AppearanceNotFound(f"generation {generation_id} was already removed")
    values: dict[str, object] = {"cameo_id": record.cameo_id, "generation_id": generation_id}
    if reason:
        values["reason"] = reason
    return _build(CameoAppearanceRemoved, **values)
