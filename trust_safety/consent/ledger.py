"""The cameo consent ledger: state folded from consent facts, and the consent decision.

Rules (documented in docs/consent_and_optout.md):

* the owner may always use their own cameo while it is active and its liveness check passed;
* a per-person revocation is an explicit denial that beats every audience, including
  ``everyone``; a later grant to the same person lifts it (the latest action wins);
* ``only_me``: nobody else, whatever grants exist (grants stay on record, dormant);
* ``approved_people``: people with a live (unexpired, unrevoked) grant;
* ``mutual_follows``: people who follow the owner and are followed back, plus approved people;
* ``everyone``: anyone not revoked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from contracts.ports import FollowGraph
from core.folds import Recorded
from trust_safety.consent.errors import CameoNotFound
from trust_safety.consent.facts import (
    AppearanceStatus,
    Audience,
    CameoAppearanceRecorded,
    CameoAppearanceRemoved,
    CameoAppearanceVisibility,
    CameoAudienceChanged,
    CameoConsentGranted,
    CameoConsentRevoked,
    CameoEnrolled,
    CameoFact,
    CameoLivenessRecorded,
    CameoPublicFigureLinked,
    CameoRegistered,
    CameoRetired,
    CameoTemplateDestroyed,
    LivenessResult,
)

RecordedFact = Recorded[CameoFact]
# The liveness reference of a registration whose enrolment has not been folded yet.
PENDING_REFERENCE = "pending-enrolment"


@dataclass(frozen=True)
class PersonConsent:
    """The latest explicit decision of the owner about one person."""

    granted: bool
    at: datetime
    expires_at: datetime | None = None

    def live_grant_at(self, at: datetime) -> bool:
        return self.granted and (self.expires_at is None or at < self.expires_at)


@dataclass(frozen=True)
class HistoryEntry:
    """One line of a cameo's history: who did what to whom, when."""

    at: datetime
    actor_id: str
    action: str
    subject_id: str | None
    details: Mapping[str, str]


@dataclass
class Appearance:
    cameo_id: str
    generation_id: str
    creator_id: str
    status: AppearanceStatus
    asset_id: str | None
    first_seen_at: datetime
    updated_at: datetime
    removed_reason: str | None = None


@dataclass
class CameoRecord:
    """Everything the ledger knows about one cameo (one event stream)."""

    cameo_id: str
    owner_id: str
    handle: str
    display_name: str
    registered_at: datetime
    liveness_reference: str
    liveness_result: LivenessResult
    liveness_checked_at: datetime
    audience: Audience
    retired_at: datetime | None = None
    # "capture": the service checked the enrolment capture; "provider": a liveness
    # provider's verdict; None: the caller's own claim (registrations before enrolment).
    liveness_source: str | None = None
    enrolled_at: datetime | None = None
    public_figure_id: str | None = None
    people: dict[str, PersonConsent] = field(default_factory=dict)
    history: list[HistoryEntry] = field(default_factory=list)
    appearances: dict[str, Appearance] = field(default_factory=dict)
    version: int = 0

    @property
    def active(self) -> bool:
        return self.retired_at is None

    def approved_people(self, at: datetime) -> list[str]:
        return sorted(p for p, c in self.people.items() if c.live_grant_at(at))

    def revoked_people(self) -> list[str]:
        return sorted(p for p, c in self.people.items() if not c.granted)


class DecisionReason(StrEnum):
    OWNER = "owner"
    APPROVED = "approved_person"
    MUTUAL_FOLLOW = "mutual_follow"
    EVERYONE = "audience_everyone"
    UNKNOWN_CAMEO = "unknown_cameo"
    PUBLIC_FIGURE_WITHOUT_CAMEO = "public_figure_without_cameo"
    RETIRED = "cameo_retired"
    LIVENESS_NOT_PASSED = "liveness_not_passed"
    REVOKED = "consent_revoked"
    GRANT_EXPIRED = "grant_expired"
    ONLY_ME = "audience_only_me"
    NOT_APPROVED = "not_approved"
    NOT_MUTUAL_FOLLOW = "not_mutual_follow"


@dataclass(frozen=True)
class ConsentDecision:
    """The answer to "may this principal use this cameo now?", kept as evidence."""

    cameo_id: str
    principal_id: str
    allowed: bool
    reason: DecisionReason
    decided_at: datetime
    cameo_version: int

    def as_evidence(self) -> dict[str, object]:
        return {
            "cameo_id": self.cameo_id,
            "principal_id": self.principal_id,
            "allowed": self.allowed,
            "reason": self.reason.value,
            "decided_at": self.decided_at.isoformat(),
            "cameo_version": self.cameo_version,
        }


