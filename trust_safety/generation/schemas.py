"""What ``/v1/generations`` and ``/v1/moderation`` answer (``...Public``).

A requester sees the parameters, the status and the reason *category* of a refusal; the full
decision with its evidence is a separate, reviewers-only type.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from core.openapi import Timestamp


class GenerationAcceptedPublic(BaseModel):
    generation_id: str
    status: str = Field(examples=["requested"])


class BlockReviewPublic(BaseModel):
    decision_id: str = Field(description="the block's decision, which an appeal names")
    how: str


class GenerationPublic(BaseModel):
    generation_id: str
    kind: str
    status: str = Field(
        examples=[
            "requested",
            "approved",
            "refused",
            "rendering",
            "completed",
            "failed",
            "blocked",
            "signed",
            "published",
        ]
    )
    prompt: str
    duration_s: float
    width: int
    height: int
    aspect_ratio: str
    tier: str
    seed: int | None
    upload_id: str | None
    extends: str | None
    remix_of: list[str]
    cameo_ids: list[str]
    reason_category: str | None = Field(
        description="why it was refused or blocked (a category only)"
    )
    review: BlockReviewPublic | None = Field(
        default=None, description="a blocked output: how to ask for a human review"
    )
    prompt_rewritten: bool
    asset_id: str | None
    requested_at: Timestamp
    updated_at: Timestamp


class GenerationListPublic(BaseModel):
    items: list[GenerationPublic]


class ModerationRecordPublic(BaseModel):
    """The gate's full decision with its evidence (reviewers)."""

    generation_id: str
    decided: bool
    decision: dict[str, Any] | None = Field(description="the PromptModerated payload")
    filter_review: dict[str, Any] | None = Field(
        default=None,
        description="the PromptFilterReviewed payload (the LLM filter's verdict, rationale, "
        "model and timing) when the decision was referred to it",
    )
    output: dict[str, Any] | None = Field(
        default=None,
        description="the OutputModerated payload: per-category verdicts and per-frame scores",
    )


class BlocklistPublic(BaseModel):
    version: int
    lists: dict[str, list[str]] = Field(description="category -> terms")
    allow: list[str]
    weak: dict[str, list[str]]


class PublicFigurePublic(BaseModel):
    id: str
    name: str
    aliases: list[str]
    exclusions: list[str]


class PublicFiguresPublic(BaseModel):
    version: int
    figures: list[PublicFigurePublic]


class OfficeHolderPublic(BaseModel):
    figure_id: str
    from_: str = Field(alias="from", description="ISO date the holder took office")
    to: str | None = Field(description="ISO date the term ended (exclusive); null in office")

    model_config = {"populate_by_name": True, "serialize_by_alias": True}


class OfficePublic(BaseModel):
    id: str
    name: str
    titles: dict[str, list[str]] = Field(description="language (ISO 639-1) -> titles")
    exclusions: list[str]
    holders: list[OfficeHolderPublic]


class PublicOfficesPublic(BaseModel):
    version: int
    source: str
    qualifiers: dict[str, dict[str, list[str]]]
    offices: list[OfficePublic]


class ModerationListsPublic(BaseModel):
    blocklist: BlocklistPublic
    public_figures: PublicFiguresPublic
    public_offices: PublicOfficesPublic


class ListVersionPublic(BaseModel):
    version: int = Field(description="the list's version after the edit")
