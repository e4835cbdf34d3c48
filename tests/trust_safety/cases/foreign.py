"""Stand-ins for other domains' events, appended by type name like the real ones.

The cases domain and the feed consume ``AssetPublished`` and friends by name and payload only.
These classes are deliberately *not* registered in the event registry, so they can never shadow
the generation domain's real declarations when both are imported in one test session.
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict

from core.events import SYSTEM_ACTOR, EventPayload, stream_id
from core.services import Services


class _Foreign(EventPayload):
    model_config = ConfigDict(frozen=True, extra="allow")


def foreign(type_name: str, category: str, **fields: Any) -> EventPayload:
    cls = type(
        type_name,
        (_Foreign,),
        {"event_type_name": type_name, "category": category, "schema_version": 1},
    )
    payload: EventPayload = cls(**fields)
    return payload


def publish(services: Services, asset_id: str, owner_id: str, remix_of: str | None = None) -> None:
    services.store.append(
        stream_id("generation", asset_id),
        [
            foreign(
                "AssetPublished",
                "generation",
                asset_id=asset_id,
                owner_id=owner_id,
                remix_of=remix_of,
            )
        ],
        expected_version=None,
        actor=SYSTEM_ACTOR,
    )


def pipeline_remove(services: Services, asset_id: str, restore: bool = False) -> None:
    services.store.append(
        stream_id("generation", asset_id),
        [foreign("AssetRestored" if restore else "AssetRemoved", "generation", asset_id=asset_id)],
        expected_version=None,
        actor=SYSTEM_ACTOR,
    )
