"""Events the generator appends to the generation stream (and its dead-letter stream)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from core.events import EventPayload, event_type

GENERATION = "generation"
DEAD_LETTER = "generation_dlq"


@event_type("GenerationStarted", category=GENERATION)
class GenerationStarted(EventPayload):
    generation_id: str
    backend: str
    model_id: str
    worker: str
    # What the consent / opt-out re-check at pick-up found (or that it could not run).
    pickup_check: dict[str, Any]


@event_type("GenerationFailed", category=GENERATION)
class GenerationFailed(EventPayload):
    generation_id: str
    # consent_revoked, opted_out, pickup_check_unavailable, invalid_request,
    # backend_unavailable, backend_failed (the last after retries: dead_lettered)
    reason: str = Field(pattern="^[a-z_]{1,64}$")
    error: str = Field(max_length=4000)
    retryable: bool
    dead_lettered: bool = False
    details: dict[str, Any] = Field(default_factory=dict)


@event_type("GenerationCompleted", category=GENERATION)
class GenerationCompleted(EventPayload):
    """The raw output exists (invisible watermark embedded, not yet moderated or signed)."""

    generation_id: str
    master_blob: str
    bytes: int = Field(ge=0)
    width: int
    height: int
    fps: int
    frames: int
    duration_s: float
    seed: int
    backend: str
    model_id: str
    watermark_serial: str = Field(pattern="^[0-9a-f]{16}$")
    watermark_strength: float | None = None  # grey levels after informed embedding
    render_ms: int = Field(ge=0)


@event_type("GenerationDeadLettered", category=DEAD_LETTER)
class GenerationDeadLettered(EventPayload):
    """A job the generator gave up on after its retries: kept on its own topic for operators."""

    generation_id: str
    source_event_id: str
    source_event_type: str
    consumer: str
    error: str = Field(max_length=4000)
