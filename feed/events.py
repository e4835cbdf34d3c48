"""The feed's own events: follows and operator curation.

Streams: ``feed-follows.<follower_id>`` (one person's follow graph, in order) and
``feed-curation.<asset_id>`` (an asset's featuring history).
"""

from __future__ import annotations

from pydantic import Field

from contracts.feed import FEED
from core.events import EventPayload, event_type


@event_type("AssetFeatured", category=FEED)
class AssetFeatured(EventPayload):
    asset_id: str
    curator_id: str
    note: str | None = Field(default=None, max_length=500)
    # the Featured policy the asset's scores passed (None on events written before it existed)
    policy_version: str | None = None


@event_type("AssetUnfeatured", category=FEED)
class AssetUnfeatured(EventPayload):
    asset_id: str
    curator_id: str
