"""Other domains' events, appended by type name as the real ones are (not registered)."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict

from core.events import SYSTEM_ACTOR, Actor, EventPayload, stream_id
from core.services import Services


class _Foreign(EventPayload):
    model_config = ConfigDict(frozen=True, extra="allow")


def foreign(type_name: str, category: str, **fields: Any) -> EventPayload:
    cls = type(
        f"Foreign{type_name}",
        (_Foreign,),
        {"event_type_name": type_name, "category": category, "schema_version": 1},
    )
    payload: EventPayload = cls(**fields)
    return payload


def emit(
    services: Services,
    category: str,
    key: str,
    type_name: str,
    actor: Actor = SYSTEM_ACTOR,
    **fields: Any,
) -> None:
    services.store.append(
        stream_id(category, key),
        [foreign(type_name, category, **fields)],
        expected_version=None,
        actor=actor,
    )


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
    user = Actor(id=requester, role="user")
    emit(
        services,
        "generation",
        generation_id,
        "GenerationRequested",
        user,
        generation_id=generation_id,
        requester_id=requester,
        prompt=prompt,
        cameo_ids=cameo_ids,
    )
    emit(
        services,
        "generation",
        generation_id,
        "GenerationApproved",
        generation_id=generation_id,
        cameo_ids=cameo_ids,
    )
    if publish_asset:
        emit(
            services,
            "generation",
            generation_id,
            "AssetPublished",
            generation_id=generation_id,
            asset_id=publish_asset,
            download_blob_address="blob://x",
            tier="free",
        )
