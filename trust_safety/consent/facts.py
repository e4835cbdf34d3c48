"""The facts the consent ledger is folded from.

These are the payloads of the consent stream's events. They are plain, frozen pydantic
models so the pure ledger can be exercised without the event store; the integration layer
wraps them in the core event envelope (which adds ids, actor, time and causation).
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

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


class _Fact(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CameoRegisteredFact(_Fact):
    kind: Literal["CameoRegistered"] = "CameoRegistered"
    cameo_id: str = Field(min_length=1, max_length=64)
    owner_id: PrincipalId
    handle: CameoHandle
    display_name: str = Field(min_length=1, max_length=80)
    liveness_reference: str = Field(min_length=1, max_length=256)
    liveness_result: LivenessResult
    liveness_checked_at: datetime
    audience: Audience = Audience.ONLY_ME


class CameoLivenessRecordedFact(_Fact):
    """A later liveness check (for example after a failed or inconclusive first one)."""

    kind: Literal["CameoLivenessRecorded"] = "CameoLivenessRecorded"
    cameo_id: str
    liveness_reference: str = Field(min_length=1, max_length=256)
    liveness_result: LivenessResult
    liveness_checked_at: datetime


class CameoAudienceChangedFact(_Fact):
    kind: Literal["CameoAudienceChanged"] = "CameoAudienceChanged"
    cameo_id: str
    audience: Audience


class CameoConsentGrantedFact(_Fact):
    kind: Literal["CameoConsentGranted"] = "CameoConsentGranted"
    cameo_id: str
    grantee_id: PrincipalId
    expires_at: datetime | None = None


class CameoConsentRevokedFact(_Fact):
    kind: Literal["CameoConsentRevoked"] = "CameoConsentRevoked"
    cameo_id: str
    grantee_id: PrincipalId


class CameoPublicFigureLinkedFact(_Fact):
    """An operator verified that this cameo's owner is the listed public figure."""

    kind: Literal["CameoPublicFigureLinked"] = "CameoPublicFigureLinked"
    cameo_id: str
    public_figure_id: str = Field(min_length=1, max_length=128)


class CameoRetiredFact(_Fact):
    """The owner withdrew the cameo entirely; nobody can use it from now on."""

    kind: Literal["CameoRetired"] = "CameoRetired"
    cameo_id: str


class CameoAppearanceRecordedFact(_Fact):
    """A generation (draft) or a published asset uses this cameo."""

    kind: Literal["CameoAppearanceRecorded"] = "CameoAppearanceRecorded"
    cameo_id: str
    generation_id: str = Field(min_length=1, max_length=64)
    creator_id: PrincipalId
    status: AppearanceStatus
    asset_id: str | None = None


class CameoAppearanceRemovedFact(_Fact):
    kind: Literal["CameoAppearanceRemoved"] = "CameoAppearanceRemoved"
    cameo_id: str
    generation_id: str
    reason: str = Field(default="removed by the cameo owner", max_length=500)


CameoFact = (
    CameoRegisteredFact
    | CameoLivenessRecordedFact
    | CameoAudienceChangedFact
    | CameoConsentGrantedFact
    | CameoConsentRevokedFact
    | CameoPublicFigureLinkedFact
    | CameoRetiredFact
    | CameoAppearanceRecordedFact
    | CameoAppearanceRemovedFact
)
