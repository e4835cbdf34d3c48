"""Registration of the feed with the core (its own ``clearframe.modules`` entry point)."""

from __future__ import annotations

from core.modules import Domain, Module


def load() -> Module:
    from contracts.featured import FEATURED_POLICY
    from contracts.ports import FOLLOW_GRAPH
    from feed.projection import FeedProjection
    from feed.public import FollowGraphReadModel
    from feed.router import router

    return Module(
        name="feed",
        routers=[router],
        projections={"feed": lambda services: FeedProjection()},
        model_modules=["feed.models", "feed.events"],
        provides={FOLLOW_GRAPH: FollowGraphReadModel},
        # featuring is held to the Featured policy, which the moderating domain applies
        requires=[FEATURED_POLICY],
    )


module = Domain(name="feed", load=load)
