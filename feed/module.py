"""Registration of the feed with the core.

Until ``feed`` has its own ``clearframe.modules`` entry point, ``trust_safety.module`` carries
these parts (see :func:`embedded_parts`); once the entry point exists they are registered here
only, never twice.
"""

from __future__ import annotations

from importlib.metadata import entry_points

from core.modules import Module
from feed.projection import FeedProjection
from feed.router import router

module = Module(
    name="feed",
    routers=[router],
    projections={"feed": lambda services: FeedProjection()},
    model_modules=["feed.models", "feed.events"],
)


def has_own_entry_point() -> bool:
    return any(ep.name == "feed" for ep in entry_points(group="clearframe.modules"))


def embedded_parts() -> Module:
    """The feed's parts for a host module, or nothing once the feed registers itself."""
    return Module(name="feed-embedded") if has_own_entry_point() else module
