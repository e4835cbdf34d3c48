"""What ``POST /v1/provenance/verify`` answers (``...Public``)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from core.openapi import Timestamp


class C2paPublic(BaseModel):
    state: Literal["Trusted", "Valid", "Invalid", "none"]
    status_codes: list[str]
    active_manifest: str | None
    generation_id: str | None
    watermark_serial: int | None
    digital_source_type: str | None
    signer: str | None
    ingredients: list[str]
    training_mining: dict[str, str]


class WatermarkPublic(BaseModel):
    serial: str | None = Field(description="16 hex digits, when a mark was read")
    generation_id: str | None
    pilot_score: float
    flipped: bool
    crop: list[float] = Field(min_length=4, max_length=4)
    error: str | None


class FingerprintRecordPublic(BaseModel):
    """What reverse search knows of the matched generation (its storage side left out)."""

    generation_id: str | None
    asset_id: str
    prompt: str | None
    account_id: str | None
    status: str | None
    requested_at: Timestamp | None
    completed_at: Timestamp | None
    signed_at: Timestamp | None
    published_at: Timestamp | None
    moderation: list[dict[str, Any]]
    timeline: list[dict[str, Any]]
    enforcement: list[dict[str, Any]]
    c2pa: dict[str, Any]
    watermark_payload: str | None


class FingerprintMatchPublic(BaseModel):
    asset_id: str
    generation_id: str | None
    manifest_id: str | None
    score: float
    speed: float
    query_range_s: list[float] = Field(min_length=2, max_length=2)
    generation_range_s: list[float] = Field(min_length=2, max_length=2)
    matched_frames: int
    record: FingerprintRecordPublic


class ProvenanceReportPublic(BaseModel):
    check_id: str = Field(description="the id of the ProvenanceChecked audit event")
    sha256: str
    size_bytes: int
    conclusion: Literal[
        "unreadable",
        "signed_by_us",
        "signed_untrusted",
        "tampered",
        "watermarked_by_us",
        "fingerprint_match",
        "no_evidence",
    ]
    generation_id: str | None
    c2pa: C2paPublic
    watermark: WatermarkPublic
    fingerprint_matches: list[FingerprintMatchPublic] = Field(
        description="investigators and admins only; empty for everyone else"
    )
    consistent: bool = Field(description="false when the signals name different generations")
    notes: list[str]