def fold(records: Iterable[RecordedFact]) -> CameoRecord:
    """Build one cameo's record from its stream, which must start with its registration."""
    record: CameoRecord | None = None
    for recorded in records:
        record = apply(record, recorded)
    if record is None:
        raise CameoNotFound("the cameo stream is empty")
    return record


def apply(record: CameoRecord | None, recorded: RecordedFact) -> CameoRecord:
    """Apply one fact. Facts are already validated, so this never rejects a valid stream."""
    fact, at, actor = recorded.fact, recorded.occurred_at, recorded.actor_id
    if isinstance(fact, CameoRegistered):
        if record is not None:
            raise ValueError(f"cameo {fact.cameo_id} is registered twice in its stream")
        # A registration without a liveness claim is pending until its enrolment (appended
        # with it) says what the capture showed.
        result = fact.liveness_result or LivenessResult.INCONCLUSIVE
        record = CameoRecord(
            cameo_id=fact.cameo_id,
            owner_id=fact.owner_id,
            handle=fact.handle,
            display_name=fact.display_name,
            registered_at=at,
            liveness_reference=fact.liveness_reference or PENDING_REFERENCE,
            liveness_result=result,
            liveness_checked_at=fact.liveness_checked_at or at,
            audience=fact.audience,
        )
        _log(
            record,
            at,
            actor,
            "registered",
            None,
            audience=fact.audience.value,
            liveness_result=result.value,
            handle=fact.handle,
        )
        record.version = 1
        return record
    if record is None:
        raise ValueError(f"{type(fact).__name__} before CameoRegistered for cameo {fact.cameo_id}")
    if isinstance(fact, CameoLivenessRecorded):
        record.liveness_reference = fact.liveness_reference
        record.liveness_result = fact.liveness_result
        record.liveness_checked_at = fact.liveness_checked_at
        # Old streams hold the owner's own later claims; those stay as unverified as before.
        record.liveness_source = "provider" if actor != record.owner_id else None
        _log(
            record,
            at,
            actor,
            "liveness_recorded",
            None,
            liveness_result=fact.liveness_result.value,
        )
    elif isinstance(fact, CameoEnrolled):
        record.enrolled_at = at
        # A provider's verdict is not overruled by the owner enrolling again: only a passed
        # one lets the capture's own check count.
        if record.liveness_source != "provider" or record.liveness_result is LivenessResult.PASSED:
            record.liveness_result = LivenessResult.PASSED
            record.liveness_reference = f"capture:{fact.capture_kind}"
            record.liveness_checked_at = at
            record.liveness_source = "capture"
        _log(
            record,
            at,
            actor,
            "enrolled",
            None,
            capture_kind=fact.capture_kind,
            liveness_result=record.liveness_result.value,
        )
    elif isinstance(fact, CameoTemplateDestroyed):
        _log(record, at, actor, "template_destroyed", None, reason=fact.reason)
    elif isinstance(fact, CameoAudienceChanged):
        _log(
            record,
            at,
            actor,
            "audience_changed",
            None,
            previous=record.audience.value,
            audience=fact.audience.value,
        )
        record.audience = fact.audience
    elif isinstance(fact, CameoConsentGranted):
        record.people[fact.grantee_id] = PersonConsent(True, at, fact.expires_at)
        details = {"expires_at": fact.expires_at.isoformat()} if fact.expires_at else {}
        _log(record, at, actor, "granted", fact.grantee_id, **details)
    elif isinstance(fact, CameoConsentRevoked):
        record.people[fact.grantee_id] = PersonConsent(False, at)
        _log(record, at, actor, "revoked", fact.grantee_id)
    elif isinstance(fact, CameoPublicFigureLinked):
        record.public_figure_id = fact.public_figure_id
        _log(
            record, at, actor, "public_figure_linked", None, public_figure_id=fact.public_figure_id
        )
    elif isinstance(fact, CameoRetired):
        record.retired_at = at
        _log(record, at, actor, "retired", None)
    elif isinstance(fact, CameoAppearanceRecorded):
        existing = record.appearances.get(fact.generation_id)
        if existing is None:
            record.appearances[fact.generation_id] = Appearance(
                cameo_id=fact.cameo_id,
                generation_id=fact.generation_id,
                creator_id=fact.creator_id,
                status=fact.status,
                asset_id=fact.asset_id,
                first_seen_at=at,
                updated_at=at,
            )
        else:
            # Only the video's visibility brings a removed appearance back: a late
            # "published" for a removed video must not revive it.
            if existing.status is not AppearanceStatus.REMOVED:
                existing.status = fact.status
            existing.asset_id = fact.asset_id or existing.asset_id
            existing.updated_at = at
    elif isinstance(fact, CameoAppearanceRemoved):
        appearance = record.appearances.get(fact.generation_id)
        _remove_appearance(record, appearance, at, actor, fact.generation_id, fact.reason)
    elif isinstance(fact, CameoAppearanceVisibility):
        appearance = record.appearances.get(fact.generation_id)
        if appearance is not None:
            was_removed = appearance.status is AppearanceStatus.REMOVED
            if fact.removed and not was_removed:
                _remove_appearance(record, appearance, at, actor, fact.generation_id, fact.reason)
            elif not fact.removed and was_removed:
                # back to what it was: published once the asset exists, a draft before
                appearance.status = (
                    AppearanceStatus.PUBLISHED if appearance.asset_id else AppearanceStatus.DRAFT
                )
                appearance.removed_reason = None
                appearance.updated_at = at
                _log(
                    record, at, actor, "appearance_restored", None, generation_id=fact.generation_id
                )
    else:  # pragma: no cover - the union is closed
        raise TypeError(f"unknown consent fact {type(fact).__name__}")
    record.version += 1
    return record


