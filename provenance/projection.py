"""``provenance-assets``: signed assets by generation and by watermark serial."""

from __future__ import annotations

from typing import ClassVar

from sqlalchemy import Table
from sqlalchemy.orm import Session

from core.events import RecordedEvent
from core.projections import Projection, handles
from provenance.models import ProvAsset


class ProvenanceAssets(Projection):
    name = "provenance-assets"
    categories = ("generation",)
    tables: ClassVar[tuple[Table, ...]] = (ProvAsset.__table__,)  # type: ignore[assignment]

    @handles("AssetSigned")
    def _signed(self, s: Session, event: RecordedEvent) -> None:
        p = event.payload
        row = s.get(ProvAsset, p["asset_id"])
        if row is None:
            row = ProvAsset(asset_id=p["asset_id"], removed=False)
            s.add(row)
        row.generation_id = p["generation_id"]
        row.requester_id = p.get("requester_id")
        row.serial = p["watermark_serial"]
        row.tier = p["tier"]
        row.blob_address = p["blob_address"]
        row.download_blob_address = p["download_blob_address"]
        row.manifest_id = p["manifest_id"]
        row.bytes = int(p["bytes"])
        row.signed_at = event.occurred_at

    @handles("AssetPublished")
    def _published(self, s: Session, event: RecordedEvent) -> None:
        row = s.get(ProvAsset, event.payload["asset_id"])
        if row is not None:
            row.published_at = event.occurred_at

    @handles("AssetRemoved", "AssetRestored")
    def _removal(self, s: Session, event: RecordedEvent) -> None:
        asset_id = event.payload.get("asset_id")
        row = s.get(ProvAsset, asset_id) if asset_id else None
        if row is not None:
            row.removed = event.type == "AssetRemoved"
