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


def generation_of(asset_id: str) -> str:
    return f"gen-{asset_id}"


def publish(services: Services, asset_id: str, owner_id: str, remix_of: str | None = None) -> None:
    """Sign and publish an asset as the provenance domain does (``AssetSigned`` carries the
    requester and the remix parents as generation ids, ``AssetPublished`` follows)."""
    generation_id = generation_of(asset_id)
    services.store.append(
        stream_id("generation", generation_id),
        [
            foreign(
                "AssetSigned",
                "generation",
                generation_id=generation_id,
                asset_id=asset_id,
                requester_id=owner_id,
                remix_parents=[generation_of(remix_of)] if remix_of else [],
            ),
            foreign(
                "AssetPublished",
                "generation",
                generation_id=generation_id,
                asset_id=asset_id,
                download_blob_address="0" * 64,
                tier="paid",
            ),
        ],
        expected_version=None,
        actor=SYSTEM_ACTOR,
    )


def pipeline_remove(services: Services, asset_id: str, restore: bool = False) -> None:
    services.store.append(
        stream_id("generation", generation_of(asset_id)),
        [
            foreign(
                "AssetRestored" if restore else "AssetRemoved",
                "generation",
                generation_id=generation_of(asset_id),
                asset_id=asset_id,
            )
        ],
        expected_version=None,
        actor=SYSTEM_ACTOR,
    )
