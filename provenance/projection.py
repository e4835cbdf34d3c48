"""``provenance-assets``: signed assets by generation and by watermark serial, with their
visibility as the assets domain published it."""

from __future__ import annotations

from typing import ClassVar

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from contracts.assets import AssetVisibilityChanged, Visibility
from contracts.generation import AssetPublished, AssetSigned
from core.events import RecordedEvent
from core.projections import Projection, handles
from provenance.models import ProvAsset, ProvVisibility


class ProvenanceAssets(Projection):
    name = "provenance-assets"
    categories = ("provenance", "generation", "asset")
    tables: ClassVar[tuple[Table, ...]] = (  # type: ignore[assignment]
        ProvAsset.__table__,
        ProvVisibility.__table__,
    )

    @handles(AssetSigned)
    def _signed(self, s: Session, event: RecordedEvent) -> None:
        signed: AssetSigned = event.payload_as(AssetSigned)
        row = s.get(ProvAsset, signed.asset_id)
        if row is None:
            row = ProvAsset(asset_id=signed.asset_id, removed=False)
            s.add(row)
        row.generation_id = signed.generation_id
        row.requester_id = signed.requester_id
        row.serial = signed.watermark_serial
        row.tier = signed.tier
        row.blob_address = signed.blob_address
        row.download_blob_address = signed.download_blob_address
        row.manifest_id = signed.manifest_id
        row.bytes = signed.bytes
        row.signed_at = event.occurred_at
        # the visibility may have been decided before the signing (another stream)
        visibility = s.get(ProvVisibility, signed.generation_id)
        row.removed = visibility is not None and visibility.visibility == Visibility.REMOVED

    @handles(AssetPublished)
    def _published(self, s: Session, event: RecordedEvent) -> None:
        row = s.get(ProvAsset, event.payload_as(AssetPublished).asset_id)
        if row is not None:
            row.published_at = event.occurred_at

    @handles(AssetVisibilityChanged)
    def _visibility(self, s: Session, event: RecordedEvent) -> None:
        fact: AssetVisibilityChanged = event.payload_as(AssetVisibilityChanged)
        visibility = s.get(ProvVisibility, fact.generation_id)
        if visibility is None:
            visibility = ProvVisibility(generation_id=fact.generation_id)
            s.add(visibility)
        visibility.visibility = fact.visibility.value
        for row in s.scalars(
            select(ProvAsset).where(ProvAsset.generation_id == fact.generation_id)
        ):
            row.removed = fact.removed
