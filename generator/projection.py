"""``generation-jobs``: the state of each generation job, for the status and download routes."""

from __future__ import annotations

from typing import ClassVar

from sqlalchemy import Table
from sqlalchemy.orm import Session

from core.events import RecordedEvent
from core.projections import Projection, handles
from generator.jobs import generation_id_of
from generator.models import GenerationJobRow

_TERMINAL_STATUSES = frozenset({"failed", "blocked", "published"})


class GenerationJobs(Projection):
    name = "generation-jobs"
    categories = ("generation",)
    tables: ClassVar[tuple[Table, ...]] = (GenerationJobRow.__table__,)  # type: ignore[assignment]

    def _row(self, s: Session, event: RecordedEvent) -> GenerationJobRow:
        gid = generation_id_of(event)
        row = s.get(GenerationJobRow, gid)
        if row is None:
            row = GenerationJobRow(
                generation_id=gid,
                status="requested",
                failures=0,
                blocked_categories=[],
                published=False,
                removed=False,
                removal_holds={},
                updated_at=event.occurred_at,
            )
            s.add(row)
        row.updated_at = event.occurred_at
        return row

    @handles("GenerationRequested")
    def _requested(self, s: Session, event: RecordedEvent) -> None:
        row = self._row(s, event)
        p = event.payload
        row.requester_id = str(p.get("requester_id") or p.get("account_id") or event.actor.id)
        tier = str(p.get("tier") or p.get("plan") or "free").lower()
        row.tier = "paid" if tier in ("paid", "pro", "plus", "premium") else "free"

    @handles("GenerationApproved")
    def _approved(self, s: Session, event: RecordedEvent) -> None:
        self._row(s, event).status = "approved"

    @handles("GenerationRefused")
    def _refused(self, s: Session, event: RecordedEvent) -> None:
        self._row(s, event).status = "refused"

    @handles("GenerationStarted")
    def _started(self, s: Session, event: RecordedEvent) -> None:
        row = self._row(s, event)
        if row.status not in _TERMINAL_STATUSES:
            row.status = "started"
        row.backend = event.payload.get("backend")
        row.model_id = event.payload.get("model_id")

    @handles("GenerationFailed")
    def _failed(self, s: Session, event: RecordedEvent) -> None:
        row = self._row(s, event)
        row.status = "failed"
        row.failures += 1
        row.failure_reason = event.payload.get("reason")
        row.failure_error = event.payload.get("error")

    @handles("GenerationCompleted")
    def _completed(self, s: Session, event: RecordedEvent) -> None:
        row = self._row(s, event)
        row.status = "completed"
        row.master_blob = event.payload.get("master_blob")

    @handles("OutputModerated")
    def _moderated(self, s: Session, event: RecordedEvent) -> None:
        row = self._row(s, event)
        blocked = event.payload.get("decision") == "block"
        row.status = "blocked" if blocked else "moderated"
        row.blocked_categories = list(event.payload.get("blocked_categories") or [])

    @handles("AssetSigned")
    def _signed(self, s: Session, event: RecordedEvent) -> None:
        row = self._row(s, event)
        row.status = "signed"
        row.asset_id = event.payload.get("asset_id")
        row.download_blob = event.payload.get("download_blob_address")

    @handles("AssetPublished")
    def _published(self, s: Session, event: RecordedEvent) -> None:
        row = self._row(s, event)
        row.status = "published"
        row.published = True
        row.download_blob = event.payload.get("download_blob_address") or row.download_blob

    # An asset stays down while any hold remains (an enforcement action, a cameo removal):
    # lifting one hold must not bring back what another still removes.
    @handles("AssetRemoved")
    def _removed(self, s: Session, event: RecordedEvent) -> None:
        row = self._row(s, event)
        hold = str(event.payload.get("hold") or "pipeline")
        row.removal_holds = {**(row.removal_holds or {}), hold: str(event.payload.get("reason", ""))}
        row.removed = True

    @handles("AssetRestored")
    def _restored(self, s: Session, event: RecordedEvent) -> None:
        row = self._row(s, event)
        hold = str(event.payload.get("hold") or "pipeline")
        row.removal_holds = {k: v for k, v in (row.removal_holds or {}).items() if k != hold}
        row.removed = bool(row.removal_holds)
