"""What the feed API answers (``...Public``): kept apart from the read model's rows."""

from __future__ import annotations

from pydantic import BaseModel, Field

from core.openapi import Timestamp


class FeedEntryPublic(BaseModel):
    asset_id: str
    generation_id: str | None
    owner_id: str | None
    published_at: Timestamp
    remixes_of: list[str] = Field(description="the generation ids this video remixes")
    title: str | None
    labels: list[str]
    age_restricted: bool
    featured_at: Timestamp | None


class FeedCursorPublic(BaseModel):
    """Pass both back as query parameters to get the next page."""

    before_published_at: Timestamp
    before_asset_id: str


class FeedPagePublic(BaseModel):
    items: list[FeedEntryPublic]
    next: FeedCursorPublic | None = Field(description="null when the page is empty")


class LineageNodePublic(BaseModel):
    generation_id: str
    asset_id: str | None = Field(description="null when the feed never saw its asset")
    available: bool = Field(description="false when unpublished, removed or its owner is held")


class LineagePublic(BaseModel):
    asset_id: str
    parents: list[LineageNodePublic]
    depth: int = Field(ge=0, description="the longest remix chain above it: 0 for an original")
    ancestors: list[LineageNodePublic]
    remixes: list[str] = Field(description="visible direct remixes (asset ids), newest first")
