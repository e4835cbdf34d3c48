"""The generator's own dead-letter stream. What it appends to its render stream is a
published contract (``contracts.generation``: GenerationStarted, -Completed, -Failed)."""

from __future__ import annotations

from pydantic import Field

from core.events import EventPayload, event_type

DEAD_LETTER = "generation_dlq"


@event_type("GenerationDeadLettered", category=DEAD_LETTER)
class GenerationDeadLettered(EventPayload):
    """A job the generator gave up on after its retries: kept on its own topic for operators."""

    generation_id: str
    source_event_id: str
    source_event_type: str
    consumer: str
    error: str = Field(max_length=4000)
