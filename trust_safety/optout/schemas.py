"""What ``/v1/optouts`` answers (``...Public``): a rights holder's view of their opt-outs."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from core.openapi import Timestamp
from trust_safety.optout.facts import MediaKind, Scope


class OptOutAcceptedPublic(BaseModel):
    """A command was appended to the opt-out's stream."""

    optout_id: str
    stream_version: int = Field(ge=1)


class OptOutTermsPublic(BaseModel):
    works: list[str]
    characters: list[str]
    aliases: list[str]
    misspellings: list[str]
    descriptions: list[str]


class ReferenceMediaPublic(BaseModel):
    uri: str
    sha256: str
    media_type: str
    kind: MediaKind


class OptOutPublic(BaseModel):
    optout_id: str
    rights_holder_id: str
    rights_holder_name: str
    terms: OptOutTermsPublic
    reference_media: list[ReferenceMediaPublic]
    scopes: list[Scope]
    territories: list[str] = Field(description="ISO 3166-1 alpha-2 codes, or '*' for everywhere")
    status: Literal["active", "withdrawn"]
    filed_at: Timestamp
    updated_at: Timestamp
    withdrawn_at: Timestamp | None
    version: int
    blocked_requests: int = Field(ge=0, description="generation requests it refused")


class OptOutListPublic(BaseModel):
    optouts: list[OptOutPublic]
