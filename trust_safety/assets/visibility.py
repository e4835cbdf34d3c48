"""The asset directory projection and the processor that turns removal reasons into holds."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.events import RecordedEvent, stream_id
from core.projections import Append, Processor, Projection, handles
from trust_safety.assets.events import AssetRemoved, AssetRestored
from trust_safety.assets.models import AssetDirectoryRow

# Enforcement kinds that take an asset down (labels and age gates only change how it shows).
REMOVAL_KINDS = frozenset({"remove_asset"})


class AssetNotYetKnown(RuntimeError):
    """An enforcement action names an asset the directory has not seen yet (it lags)."""


class AssetDirectory(Projection):
    name = "asset-directory"
    categories = ("generation",)
    tables = (AssetDirectoryRow.__table__,)  # type: ignore[assignment]

    @handles("AssetSigned")
    def _signed(self, session: Session, event: RecordedEvent) -> None:
        asset_id = str(event.payload["asset_id"])
        if session.get(AssetDirectoryRow, asset_id) is None:
            session.add(
                AssetDirectoryRow(
                    asset_id=asset_id, generation_id=str(event.payload["generation_id"])
                )
            )


class AssetVisibility(Processor):
    name = "asset-visibility"
    categories = ("enforcement", "consent")
    # the directory may lag the enforcement decision by a projection cycle: wait for it
    max_attempts: ClassVar[int] = 8

    def __init__(self, services: Any) -> None:
        self.services = services

    def _generation_of(self, asset_id: str) -> str:
        with self.services.read_sessions() as s:
            generation_id = s.scalar(
                select(AssetDirectoryRow.generation_id).where(
                    AssetDirectoryRow.asset_id == asset_id
                )
            )
        if generation_id is None:
            raise AssetNotYetKnown(f"asset {asset_id} is not in the asset directory yet")
        return str(generation_id)

    def _asset_of(self, generation_id: str) -> str | None:
        with self.services.read_sessions() as s:
            return s.scalar(
                select(AssetDirectoryRow.asset_id).where(
                    AssetDirectoryRow.generation_id == generation_id
                )
            )

    def handle(self, event: RecordedEvent) -> Sequence[Append]:
        p = event.payload
        if event.type in ("EnforcementActionTaken", "EnforcementReversed"):
            if p.get("target_kind") != "asset" or p.get("kind") not in REMOVAL_KINDS:
                return []
            asset_id = str(p["target_id"])
            generation_id = self._generation_of(asset_id)
            taken = event.type == "EnforcementActionTaken"
            fact_class = AssetRemoved if taken else AssetRestored
            reason = (
                f"enforcement: {p.get('statement_category') or p.get('kind')}"
                if taken
                else f"enforcement reversed: {p.get('reason', '')}"
            )
            fact = fact_class(
                generation_id=generation_id,
                asset_id=asset_id,
                hold=str(p["action_id"]),
                reason=reason[:500],
                source_event_id=str(event.event_id),
            )
            return [Append(stream_id("generation", generation_id), [fact])]
        if event.type == "CameoAppearanceRemoved":
            generation_id = str(p["generation_id"])
            removed = AssetRemoved(
                generation_id=generation_id,
                asset_id=self._asset_of(generation_id),
                hold=f"cameo:{p.get('cameo_id') or event.stream_key}",
                reason=str(p.get("reason") or "the cameo's owner removed this appearance")[:500],
                source_event_id=str(event.event_id),
            )
            return [Append(stream_id("generation", generation_id), [removed])]
        return []
