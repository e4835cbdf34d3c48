"""What the hash bank API takes and answers (separate types in and out)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from core.openapi import Timestamp


class _In(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class CreateBankBody(_In):
    bank_id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")
    name: str = Field(min_length=1, max_length=200)
    category: str = Field(
        pattern=r"^[a-z][a-z0-9_]{1,39}$",
        description="csam, ncii, terrorism, or an operator-defined category",
    )
    action: Literal["block", "flag"] = "block"
    exchange: str | None = Field(default=None, max_length=64)
    description: str = Field(default="", max_length=2000)


class UpdateBankBody(_In):
    enabled: bool | None = None
    action: Literal["block", "flag"] | None = None
    reason: str = Field(default="", max_length=500)


class HashIn(_In):
    signal_type: Literal["pdq", "vpdq", "md5", "sha256", "video_md5", "video_sha256"]
    signal: str = Field(min_length=1, max_length=200_000)
    note: str | None = Field(default=None, max_length=500)


class AddHashesBody(_In):
    entries: list[HashIn] = Field(min_length=1, max_length=5000)


class RemoveHashesBody(_In):
    entries: list[HashIn] = Field(min_length=1, max_length=5000)
    reason: str = Field(min_length=3, max_length=500)


class ReasonBody(_In):
    reason: str = Field(min_length=3, max_length=500)


class NoteBody(_In):
    note: str = Field(default="", max_length=2000)


class AcknowledgeBody(_In):
    detail: str = Field(default="", max_length=2000)


class BankPublic(BaseModel):
    bank_id: str
    name: str
    category: str
    action: str
    enabled: bool
    exchange: str | None
    description: str
    hash_count: int
    created_at: Timestamp
    updated_at: Timestamp


class BankListPublic(BaseModel):
    banks: list[BankPublic]


class HashPublic(BaseModel):
    signal_type: str
    signal: str
    source: str
    import_id: str | None
    added_at: Timestamp


class HashListPublic(BaseModel):
    bank_id: str
    hashes: list[HashPublic]
    total: int


class ChangePublic(BaseModel):
    bank_id: str
    changed: int


class ImportPublic(BaseModel):
    bank_id: str
    import_id: str
    added: int
    removed: int
    unchanged: int
    invalid: int


class MatchPublic(BaseModel):
    match_id: str
    surface: str
    subject_id: str
    account_id: str | None
    media_type: str
    sha256: str
    categories: list[str]
    outcome: str
    matches: list[dict[str, Any]]
    evidence_id: str | None
    action_id: str | None
    report_id: str | None
    matched_at: Timestamp
    confirmed_by: str | None
    unblurs: int


class MatchListPublic(BaseModel):
    matches: list[MatchPublic]


class PreviewPublic(BaseModel):
    match_id: str
    blurred: bool
    greyscale: bool
    media_type: Literal["image/jpeg"] = "image/jpeg"
    image_base64: str


class ConfirmPublic(BaseModel):
    match_id: str
    confirmed: bool
    contributions: list[str]


class ReportPublic(BaseModel):
    report_id: str
    match_id: str
    authority: str
    format: str
    state: str
    remote_id: str | None
    failures: int
    payload: dict[str, Any]


class EvidencePublic(BaseModel):
    evidence_id: str
    match_id: str
    sha256: str
    media_type: str
    size_bytes: int
    preserved_at: Timestamp
    retain_until: Timestamp
    accesses: int
    purged_at: Timestamp | None


class PurgePublic(BaseModel):
    purged: list[str]
