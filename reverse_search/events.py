"""Events of the reverse-search domain, and the names of the events it consumes."""

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


# Consumed by type name (domains meet through events; see docs/reverse_search.md for the
# payload fields read from each).
GENERATION_REQUESTED = "GenerationRequested"
PROMPT_MODERATED = "PromptModerated"
GENERATION_APPROVED = "GenerationApproved"
GENERATION_REFUSED = "GenerationRefused"
GENERATION_STARTED = "GenerationStarted"
GENERATION_FAILED = "GenerationFailed"
GENERATION_COMPLETED = "GenerationCompleted"
OUTPUT_MODERATED = "OutputModerated"
ASSET_SIGNED = "AssetSigned"
ASSET_PUBLISHED = "AssetPublished"
ASSET_REMOVED = "AssetRemoved"
ASSET_RESTORED = "AssetRestored"
CAMEO_APPEARANCE_REMOVED = "CameoAppearanceRemoved"
ENFORCEMENT_ACTION_TAKEN = "EnforcementActionTaken"
ENFORCEMENT_REVERSED = "EnforcementReversed"
