"""A blocked output under human review, as other domains see it.

Output moderation's ``block`` (``contracts.generation.OutputModerated``) is an automated
decision its requester may contest (DSA Art. 20). When a reviewer reverses it, the cases
domain appends :class:`OutputReleased` on the same ``output-<generation_id>`` stream, after
the decision it overrides: provenance signs and publishes a released output as it does an
``allow``, and the assets domain lifts the output hold. A block that is upheld stays as it is.
"""

from __future__ import annotations

from contracts.generation import OUTPUT
from core.events import EventPayload, event_type


def output_asset_id(generation_id: str) -> str:
    """The id of the asset a generation's output becomes once signed; an action on a blocked
    output names it before it exists, so the asset's history holds the block."""
    return f"asset-{generation_id}"


@event_type("OutputReleased", category=OUTPUT)
class OutputReleased(EventPayload):
    """A person reviewed a blocked output and released it: it takes the path of an allowed one."""

    generation_id: str
    action_id: str  # the block's enforcement action, reversed in the same commit
    appeal_id: str | None = None
    released_by: str
    reason: str
