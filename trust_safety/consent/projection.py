"""The ConsentLedger projection: cameos, grants, history, appearances and the follow graph.

It reads three categories: ``consent`` (its own events), ``generation`` (which videos use
which cameos: requested, approved, published, removed) and ``feed`` (follows, for the
mutual-follows audience). Handlers take every time from the event, so a replay rebuilds the
same tables.
"""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import Table, delete, select
from sqlalchemy.orm import Session

from core.events import RecordedEvent
from core.projections import Projection, handles
from trust_safety.consent.facts import (
    AppearanceStatus,
    CameoAppearanceRecorded,
    CameoAppearanceRemoved,
    CameoFact,
)
from trust_safety.consent.ledger import RecordedFact, apply
from trust_safety.consent.models import (
    CameoAppearanceRow,
    CameoHistoryRow,
    CameoPersonRow,
    CameoRow,
    ConsentFollowRow,
    ConsentGenerationRow,
)
from trust_safety.consent.store import history_length, load_record, save_record

CONSENT_EVENTS = (
    "CameoRegistered",
    "CameoLivenessRecorded",
    "CameoAudienceChanged",
    "CameoConsentGranted",
    "CameoConsentRevoked",
    "CameoPublicFigureLinked",
    "CameoRetired",
    "CameoAppearanceRemoved",
)


def _ids(value: Any) -> list[str]:
    if not isinstance(value, list):
        return []
    return [str(v) for v in dict.fromkeys(value) if isinstance(v, str) and v]


class ConsentLedger(Projection):
    name = "consent-ledger"
    categories = ("consent", "generation", "feed")
    tables: ClassVar[tuple[Table, ...]] = (  # type: ignore[assignment]
        CameoRow.__table__,
        CameoPersonRow.__table__,
        CameoHistoryRow.__table__,
        CameoAppearanceRow.__table__,
        ConsentGenerationRow.__table__,
        ConsentFollowRow.__table__,
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

    @handles("GenerationRequested")
    def _requested(self, s: Session, event: RecordedEvent) -> None:
        p = event.payload
        generation_id = str(p.get("generation_id") or event.stream_key)
        row = s.get(ConsentGenerationRow, generation_id)
        if row is None:
            row = ConsentGenerationRow(generation_id=generation_id, cameo_ids=[])
            s.add(row)
        row.requester_id = str(p.get("requester_id") or event.actor.id)
        row.cameo_ids = _ids(p.get("cameo_ids"))

    @handles("GenerationApproved")
    def _approved(self, s: Session, event: RecordedEvent) -> None:
        p = event.payload
        generation_id = str(p.get("generation_id") or event.stream_key)
        row = s.get(ConsentGenerationRow, generation_id)
        if row is None:
            row = ConsentGenerationRow(
                generation_id=generation_id, requester_id=event.actor.id, cameo_ids=[]
            )
            s.add(row)
        if p.get("cameo_ids") is not None:  # the approval's list wins over the request's
            row.cameo_ids = _ids(p.get("cameo_ids"))
        self._record_appearances(s, event, row, AppearanceStatus.DRAFT)

    @handles("AssetPublished")
    def _published(self, s: Session, event: RecordedEvent) -> None:
        p = event.payload
        row = s.get(ConsentGenerationRow, str(p.get("generation_id") or event.stream_key))
        if row is None:
            return
        row.asset_id = str(p.get("asset_id")) if p.get("asset_id") else row.asset_id
        self._record_appearances(s, event, row, AppearanceStatus.PUBLISHED)

    def _record_appearances(
        self, s: Session, event: RecordedEvent, row: ConsentGenerationRow, status: AppearanceStatus
    ) -> None:
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

    @handles("AssetRemoved")
    def _asset_removed(self, s: Session, event: RecordedEvent) -> None:
        asset_id = event.payload.get("asset_id")
        if not asset_id:
            return
        rows = s.scalars(
            select(CameoAppearanceRow).where(
                CameoAppearanceRow.asset_id == str(asset_id),
                CameoAppearanceRow.status != AppearanceStatus.REMOVED.value,
            )
        ).all()
        for appearance in rows:
            fact = CameoAppearanceRemoved(
                cameo_id=appearance.cameo_id,
                generation_id=appearance.generation_id,
                reason=str(event.payload.get("reason") or "asset removed")[:500],
            )
            self._fold(
                s, appearance.cameo_id, RecordedFact(fact, event.occurred_at, event.actor.id)
            )

    @handles("UserFollowed")
    def _followed(self, s: Session, event: RecordedEvent) -> None:
        key = (str(event.payload["follower_id"]), str(event.payload["followee_id"]))
        if s.get(ConsentFollowRow, key) is None:
            s.add(ConsentFollowRow(follower_id=key[0], followee_id=key[1]))

    @handles("UserUnfollowed")
    def _unfollowed(self, s: Session, event: RecordedEvent) -> None:
        s.execute(
            delete(ConsentFollowRow).where(
                ConsentFollowRow.follower_id == str(event.payload["follower_id"]),
                ConsentFollowRow.followee_id == str(event.payload["followee_id"]),
            )
        )
