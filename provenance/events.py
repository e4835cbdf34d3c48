"""Provenance's audit event. What it appends to its ``provenance-<generation_id>`` stream
is a published contract (``contracts.generation``: AssetSigned, AssetPublished)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from core.events import EventPayload, event_type

AUDIT = "audit"


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
