"""Likeness events (stream category ``likeness``).

A public figure's face gallery is one stream, ``likeness-gallery.<public_figure_id>``; each
admin edit is one event. The reference embeddings themselves are biometric data and stay in
the encrypted gallery table (trust_safety/likeness/gallery.py): an event says only which
entry was added or removed, with which model and how many embeddings it holds.
"""

from __future__ import annotations

from pydantic import Field

from core.events import EventPayload, event_type

LIKENESS = "likeness"


def gallery_stream_key(public_figure_id: str) -> str:
    return f"gallery.{public_figure_id}"


@event_type("PublicFigureFaceAdded", category=LIKENESS)
class PublicFigureFaceAdded(EventPayload):
    """An admin attached reference photos of a public figure; their embeddings were kept as
    gallery entry ``entry_id`` (the photos were not)."""

    public_figure_id: str = Field(min_length=1, max_length=128)
    entry_id: str = Field(min_length=1, max_length=64)
    model_version: str = Field(min_length=1, max_length=128)
    embeddings: int = Field(ge=1)


@event_type("PublicFigureFaceRemoved", category=LIKENESS)
class PublicFigureFaceRemoved(EventPayload):
    """An admin removed a gallery entry: its embeddings and their key were deleted."""

    public_figure_id: str = Field(min_length=1, max_length=128)
    entry_id: str = Field(min_length=1, max_length=64)
