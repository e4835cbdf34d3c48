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
    liveness_reference: str = Field(min_length=1, max_length=256)
    liveness_result: LivenessResult
    liveness_checked_at: datetime
    audience: Audience = Audience.ONLY_ME


@event_type("CameoLivenessRecorded", category=CONSENT)
class CameoLivenessRecorded(_Fact):
    """A later liveness check (for example after a failed or inconclusive first one)."""

    personal_data: ClassVar[PersonalData | None] = PersonalData(
        subject="owner_id", fields=("liveness_reference",)
    )

    cameo_id: str
    liveness_reference: str = Field(min_length=1, max_length=256)
    liveness_result: LivenessResult
    liveness_checked_at: datetime
    owner_id: str | None = None  # whose liveness it is (None in events before erasure)


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
    | CameoAudienceChanged
    | CameoConsentGranted
    | CameoConsentRevoked
    | CameoPublicFigureLinked
    | CameoRetired
    | CameoAppearanceRecorded
    | CameoAppearanceRemoved
    | CameoAppearanceVisibility
)
