"""Typed failures of the feed, with stable machine codes."""

from __future__ import annotations

from core.errors import Conflict, NotFound, ValidationFailed


class InvalidFeedQuery(ValidationFailed):
    code = "invalid_feed_query"


class UnknownAsset(NotFound):
    code = "unknown_asset"


class InvalidFollow(ValidationFailed):
    code = "invalid_follow"


class AlreadyFollowing(Conflict):
    code = "already_following"


class AlreadyFeatured(Conflict):
    code = "already_featured"


class FeaturedPolicyFailed(Conflict):
    """The asset's output-moderation scores do not pass the Featured policy."""

    code = "featured_policy_failed"
