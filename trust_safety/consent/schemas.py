"""What ``/v1/cameos`` answers (``...Public``): an owner's view of their own cameos.

The enrolled face template never appears (it is kept encrypted, outside the events).
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from core.openapi import Timestamp
from trust_safety.consent.facts import Audience, LivenessResult


class CameoAcceptedPublic(BaseModel):
    """A command was appended to the cameo's stream."""

    cameo_id: str
    stream_version: int = Field(ge=1)


class LivenessPublic(BaseModel):
    reference: str
    result: LivenessResult
    checked_at: Timestamp
    source: str | None = Field(
        description="capture (the service checked the enrolment capture), provider (a "
        "liveness provider's verdict), or null (claimed by the caller, before enrolment)"
    )


class CameoEnrolmentPublic(BaseModel):
    """A cameo registered or enrolled again from its capture: what was measured (the face
    template itself is never shown)."""

    cameo_id: str
    stream_version: int = Field(ge=1)
    capture_kind: str = Field(examples=["video", "frames"])
    scores: dict[str, float] = Field(
        description="frames, faces, worst_identity_distance, pose_range, age_median, "
        "age_min, adult_age, age_margin and the thresholds used"
    )
    model_versions: dict[str, str]
    age_check_passed: bool = Field(
        description="whether the capture's age check passed (it then assures the account)"
    )


class CameoPublic(BaseModel):
    cameo_id: str
    owner_id: str
    handle: str
    display_name: str
    audience: Audience
    liveness: LivenessPublic
    enrolled_at: Timestamp | None = Field(description="when the face was last enrolled")
    face_template: bool = Field(description="whether an encrypted face template is held")
    public_figure_id: str | None
    registered_at: Timestamp
    retired_at: Timestamp | None
    approved_people: list[str] = Field(description="people with a live grant now")
    revoked_people: list[str]


class CameoListPublic(BaseModel):
    cameos: list[CameoPublic]


class CameoHistoryEntryPublic(BaseModel):
    at: Timestamp
    actor_id: str
    action: str = Field(examples=["registered", "granted", "revoked", "retired"])
    subject_id: str | None
    details: dict[str, str]


class CameoHistoryPublic(BaseModel):
    cameo_id: str
    history: list[CameoHistoryEntryPublic]


class CameoAppearancePublic(BaseModel):
    generation_id: str
    creator_id: str
    status: str
    asset_id: str | None
    removed_reason: str | None


class CameoAppearancesPublic(BaseModel):
    cameo_id: str
    appearances: list[CameoAppearancePublic]


class CameoUsePublic(BaseModel):
    """The caller's own standing with a cameo."""

    cameo_id: str
    allowed: bool
    reason: str = Field(description="the rule that decided, e.g. approved_person")
