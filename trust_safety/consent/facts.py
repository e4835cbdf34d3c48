"""The facts the consent ledger is folded from.

These are the payloads of the consent stream's events. They are plain, frozen pydantic
models so the pure ledger can be exercised without the event store; the integration layer
wraps them in the core event envelope (which adds ids, actor, time and causation).
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import AfterValidator, Field

from contracts.consent import CameoAppearanceRemoved
from core.events import EventPayload, PersonalData, event_type

HANDLE_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9_.]{1,28}[a-z0-9])$")


def _valid_handle(value: str) -> str:
    if not HANDLE_PATTERN.match(value):
        raise ValueError(
            "a cameo handle is 3-30 characters of a-z, 0-9, '_' or '.', "
            "starting and ending with a letter or digit"
        )
    return value


CameoHandle = Annotated[str, AfterValidator(_valid_handle)]
PrincipalId = Annotated[str, Field(min_length=1, max_length=128)]


class Audience(StrEnum):
    """Who, besides the owner, may put this cameo in a video."""

    ONLY_ME = "only_me"
    APPROVED_PEOPLE = "approved_people"
    MUTUAL_FOLLOWS = "mutual_follows"
    EVERYONE = "everyone"


class LivenessResult(StrEnum):
    """Outcome of the liveness check run by the identity vendor (recorded, not performed)."""

    PASSED = "passed"
    FAILED = "failed"
    INCONCLUSIVE = "inconclusive"


class AppearanceStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    REMOVED = "removed"
    # The generation failed for good (``GenerationFailed``: its consent was revoked before
    # it rendered, an opt-out, a backend fault): no video exists, and none will.
    FAILED = "failed"


CONSENT = "consent"


class _Fact(EventPayload):
    """Frozen, closed payload (from EventPayload); declared as event types below."""


@event_type("CameoRegistered", category=CONSENT)
class CameoRegistered(_Fact):
    # The handle stays: it is the public name others @mention, and the key mentions resolve by.
    personal_data: ClassVar[PersonalData | None] = PersonalData(
        subject="owner_id", fields=("display_name", "liveness_reference")
    )

    cameo_id: str = Field(min_length=1, max_length=64)
    owner_id: PrincipalId
    handle: CameoHandle
    display_name: str = Field(min_length=1, max_length=80)
    # Registrations before enrolment from the capture carried the caller's liveness claim;
    # a registration now holds none (its CameoEnrolled, in the same append, says what the
    # service checked), and old streams still replay.
    liveness_reference: str | None = Field(default=None, min_length=1, max_length=256)
    liveness_result: LivenessResult | None = None
    liveness_checked_at: datetime | None = None
    audience: Audience = Audience.ONLY_ME


@event_type("CameoLivenessRecorded", category=CONSENT)
class CameoLivenessRecorded(_Fact):
    """A liveness provider's verdict on the cameo (recorded by a principal with the
    ``liveness_provider`` role, never by the owner), or, in streams written before
    enrolment from the capture, the owner's own later claim."""

    personal_data: ClassVar[PersonalData | None] = PersonalData(
        subject="owner_id", fields=("liveness_reference",)
    )

    cameo_id: str
    liveness_reference: str = Field(min_length=1, max_length=256)
    liveness_result: LivenessResult
    liveness_checked_at: datetime
    owner_id: str | None = None  # whose liveness it is (None in events before erasure)


@event_type("CameoEnrolled", category=CONSENT)
class CameoEnrolled(_Fact):
    """The owner's face was enrolled (or enrolled again) from a liveness capture the service
    checked itself. The face template is stored encrypted beside the event
    (trust_safety/consent/templates.py), never in it: this carries only what was measured.

    ``scores``: frames, faces, worst_identity_distance, pose_range, age_median, age_min,
    age_margin, adult_age, embeddings (how many the template holds) and the thresholds used.
    """

    # The age estimates are the owner's personal data: sealed, and gone with an erasure.
    personal_data: ClassVar[PersonalData | None] = PersonalData(
        subject="owner_id", fields=("scores",)
    )

    cameo_id: str = Field(min_length=1, max_length=64)
    owner_id: PrincipalId
    capture_kind: str = Field(pattern=r"^(video|frames)$")
    model_versions: dict[str, str]
    scores: dict[str, float]


@event_type("CameoTemplateDestroyed", category=CONSENT)
class CameoTemplateDestroyed(_Fact):
    """The cameo's face template and its key were deleted (retired, or the owner's personal
    data erased): nothing can match this face to the cameo any more."""

    cameo_id: str
    reason: str = Field(pattern=r"^(retired|erased)$")


@event_type("CameoAudienceChanged", category=CONSENT)
class CameoAudienceChanged(_Fact):
    cameo_id: str
    audience: Audience


@event_type("CameoConsentGranted", category=CONSENT)
class CameoConsentGranted(_Fact):
    cameo_id: str
    grantee_id: PrincipalId
    expires_at: datetime | None = None


@event_type("CameoConsentRevoked", category=CONSENT)
class CameoConsentRevoked(_Fact):
    cameo_id: str
    grantee_id: PrincipalId


@event_type("CameoPublicFigureLinked", category=CONSENT)
class CameoPublicFigureLinked(_Fact):
    """An operator verified that this cameo's owner is the listed public figure."""

    cameo_id: str
    public_figure_id: str = Field(min_length=1, max_length=128)


@event_type("CameoRetired", category=CONSENT)
class CameoRetired(_Fact):
    """The owner withdrew the cameo entirely; nobody can use it from now on."""

    cameo_id: str


class CameoAppearanceRecorded(_Fact):
    """A generation (draft) or a published asset uses this cameo."""

    cameo_id: str
    generation_id: str = Field(min_length=1, max_length=64)
    creator_id: PrincipalId
    status: AppearanceStatus
    asset_id: str | None = None


class CameoAppearanceVisibility(_Fact):
    """The video a cameo appears in went down or came back, as the assets domain decided for
    its generation (``AssetVisibilityChanged``): the appearance is removed exactly while the
    generation is removed."""

    cameo_id: str
    generation_id: str = Field(min_length=1, max_length=64)
    removed: bool
    reason: str = Field(default="", max_length=500)


CameoFact = (
    CameoRegistered
    | CameoLivenessRecorded
    | CameoEnrolled
    | CameoTemplateDestroyed
    | CameoAudienceChanged
    | CameoConsentGranted
    | CameoConsentRevoked
    | CameoPublicFigureLinked
    | CameoRetired
    | CameoAppearanceRecorded
    | CameoAppearanceRemoved
    | CameoAppearanceVisibility
)
