"""The consent ledger over SQL: load a ``CameoRecord`` from the read model and save it back.

The projection folds each fact with the same pure ``apply`` the in-memory ledger uses, so the
SQL ledger cannot drift from the rules: it only stores what ``apply`` produced.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from core.db import as_utc, utc
from trust_safety.consent.facts import AppearanceStatus, Audience, LivenessResult
from trust_safety.consent.ledger import (
    Appearance,
    CameoRecord,
    HistoryEntry,
    PersonConsent,
)
from trust_safety.consent.models import (
    CameoAppearanceRow,
    CameoHistoryRow,
    CameoPersonRow,
    CameoRow,
)


def load_record(
    s: Session, cameo_id: str, *, history: bool = False, appearances: bool = False
) -> CameoRecord | None:
    row = s.get(CameoRow, cameo_id)
    if row is None:
        return None
    record = CameoRecord(
        cameo_id=row.cameo_id,
        owner_id=row.owner_id,
        handle=row.handle,
        display_name=row.display_name,
        registered_at=utc(row.registered_at),
        liveness_reference=row.liveness_reference,
        liveness_result=LivenessResult(row.liveness_result),
        liveness_checked_at=utc(row.liveness_checked_at),
        audience=Audience(row.audience),
        retired_at=as_utc(row.retired_at),
        liveness_source=row.liveness_source,
        enrolled_at=as_utc(row.enrolled_at),
        public_figure_id=row.public_figure_id,
        version=row.version,
    )
    for person in s.scalars(select(CameoPersonRow).where(CameoPersonRow.cameo_id == cameo_id)):
        record.people[person.person_id] = PersonConsent(
            person.granted, utc(person.decided_at), as_utc(person.expires_at)
        )
    if history:
        rows = s.scalars(
            select(CameoHistoryRow)
            .where(CameoHistoryRow.cameo_id == cameo_id)
            .order_by(CameoHistoryRow.seq)
        )
        record.history = [
            HistoryEntry(utc(h.at), h.actor_id, h.action, h.subject_id, dict(h.details))
            for h in rows
        ]
    if appearances:
        for a in s.scalars(
            select(CameoAppearanceRow).where(CameoAppearanceRow.cameo_id == cameo_id)
        ):
            record.appearances[a.generation_id] = Appearance(
                cameo_id=a.cameo_id,
                generation_id=a.generation_id,
                creator_id=a.creator_id,
                status=AppearanceStatus(a.status),
                asset_id=a.asset_id,
                first_seen_at=utc(a.first_seen_at),
                updated_at=utc(a.updated_at),
                removed_reason=a.removed_reason,
            )
    return record


def history_length(s: Session, cameo_id: str) -> int:
    count = s.scalar(
        select(func.count())
        .select_from(CameoHistoryRow)
        .where(CameoHistoryRow.cameo_id == cameo_id)
    )
    return int(count or 0)


def save_record(s: Session, record: CameoRecord, *, first_new_seq: int) -> None:
    """Write ``record`` back. Its ``history`` holds only entries not yet stored (a record
    loaded without history), numbered from ``first_new_seq``."""
    row = s.get(CameoRow, record.cameo_id)
    if row is None:
        row = CameoRow(cameo_id=record.cameo_id)
        s.add(row)
    row.owner_id = record.owner_id
    row.handle = record.handle
    row.display_name = record.display_name
    row.audience = record.audience.value
    row.liveness_reference = record.liveness_reference
    row.liveness_result = record.liveness_result.value
    row.liveness_checked_at = record.liveness_checked_at
    row.liveness_source = record.liveness_source
    row.enrolled_at = record.enrolled_at
    row.public_figure_id = record.public_figure_id
    row.registered_at = record.registered_at
    row.retired_at = record.retired_at
    row.version = record.version
    s.execute(delete(CameoPersonRow).where(CameoPersonRow.cameo_id == record.cameo_id))
    for person_id, consent in record.people.items():
        s.add(
            CameoPersonRow(
                cameo_id=record.cameo_id,
                person_id=person_id,
                granted=consent.granted,
                decided_at=consent.at,
                expires_at=consent.expires_at,
            )
        )
    for seq, entry in enumerate(record.history, start=first_new_seq):
        s.add(
            CameoHistoryRow(
                cameo_id=record.cameo_id,
                seq=seq,
                at=entry.at,
                actor_id=entry.actor_id,
                action=entry.action,
                subject_id=entry.subject_id,
                details=dict(entry.details),
            )
        )
    for appearance in record.appearances.values():
        stored = s.get(CameoAppearanceRow, (record.cameo_id, appearance.generation_id))
        if stored is None:
            stored = CameoAppearanceRow(
                cameo_id=record.cameo_id, generation_id=appearance.generation_id
            )
            s.add(stored)
        stored.creator_id = appearance.creator_id
        stored.status = appearance.status.value
        stored.asset_id = appearance.asset_id
        stored.first_seen_at = appearance.first_seen_at
        stored.updated_at = appearance.updated_at
        stored.removed_reason = appearance.removed_reason
    s.flush()


class SqlConsentLedger:
    """The ledger's read side over one session (``LedgerLookup`` and ``CameoReader``)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, cameo_id: str) -> CameoRecord | None:
        return load_record(self.session, cameo_id)

    def _first(self, *where: object) -> CameoRecord | None:
        rows = list(self.session.scalars(select(CameoRow).where(*where)))  # type: ignore[arg-type]
        # A retired cameo's handle may be reused; the active one is the one people mean.
        rows.sort(key=lambda r: (r.retired_at is not None, r.registered_at))
        return load_record(self.session, rows[0].cameo_id) if rows else None

    def by_handle(self, handle: str) -> CameoRecord | None:
        return self._first(CameoRow.handle == handle.lower().lstrip("@"))

    def active_cameo_of(self, owner_id: str) -> CameoRecord | None:
        return self._first(CameoRow.owner_id == owner_id, CameoRow.retired_at.is_(None))

    def cameo_for_public_figure(self, public_figure_id: str) -> CameoRecord | None:
        return self._first(
            CameoRow.public_figure_id == public_figure_id, CameoRow.retired_at.is_(None)
        )

    def cameo_ids_of(self, owner_id: str) -> list[str]:
        return list(
            self.session.scalars(
                select(CameoRow.cameo_id)
                .where(CameoRow.owner_id == owner_id)
                .order_by(CameoRow.registered_at)
            )
        )

    def cameo_ids_granted_to(self, person_id: str) -> list[str]:
        """Cameos whose owner's latest decision about ``person_id`` is a grant."""
        return list(
            self.session.scalars(
                select(CameoPersonRow.cameo_id).where(
                    CameoPersonRow.person_id == person_id, CameoPersonRow.granted.is_(True)
                )
            )
        )
