"""The two facts every read model follows to hide or show an asset."""

from __future__ import annotations

from pydantic import Field

from core.events import EventPayload, event_type

GENERATION = "generation"


@event_type("AssetRemoved", category=GENERATION)
class AssetRemoved(EventPayload):
    """The asset (or the draft, before it was signed) must not be shown or served anywhere."""

    generation_id: str
    asset_id: str | None = Field(default=None, description="None while the video is a draft")
    hold: str = Field(min_length=1, max_length=200, description="why: an action id or cameo:<id>")
    reason: str = Field(max_length=500)
    source_event_id: str


@event_type("AssetRestored", category=GENERATION)
class AssetRestored(EventPayload):
    """One hold on the asset was lifted; it is visible again once no hold remains."""

    generation_id: str
    asset_id: str | None = None
    hold: str = Field(min_length=1, max_length=200)
    reason: str = Field(max_length=500)
    source_event_id: str
