"""Other domains' events for the consent and opt-out suites, built from the published contracts."""

from __future__ import annotations

from typing import Any

from pydantic import create_model

from core.events import SYSTEM_ACTOR, Actor, EventPayload, stream_id
from core.services import Services
from tests.utils import contract_events as ce


def foreign(type_name: str, category: str, **fields: Any) -> EventPayload:
    """A hand-made event that breaks its contract on purpose (a field missing), for tests of
    what a consumer does with one; every other test builds events with :func:`emit`."""
    model = create_model(  # type: ignore[call-overload]
        f"Handmade{type_name}",
        __base__=EventPayload,
        **{name: (type(value), ...) for name, value in fields.items()},
    )
    model.event_type_name, model.category = type_name, category
    payload: EventPayload = model(**fields)
    return payload


def emit(
    services: Services,
    category: str,
    key: str,
    type_name: str,
    actor: Actor = SYSTEM_ACTOR,
    **fields: Any,
) -> None:
    """Append the contract event ``type_name`` (``fields`` over the builder's defaults)."""
    payload = ce.build(type_name, **fields)
    assert payload.category == category, f"{type_name} is written on {payload.category} streams"
    services.store.append(stream_id(category, key), [payload], expected_version=None, actor=actor)


def generation_flow(
    services: Services,
    generation_id: str,
    requester: str,
    cameo_ids: list[str],
    *,
    publish_asset: str | None = None,
    prompt: str = "a video",
) -> None:
    """What the gate, the generator and provenance append for a request using cameos."""
    ce.append(
        services,
        ce.generation_requested(generation_id, requester, prompt, cameo_ids=cameo_ids),
        actor=Actor(id=requester, role="user"),
    )
    ce.append(
        services, ce.generation_approved(generation_id, requester, prompt, cameo_ids=cameo_ids)
    )
    if publish_asset:
        ce.append(
            services,
            ce.asset_signed(generation_id, publish_asset, requester),
            ce.asset_published(generation_id, publish_asset, tier="free"),
        )
