"""Events of the provenance domain."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from core.events import EventPayload, event_type

GENERATION = "generation"
AUDIT = "audit"


@event_type("AssetSigned", category=GENERATION)
class AssetSigned(EventPayload):
    """A generated video was signed (C2PA) and stored; nothing re-encodes it afterwards.

    ``blob_address`` is the canonical asset (invisible watermark, no visible mark).
    ``download_blob_address`` is what the requester downloads: the same file for the paid
    tier, a separately signed copy with the visible animated watermark for the free tier.
    """

    generation_id: str
    asset_id: str
    requester_id: str | None
    tier: Literal["free", "paid"]
    blob_address: str
    bytes: int = Field(ge=0)
    manifest_id: str
    download_blob_address: str
    download_manifest_id: str
    visible_watermark: bool
    watermark_serial: str = Field(pattern="^[0-9a-f]{16}$")
    # The same serial under the key reverse search reads.
    watermark_payload: str
    soft_binding_alg: str
    c2pa_state: Literal["signed"] = "signed"
    signer: str
    development_signer: bool
    duration_s: float
    width: int
    height: int
    fps: float
    remix_parents: list[str] = Field(default_factory=list)


@event_type("AssetPublished", category=GENERATION)
class AssetPublished(EventPayload):
    """The signed asset is available to its requester."""

    generation_id: str
    asset_id: str
    download_blob_address: str
    tier: Literal["free", "paid"]


@event_type("ProvenanceChecked", category=AUDIT)
class ProvenanceChecked(EventPayload):
    """Someone asked where a file came from; what they were told (the file itself is not kept)."""

    check_id: str
    channel: Literal["api", "cli"]
    sha256: str
    size_bytes: int
    conclusion: str
    generation_id: str | None
    c2pa_state: str
    c2pa_status_codes: list[str]
    c2pa_generation_id: str | None
    watermark_serial: str | None
    watermark_generation_id: str | None
    fingerprint_matches: list[dict[str, Any]] = Field(default_factory=list)
    consistent: bool
