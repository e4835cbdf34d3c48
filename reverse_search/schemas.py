"""What the investigator API answers (``...Public``).

Investigators see prompts, accounts and moderation history: that is the point of the search.
What stays out is the storage side of the record (the blob address of the signed file).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from contracts.assets import Hold, Visibility
from core.openapi import Timestamp


class GenerationRecordPublic(BaseModel):
    """One signed asset of a generation, with what is known of the generation."""

    generation_id: str | None
    asset_id: str
    prompt: str | None
    account_id: str | None
    status: str | None
    requested_at: Timestamp | None
    completed_at: Timestamp | None
    signed_at: Timestamp | None
    published_at: Timestamp | None
    visibility: Visibility = Field(description="what the holds on the asset add up to")
    holds: list[Hold] = Field(description="every hold in force, as the assets domain decided")
    history: list[dict[str, Any]] = Field(
        description="every hold placed or lifted (AssetVisibilityChanged), oldest first"
    )
    moderation: list[dict[str, Any]] = Field(description="the prompt and output decisions")
    timeline: list[dict[str, Any]]
    enforcement: list[dict[str, Any]] = Field(
        description="actions on the asset and on its account, each with its target"
    )
    c2pa: dict[str, Any] = Field(description="the manifest id and the signing facts")
    watermark_payload: str | None


class SearchMatchPublic(BaseModel):
    asset_id: str
    generation_id: str | None
    manifest_id: str | None
    score: float
    speed: float = Field(description="playback speed of the query relative to the original")
    query_range_s: list[float] = Field(min_length=2, max_length=2)
    generation_range_s: list[float] = Field(min_length=2, max_length=2)
    matched_frames: int
    visibility: Visibility = Field(description="the asset's state: investigators see them all")
    flags: list[str] = Field(
        description="each hold's kind (removed, restricted, age_restricted, labelled) and, "
        "for holds that are not enforcement, cameo_removed or blocked (refused at output)",
        examples=[["removed", "cameo_removed"]],
    )
    history: list[dict[str, Any]] = Field(
        description="every hold placed or lifted on the asset, oldest first"
    )
    record: GenerationRecordPublic


class SearchReportPublic(BaseModel):
    search_id: str = Field(description="the id of the search's audit event stream")
    query_sha256: str
    query_kind: str = Field(examples=["video", "image", "text"])
    embedder: str
    verdict: Literal["match", "no_match"] = Field(
        description="no_match: nothing scores above the cutoff; matches is then empty"
    )
    min_score: float = Field(description="the score cutoff (CLEARFRAME_RS_MIN_SCORE)")
    message: str
    matches: list[SearchMatchPublic]


class SearchResultPublic(BaseModel):
    asset_id: str
    generation_id: str | None
    score: float
    speed: float
    query_start_s: float
    query_end_s: float
    generation_start_s: float
    generation_end_s: float


class PastSearchPublic(BaseModel):
    at: Timestamp
    search_id: str
    query_sha256: str
    query_kind: str
    query_bytes: int
    endpoint: str
    embedder: str
    results: list[SearchResultPublic]


class SearchHistoryPublic(BaseModel):
    searches: list[PastSearchPublic] = Field(description="newest first")


class GenerationAssetPublic(BaseModel):
    generation_id: str | None
    asset_id: str
    account_id: str | None
    status: str | None
    requested_at: Timestamp | None
    completed_at: Timestamp | None
    signed_at: Timestamp | None
    published_at: Timestamp | None
    visibility: Visibility
    holds: list[Hold]
    history: list[dict[str, Any]]
    enforcement: list[dict[str, Any]]
    c2pa: dict[str, Any]
    watermark_payload: str | None


class GenerationPublic(BaseModel):
    generation_id: str
    prompt: str | None
    account_id: str | None
    status: str | None
    moderation: list[dict[str, Any]]
    timeline: list[dict[str, Any]]
    assets: list[GenerationAssetPublic]


class IndexStatusPublic(BaseModel):
    embedder: str
    structure: str
    assets: int
    vectors: int
    whitened: bool
    failed: dict[str, str] = Field(description="asset id -> why it could not be indexed")
    snapshot: str | None = Field(description="the name of the snapshot loaded, if any")


class ContentMatchPublic(BaseModel):
    manifestId: str  # noqa: N815 - the C2PA soft-binding resolution API's spelling
    similarityScore: int = Field(ge=0, le=100)  # noqa: N815


class ContentMatchesPublic(BaseModel):
    matches: list[ContentMatchPublic]


class BindingMatchPublic(BaseModel):
    manifestId: str  # noqa: N815


class BindingMatchesPublic(BaseModel):
    matches: list[BindingMatchPublic]


class ManifestPublic(BaseModel):
    manifestId: str  # noqa: N815
    asset_id: str
    manifest_store: Any = Field(description="the C2PA reader's JSON of the manifest store")