def _remove_appearance(
    record: CameoRecord,
    appearance: Appearance | None,
    at: datetime,
    actor: str,
    generation_id: str,
    reason: str,
) -> None:
    # The owner's removal is logged even for an appearance the ledger has not seen yet.
    if appearance is not None:
        appearance.status = AppearanceStatus.REMOVED
        appearance.removed_reason = reason or None
        appearance.updated_at = at
    _log(record, at, actor, "appearance_removed", None, generation_id=generation_id, reason=reason)


def _log(
    record: CameoRecord, at: datetime, actor: str, action: str, subject: str | None, **details: str
) -> None:
    # No personal data in ``details`` (the owner's name, the liveness reference): the history
    # has no owner column, so an erasure could not find it there (docs/privacy.md).
    record.history.append(HistoryEntry(at, actor, action, subject, dict(details)))


def decide_cameo_use(
    record: CameoRecord | None,
    principal_id: str,
    at: datetime,
    graph: FollowGraph,
    *,
    cameo_id: str | None = None,
) -> ConsentDecision:
    """May ``principal_id`` put this cameo in a video at ``at``? Deny unless a rule allows."""

    def decision(allowed: bool, reason: DecisionReason) -> ConsentDecision:
        return ConsentDecision(
            cameo_id=record.cameo_id if record else (cameo_id or ""),
            principal_id=principal_id,
            allowed=allowed,
            reason=reason,
            decided_at=at,
            cameo_version=record.version if record else 0,
        )

    if record is None:
        return decision(False, DecisionReason.UNKNOWN_CAMEO)
    if not record.active:
        return decision(False, DecisionReason.RETIRED)
    if record.liveness_result is not LivenessResult.PASSED:
        return decision(False, DecisionReason.LIVENESS_NOT_PASSED)
    if principal_id == record.owner_id:
        return decision(True, DecisionReason.OWNER)
    person = record.people.get(principal_id)
    if person is not None and not person.granted:
        return decision(False, DecisionReason.REVOKED)
    if record.audience is Audience.ONLY_ME:
        return decision(False, DecisionReason.ONLY_ME)
    if record.audience is Audience.EVERYONE:
        return decision(True, DecisionReason.EVERYONE)
    if person is not None and person.live_grant_at(at):
        return decision(True, DecisionReason.APPROVED)
    if record.audience is Audience.MUTUAL_FOLLOWS and graph.are_mutual_follows(
        principal_id, record.owner_id
    ):
        return decision(True, DecisionReason.MUTUAL_FOLLOW)
    if person is not None and person.granted:
        return decision(False, DecisionReason.GRANT_EXPIRED)
    if record.audience is Audience.MUTUAL_FOLLOWS:
        return decision(False, DecisionReason.NOT_MUTUAL_FOLLOW)
    return decision(False, DecisionReason.NOT_APPROVED)
