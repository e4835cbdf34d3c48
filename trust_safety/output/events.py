"""The event output moderation appends to the generation stream."""

from __future__ import annotations

from typing import Any, Literal

from core.events import EventPayload, event_type


@event_type("OutputModerated", category="generation")
class OutputModerated(EventPayload):
    """The decision on a generated video, with the per-frame scores behind it. A ``block``
    means the output is never signed, published or shown to its requester."""

    generation_id: str
    decision: Literal["allow", "block"]
    policy_version: str
    blocked_categories: list[str]
    # Per category: status (evaluated / not_evaluated), outcome, max score, threshold,
    # classifiers that evaluated it, reason.
    verdicts: list[dict[str, Any]]
    # Per sampled frame (2 fps): index, time_s, scores {classifier: {category: score}}.
    frame_scores: list[dict[str, Any]]
    classifiers: list[str]
    master_blob: str
