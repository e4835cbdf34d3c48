"""The ConsentLedger projection: cameos, grants, history and appearances.

It reads ``consent`` (its own events), ``generation`` (which videos use which cameos:
requested, approved, published), ``render`` (a generation that failed for good: its
appearances show ``failed``, never a draft that will not come) and ``asset`` (whether each video is removed, as the assets
domain decided it), the foreign ones through their contract classes. Follows are not copied
here: the mutual-follows audience asks the feed's ``follow_graph`` port when it decides. Handlers take every time from the event, so a replay
rebuilds the same tables.
"""

from __future__ import annotations

from typing import ClassVar

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from contracts.assets import AssetVisibilityChanged, HoldKind
from contracts.generation import (
    AssetPublished,
    GenerationApproved,
    GenerationFailed,
    GenerationRequested,
)
from core.events import RecordedEvent
from core.projections import Projection, handles
from trust_safety.consent.facts import (
    AppearanceStatus,
    CameoAppearanceRecorded,
    CameoAppearanceRemoved,
    CameoAppearanceVisibility,
    CameoAudienceChanged,
    CameoConsentGranted,
    CameoConsentRevoked,
    CameoEnrolled,
    CameoFact,
    CameoLivenessRecorded,
    CameoPublicFigureLinked,
    CameoRegistered,
    CameoRetired,
    CameoTemplateDestroyed,
)
from trust_safety.consent.ledger import RecordedFact, apply
from trust_safety.consent.models import (
    CameoAppearanceRow,
    CameoHistoryRow,
    CameoPersonRow,
    CameoRow,
    ConsentGenerationRow,
)
from trust_safety.consent.store import history_length, load_record, save_record

CONSENT_EVENTS = (
    CameoRegistered,
    CameoLivenessRecorded,
    CameoEnrolled,
    CameoTemplateDestroyed,
    CameoAudienceChanged,
    CameoConsentGranted,
    CameoConsentRevoked,
    CameoPublicFigureLinked,
    CameoRetired,
    CameoAppearanceRemoved,
)


def _ids(values: list[str]) -> list[str]:
    return [v for v in dict.fromkeys(values) if v]


def _generation(s: Session, generation_id: str) -> ConsentGenerationRow:
    row = s.get(ConsentGenerationRow, generation_id)
    if row is None:
        # The asset stream may be heard before the generation stream: the row waits for it.
        row = ConsentGenerationRow(generation_id=generation_id, cameo_ids=[], removed=False)
        s.add(row)
    return row


def _appearances_recorded(s: Session, generation_id: str) -> bool:
    """Whether the approval was applied: it records the generation's appearances (as drafts)."""
    s.flush()
    return (
        s.scalar(
            select(CameoAppearanceRow.cameo_id)
            .where(CameoAppearanceRow.generation_id == generation_id)
            .limit(1)
        )
        is not None
    )


