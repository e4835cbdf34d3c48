"""The follow graph (stream ``feed-follows.<follower_id>``, written by the feed only).

The consent ledger reads it for cameos shared with mutual follows.
"""

from __future__ import annotations

from core.events import EventPayload, event_type

FEED = "feed"


@event_type("UserFollowed", category=FEED)
class UserFollowed(EventPayload):
    follower_id: str
    followee_id: str


@event_type("UserUnfollowed", category=FEED)
class UserUnfollowed(EventPayload):
    follower_id: str
    followee_id: str
