"""Other domains' events for the cases and feed suites, built from the published contracts."""

from __future__ import annotations

from typing import Any

from core.services import Services
from tests.utils import contract_events as ce


def generation_of(asset_id: str) -> str:
    return f"gen-{asset_id}"


def publish(
    services: Services,
    asset_id: str,
    owner_id: str,
    remix_of: str | None = None,
    **signed: Any,
) -> None:
    """Sign and publish an asset as the provenance domain does (``AssetSigned`` carries the
    requester and the remix parents as generation ids, ``AssetPublished`` follows);
    ``signed`` overrides AssetSigned's fields (a real ``blob_address``, say)."""
    generation_id = generation_of(asset_id)
    parents = [generation_of(remix_of)] if remix_of else []
    ce.append(
        services,
        ce.asset_signed(generation_id, asset_id, owner_id, parents, **signed),
        ce.asset_published(generation_id, asset_id),
    )


def enforce_removal(services: Services, asset_id: str, restore: bool = False) -> None:
    """A moderator removes the asset (``restore``: the removal is reversed, as after an appeal
    upheld); the asset-visibility processor turns either into the asset's visibility."""
    action = ce.action_taken(
        f"act-rm-{asset_id}",
        "remove_asset",
        asset_id,
        generation_id=generation_of(asset_id),
    )
    ce.append(services, ce.reversed_(action) if restore else action)