class ConsentLedger(Projection):
    name = "consent-ledger"
    categories = ("consent", "generation", "render", "provenance", "asset")
    tables: ClassVar[tuple[Table, ...]] = (  # type: ignore[assignment]
        CameoRow.__table__,
        CameoPersonRow.__table__,
        CameoHistoryRow.__table__,
        CameoAppearanceRow.__table__,
        ConsentGenerationRow.__table__,
    )

    def _fold(self, s: Session, cameo_id: str, recorded: RecordedFact) -> None:
        # Loaded without its history: what ``apply`` appends is exactly what is new.
        record = load_record(s, cameo_id, history=False, appearances=True)
        stored = history_length(s, cameo_id) if record is not None else 0
        save_record(s, apply(record, recorded), first_new_seq=stored)

    @handles(*CONSENT_EVENTS)
    def _consent(self, s: Session, event: RecordedEvent) -> None:
        fact: CameoFact = event.decode()  # type: ignore[assignment]
        if isinstance(fact, CameoAppearanceRemoved) and s.get(CameoRow, fact.cameo_id) is None:
            return
        self._fold(s, fact.cameo_id, RecordedFact(fact, event.occurred_at, event.actor.id))

    @handles(GenerationRequested)
    def _requested(self, s: Session, event: RecordedEvent) -> None:
        requested: GenerationRequested = event.payload_as(GenerationRequested)
        row = _generation(s, requested.generation_id)
        row.requester_id = requested.requester_id
        row.cameo_ids = _ids(requested.cameo_ids)

    @handles(GenerationApproved)
    def _approved(self, s: Session, event: RecordedEvent) -> None:
        approved: GenerationApproved = event.payload_as(GenerationApproved)
        row = _generation(s, approved.generation_id)
        row.requester_id = row.requester_id or approved.requester_id
        row.cameo_ids = _ids(approved.cameo_ids)  # the approval's list wins over the request's
        self._record_appearances(s, event, row, AppearanceStatus.DRAFT)
        if row.failure_reason is not None:
            # the failure (another stream, another topic) was heard first
            self._record_appearances(s, event, row, AppearanceStatus.FAILED)
        if row.asset_id is not None:
            # the publication (another stream, another topic) was heard first
            self._record_appearances(s, event, row, AppearanceStatus.PUBLISHED)

    @handles(AssetPublished)
    def _published(self, s: Session, event: RecordedEvent) -> None:
        published: AssetPublished = event.payload_as(AssetPublished)
        row = _generation(s, published.generation_id)
        row.asset_id = published.asset_id  # also the mark that the publication was heard
        if not _appearances_recorded(s, published.generation_id):
            # the approval (another stream, another topic) is not heard yet: it records the
            # appearances, published, when it arrives
            return
        self._record_appearances(s, event, row, AppearanceStatus.PUBLISHED)

    @handles(GenerationFailed)
    def _failed(self, s: Session, event: RecordedEvent) -> None:
        failed: GenerationFailed = event.payload_as(GenerationFailed)
        row = _generation(s, failed.generation_id)
        row.failure_reason = failed.reason
        if row.requester_id is None or not _appearances_recorded(s, failed.generation_id):
            return  # the approval records them, failed, when it arrives
        self._record_appearances(s, event, row, AppearanceStatus.FAILED)

    def _record_appearances(
        self, s: Session, event: RecordedEvent, row: ConsentGenerationRow, status: AppearanceStatus
    ) -> None:
        assert row.requester_id is not None
        for cameo_id in row.cameo_ids:
            if s.get(CameoRow, cameo_id) is None:
                continue
            fact = CameoAppearanceRecorded(
                cameo_id=cameo_id,
                generation_id=row.generation_id,
                creator_id=row.requester_id,
                status=status,
                asset_id=row.asset_id,
            )
            self._fold(s, cameo_id, RecordedFact(fact, event.occurred_at, event.actor.id))
            if row.removed:
                # removed before the ledger heard of the appearance (another stream)
                self._fold_visibility(s, event, cameo_id, row)

    def _fold_visibility(
        self, s: Session, event: RecordedEvent, cameo_id: str, row: ConsentGenerationRow
    ) -> None:
        fact = CameoAppearanceVisibility(
            cameo_id=cameo_id,
            generation_id=row.generation_id,
            removed=row.removed,
            reason=row.removed_reason or "",
        )
        self._fold(s, cameo_id, RecordedFact(fact, event.occurred_at, event.actor.id))

    @handles(AssetVisibilityChanged)
    def _visibility(self, s: Session, event: RecordedEvent) -> None:
        visibility: AssetVisibilityChanged = event.payload_as(AssetVisibilityChanged)
        row = _generation(s, visibility.generation_id)
        row.removed = visibility.removed
        removing = [h.reason for h in visibility.holds if h.kind is HoldKind.REMOVED]
        row.removed_reason = (removing[0] or "asset removed")[:500] if removing else None
        s.flush()
        cameos = s.scalars(
            select(CameoAppearanceRow.cameo_id).where(
                CameoAppearanceRow.generation_id == visibility.generation_id
            )
        ).all()
        for cameo_id in sorted(cameos):
            self._fold_visibility(s, event, cameo_id, row)
