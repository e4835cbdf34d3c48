"""Events of the reverse-search domain (what it consumes is read through ``contracts``)."""

from __future__ import annotations

from pydantic import Field

from core.events import EventPayload, event_type

AUDIT = "audit"


class SearchResultRef(EventPayload):
    asset_id: str
    generation_id: str | None
    score: float
    speed: float
    query_start_s: float
    query_end_s: float
    generation_start_s: float
    generation_end_s: float


@event_type("ReverseSearchPerformed", category=AUDIT)
class ReverseSearchPerformed(EventPayload):
    """Who searched for what (by hash, never the content) and what they were shown."""

    search_id: str
    query_sha256: str
    query_kind: str = Field(pattern="^(video|image|text)$")
    query_bytes: int
    endpoint: str
    embedder: str
    results: list[SearchResultRef]
