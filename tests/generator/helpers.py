"""The generation gate's events as they are stored, appended by type name with loose payloads.

The generator reads ``GenerationRequested`` / ``GenerationApproved`` by type name and payload
fields (domains meet through events), so the tests write exactly that.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import ConfigDict

from core.events import SYSTEM_ACTOR, Actor, EventPayload, RecordedEvent, stream_id
from core.services import Services


class _Loose(EventPayload):
    model_config = ConfigDict(frozen=True, extra="allow")


_CLASSES: dict[str, type[EventPayload]] = {}


def foreign(name: str, category: str = "generation", /, **fields: Any) -> EventPayload:
    cls = _CLASSES.get(name)
    if cls is None:
        attrs: dict[str, Any] = {
            "__annotations__": {"event_type_name": ClassVar[str], "category": ClassVar[str]},
            "event_type_name": name,
            "category": category,
        }
        cls = type(f"Gate{name}", (_Loose,), attrs)
        _CLASSES[name] = cls
    return cls(**fields)


def request_and_approve(
    services: Services, generation_id: str, requester: str, prompt: str, **params: Any
) -> None:
    """What the generation gate appends for an approved request."""
    sid = stream_id("generation", generation_id)
    user = Actor(id=requester, role="user")
    services.store.append(
        sid,
        [
            foreign(
                "GenerationRequested",
                generation_id=generation_id,
                requester_id=requester,
                prompt=prompt,
                **params,
            )
        ],
        expected_version=None,
        actor=user,
    )
    approval = {k: v for k, v in params.items() if k == "cameo_ids"}
    services.store.append(
        sid,
        [foreign("GenerationApproved", generation_id=generation_id, **approval)],
        expected_version=None,
        actor=SYSTEM_ACTOR,
    )


def stream_types(services: Services, generation_id: str) -> list[str]:
    return [e.type for e in services.store.read_stream(stream_id("generation", generation_id))]


def last(services: Services, generation_id: str, event_type: str) -> RecordedEvent:
    events = [
        e
        for e in services.store.read_stream(stream_id("generation", generation_id))
        if e.type == event_type
    ]
    assert events, f"no {event_type} in generation-{generation_id}"
    return events[-1]
