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


class CameoPublic(BaseModel):
    cameo_id: str
    owner_id: str
    handle: str
    display_name: str
    audience: Audience
    liveness: LivenessPublic
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
