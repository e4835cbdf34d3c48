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


class BrandPublic(BaseModel):
    name: str
    aliases: list[str]
    generic: str = Field(description="the words a prompt gets in the brand's place")


class OptOutTermsPublic(BaseModel):
    works: list[str]
    characters: list[str]
    aliases: list[str]
    misspellings: list[str]
    descriptions: list[str]
    brands: list[BrandPublic] = Field(
        description="brands rewritten to their generic description, never refused"
    )


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
    blocked_outputs: int = Field(ge=0, description="generated outputs it blocked")


class OptOutListPublic(BaseModel):
    optouts: list[OptOutPublic]


class OptOutDayPublic(BaseModel):
    day: str = Field(description="UTC date, YYYY-MM-DD")
    prompts: int = Field(ge=0, description="generation requests refused that day")
    outputs: int = Field(ge=0, description="generated outputs blocked that day")


class OptOutMatchedPublic(BaseModel):
    """One of the holder's own terms or reference files, and how often it matched."""

    kind: Literal["term", "reference_media"]
    value: str = Field(description="the term, or the reference file's sha256")
    uri: str | None = Field(description="the reference file's address (reference_media)")
    prompts: int = Field(ge=0)
    outputs: int = Field(ge=0)


class OptOutStatsPublic(BaseModel):
    """What an opt-out blocked: counts only, never who asked, what or which generation."""

    optout_id: str
    blocked_requests: int = Field(ge=0)
    blocked_outputs: int = Field(ge=0)
    by_day: list[OptOutDayPublic]
    matched: list[OptOutMatchedPublic]
