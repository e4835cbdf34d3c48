"""The generation gate's events for the generator suites, built from the published contracts,
the processors a render passes through, and a classifier whose scores a test chooses."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from contracts.generation import generation_history
from core.events import SYSTEM_ACTOR, Actor, RecordedEvent
from core.services import Services
from tests.utils import contract_events as ce
from trust_safety.output.classifiers import SEXUAL, FrameScores

# From an approved request to a signed, downloadable asset.
PIPELINE = [
    "generator",
    "output-moderation",
    "provenance-signing",
    "generation-jobs",
    "provenance-assets",
]


class ScriptedSexual:
    """Scores every frame the same for sexual content (the output classifier protocol)."""

    name = "scripted"
    categories = (SEXUAL,)

    def __init__(self, score: float) -> None:
        self.score = score

    def classify(self, frames: Sequence[np.ndarray]) -> list[FrameScores]:
        return [FrameScores({SEXUAL: self.score}) for _ in frames]


def request_and_approve(
    services: Services, generation_id: str, requester: str, prompt: str, **params: Any
) -> None:
    """What the generation gate appends for an approved request."""
    approval = {k: v for k, v in params.items() if k in ("cameo_ids", "remix_of")}
    ce.append(
        services,
        ce.generation_requested(generation_id, requester, prompt, **params),
        actor=Actor(id=requester, role="user"),
    )
    ce.append(
        services,
        ce.generation_approved(generation_id, requester, prompt, **approval),
        actor=SYSTEM_ACTOR,
    )


def stream_types(services: Services, generation_id: str) -> list[str]:
    """The types of every event of the generation, on all its streams, in store order."""
    return [e.type for e in generation_history(services.store, generation_id)]


def last(services: Services, generation_id: str, event_type: str) -> RecordedEvent:
    events = [e for e in generation_history(services.store, generation_id) if e.type == event_type]
    assert events, f"no {event_type} in the streams of generation {generation_id}"
    return events[-1]
