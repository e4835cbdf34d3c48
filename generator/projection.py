"""``generation-jobs``: the state of each generation job, for the status and download routes.

It reads the gate's generation stream, the generator's render stream, output moderation's and
provenance's streams and the asset stream through their contracts; whether the video may be
downloaded is the asset's visibility as the assets domain decided it. The streams are ordered
only within themselves, so the status is the furthest stage seen (``contracts.generation
.FurthestStage``): an earlier stage heard late fills its fields but never moves the status back.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from sqlalchemy import Table
from sqlalchemy.orm import Session

from contracts.assets import AssetVisibilityChanged, Visibility
from contracts.generation import (
    AssetPublished,
    AssetSigned,
    FurthestStage,
    GenerationApproved,
    GenerationCompleted,
    GenerationFailed,
    GenerationRefused,
    GenerationRequested,
    GenerationStarted,
    OutputModerated,
)
from core.db import utc as _utc
from core.events import RecordedEvent
from core.projections import Projection, handles
from generator.models import GenerationJobRow

_STATUS = FurthestStage(
    {
        "requested": "GenerationRequested",
        "approved": "GenerationApproved",
        "refused": "GenerationRefused",
        "started": "GenerationStarted",
        "completed": "GenerationCompleted",
        "failed": "GenerationFailed",
        "moderated": "OutputModerated",
        "blocked": "OutputModerated",
        "signed": "AssetSigned",
        "published": "AssetPublished",
    }
)


class GenerationJobs(Projection):
    name = "generation-jobs"
    categories = ("generation", "render", "output", "provenance", "asset")
    tables: ClassVar[tuple[Table, ...]] = (GenerationJobRow.__table__,)  # type: ignore[assignment]

    def _row(
        self, s: Session, generation_id: str, at: datetime, *, touch: bool = True
    ) -> GenerationJobRow:
        row = s.get(GenerationJobRow, generation_id)
        if row is None:
            row = GenerationJobRow(
                generation_id=generation_id,
                status="requested",
                failures=0,
                blocked_categories=[],
                published=False,
                removed=False,
                visibility=Visibility.VISIBLE.value,
                updated_at=at,
            )
            s.add(row)
        elif touch and _utc(at) > _utc(row.updated_at):
            # the latest event's time, whichever stream it was heard from last
            row.updated_at = at
        return row

    def _advance(
        self, s: Session, generation_id: str, event: RecordedEvent, status: str
    ) -> GenerationJobRow:
        row = self._row(s, generation_id, event.occurred_at)
        row.status = _STATUS.status(row.status, event.type, status)
        return row

    @handles(GenerationRequested)
    def _requested(self, s: Session, event: RecordedEvent) -> None:
        requested: GenerationRequested = event.payload_as(GenerationRequested)
        row = self._row(s, requested.generation_id, event.occurred_at)
        row.requester_id = requested.requester_id
        row.tier = requested.tier

    @handles(GenerationApproved)
    def _approved(self, s: Session, event: RecordedEvent) -> None:
        approved: GenerationApproved = event.payload_as(GenerationApproved)
        self._advance(s, approved.generation_id, event, "approved")

    @handles(GenerationRefused)
    def _refused(self, s: Session, event: RecordedEvent) -> None:
        refused: GenerationRefused = event.payload_as(GenerationRefused)
        self._advance(s, refused.generation_id, event, "refused")

    @handles(GenerationStarted)
    def _started(self, s: Session, event: RecordedEvent) -> None:
        started: GenerationStarted = event.payload_as(GenerationStarted)
        row = self._advance(s, started.generation_id, event, "started")
        row.backend = started.backend
        row.model_id = started.model_id

    @handles(GenerationFailed)
    def _failed(self, s: Session, event: RecordedEvent) -> None:
        failed: GenerationFailed = event.payload_as(GenerationFailed)
        row = self._advance(s, failed.generation_id, event, "failed")
        row.failures += 1
        row.failure_reason = failed.reason
        row.failure_error = failed.error

    @handles(GenerationCompleted)
    def _completed(self, s: Session, event: RecordedEvent) -> None:
        completed: GenerationCompleted = event.payload_as(GenerationCompleted)
        row = self._advance(s, completed.generation_id, event, "completed")
        row.master_blob = completed.master_blob

    @handles(OutputModerated)
    def _moderated(self, s: Session, event: RecordedEvent) -> None:
        moderated: OutputModerated = event.payload_as(OutputModerated)
        status = "blocked" if moderated.decision == "block" else "moderated"
        row = self._advance(s, moderated.generation_id, event, status)
        row.blocked_categories = list(moderated.blocked_categories)

    @handles(AssetSigned)
    def _signed(self, s: Session, event: RecordedEvent) -> None:
        signed: AssetSigned = event.payload_as(AssetSigned)
        row = self._advance(s, signed.generation_id, event, "signed")
        row.asset_id = signed.asset_id
        row.download_blob = signed.download_blob_address

    @handles(AssetPublished)
    def _published(self, s: Session, event: RecordedEvent) -> None:
        published: AssetPublished = event.payload_as(AssetPublished)
        row = self._advance(s, published.generation_id, event, "published")
        row.published = True
        row.download_blob = published.download_blob_address or row.download_blob

    @handles(AssetVisibilityChanged)
    def _visibility(self, s: Session, event: RecordedEvent) -> None:
        fact: AssetVisibilityChanged = event.payload_as(AssetVisibilityChanged)
        # The asset stream is not ordered with the generation stream: a visibility change leaves
        # ``updated_at`` to the job's own events, so a replay in another order agrees.
        row = self._row(s, fact.generation_id, event.occurred_at, touch=False)
        row.visibility = fact.visibility.value
        row.removed = fact.removed
