"""``hash-banks``: the banks' contents and the matches, evidence and reports, as tables.

What the API lists and what the evidence purge scans. Matching does not read these tables:
it uses the in-memory index (index.py), which follows the same events without a lag.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import ClassVar

from sqlalchemy import Table, delete, select
from sqlalchemy.orm import Session

from core.events import RecordedEvent
from core.projections import Projection, handles
from trust_safety.hash_banks.events import (
    AUDIT,
    BANK,
    EVIDENCE,
    HOTLINE,
    MATCH,
    BankHashesAdded,
    BankHashesRemoved,
    BankImportCompleted,
    EvidenceAccessed,
    EvidencePreserved,
    EvidencePurged,
    HashBankCreated,
    HashBankUpdated,
    HotlineReportAcknowledged,
    HotlineReportPrepared,
    HotlineReportSubmissionFailed,
    HotlineReportSubmitted,
    KnownMediaConfirmed,
    KnownMediaMatched,
    MatchedMediaUnblurred,
)
from trust_safety.hash_banks.models import (
    BankEntryRow,
    BankRow,
    EvidenceRow,
    HotlineReportRow,
    ImportRow,
    MatchRow,
)


def signal_key(signal: str) -> str:
    return hashlib.sha256(signal.encode()).hexdigest()


class HashBankProjection(Projection):
    name = "hash-banks"
    categories = (BANK, MATCH, EVIDENCE, HOTLINE, AUDIT)
    tables: ClassVar[tuple[Table, ...]] = (
        BankRow.__table__,
        BankEntryRow.__table__,
        ImportRow.__table__,
        MatchRow.__table__,
        EvidenceRow.__table__,
        HotlineReportRow.__table__,
    )  # type: ignore[assignment]

    # -- banks

    @handles(HashBankCreated.event_type_name)
    def _created(self, session: Session, event: RecordedEvent) -> None:
        p = event.payload_as(HashBankCreated)
        if session.get(BankRow, p.bank_id) is not None:
            return
        session.add(
            BankRow(
                bank_id=p.bank_id,
                name=p.name,
                category=p.harm_category,
                action=p.action,
                enabled=p.enabled,
                exchange=p.exchange,
                description=p.description,
                hash_count=0,
                created_at=event.occurred_at,
                updated_at=event.occurred_at,
            )
        )

    @handles(HashBankUpdated.event_type_name)
    def _updated(self, session: Session, event: RecordedEvent) -> None:
        p = event.payload_as(HashBankUpdated)
        row = session.get(BankRow, p.bank_id)
        if row is None:
            return
        if p.enabled is not None:
            row.enabled = p.enabled
        if p.action is not None:
            row.action = p.action
        row.updated_at = event.occurred_at

    @handles(BankHashesAdded.event_type_name)
    def _added(self, session: Session, event: RecordedEvent) -> None:
        p = event.payload_as(BankHashesAdded)
        added = 0
        for e in p.entries:
            key = (p.bank_id, e.signal_type, signal_key(e.signal))
            if session.get(BankEntryRow, key) is not None:
                continue
            session.add(
                BankEntryRow(
                    bank_id=p.bank_id,
                    signal_type=e.signal_type,
                    signal_key=key[2],
                    signal=e.signal,
                    source=p.source,
                    source_key=e.source_key,
                    import_id=p.import_id,
                    note=e.note,
                    added_at=event.occurred_at,
                )
            )
            added += 1
        session.flush()
        self._count(session, p.bank_id, event)

    @handles(BankHashesRemoved.event_type_name)
    def _removed(self, session: Session, event: RecordedEvent) -> None:
        p = event.payload_as(BankHashesRemoved)
        for e in p.entries:
            session.execute(
                delete(BankEntryRow).where(
                    BankEntryRow.bank_id == p.bank_id,
                    BankEntryRow.signal_type == e.signal_type,
                    BankEntryRow.signal_key == signal_key(e.signal),
                )
            )
        self._count(session, p.bank_id, event)

    def _count(self, session: Session, bank_id: str, event: RecordedEvent) -> None:
        from sqlalchemy import func

        row = session.get(BankRow, bank_id)
        if row is not None:
            row.hash_count = int(
                session.scalar(
                    select(func.count())
                    .select_from(BankEntryRow)
                    .where(BankEntryRow.bank_id == bank_id)
                )
                or 0
            )
            row.updated_at = event.occurred_at

    @handles(BankImportCompleted.event_type_name)
    def _imported(self, session: Session, event: RecordedEvent) -> None:
        p = event.payload_as(BankImportCompleted)
        if session.get(ImportRow, p.import_id) is not None:
            return
        session.add(
            ImportRow(
                import_id=p.import_id,
                bank_id=p.bank_id,
                exchange=p.exchange,
                source=p.source,
                added=p.added,
                removed=p.removed,
                unchanged=p.unchanged,
                invalid=p.invalid,
                completed_at=event.occurred_at,
            )
        )

    # -- matches

    @handles(KnownMediaMatched.event_type_name)
    def _matched(self, session: Session, event: RecordedEvent) -> None:
        p = event.payload_as(KnownMediaMatched)
        if session.get(MatchRow, p.match_id) is not None:
            return
        session.add(
            MatchRow(
                match_id=p.match_id,
                surface=p.surface,
                subject_id=p.subject_id,
                account_id=p.account_id,
                media_type=p.media_type,
                sha256=p.sha256,
                categories=list(p.categories),
                outcome=p.outcome,
                matches=list(p.matches),
                evidence_id=p.evidence_id,
                action_id=p.action_id,
                report_id=p.report_id,
                matched_at=event.occurred_at,
                unblurs=0,
            )
        )

    @handles(KnownMediaConfirmed.event_type_name)
    def _confirmed(self, session: Session, event: RecordedEvent) -> None:
        p = event.payload_as(KnownMediaConfirmed)
        row = session.get(MatchRow, p.match_id)
        if row is not None:
            row.confirmed_by, row.confirmed_at = p.reviewer_id, event.occurred_at

    @handles(MatchedMediaUnblurred.event_type_name)
    def _unblurred(self, session: Session, event: RecordedEvent) -> None:
        row = session.get(MatchRow, str(event.payload["match_id"]))
        if row is not None:
            row.unblurs += 1

    # -- evidence

    @handles(EvidencePreserved.event_type_name)
    def _preserved(self, session: Session, event: RecordedEvent) -> None:
        p = event.payload
        if session.get(EvidenceRow, p["evidence_id"]) is not None:
            return
        # Only the facts: the data key stays in the (sealed) event.
        session.add(
            EvidenceRow(
                evidence_id=p["evidence_id"],
                match_id=p["match_id"],
                sha256=p["sha256"],
                media_type=p["media_type"],
                size_bytes=int(p["size_bytes"]),
                account_id=p.get("account_id"),
                preserved_at=_dt(p["preserved_at"]),
                retain_until=_dt(p["retain_until"]),
                accesses=0,
            )
        )

    @handles(EvidenceAccessed.event_type_name)
    def _accessed(self, session: Session, event: RecordedEvent) -> None:
        row = session.get(EvidenceRow, str(event.payload["evidence_id"]))
        if row is not None:
            row.accesses += 1

    @handles(EvidencePurged.event_type_name)
    def _purged(self, session: Session, event: RecordedEvent) -> None:
        row = session.get(EvidenceRow, str(event.payload["evidence_id"]))
        if row is not None:
            row.purged_at = event.occurred_at

    # -- reports

    @handles(HotlineReportPrepared.event_type_name)
    def _prepared(self, session: Session, event: RecordedEvent) -> None:
        p = event.payload_as(HotlineReportPrepared)
        if session.get(HotlineReportRow, p.report_id) is not None:
            return
        session.add(
            HotlineReportRow(
                report_id=p.report_id,
                match_id=p.match_id,
                authority=p.authority,
                format=p.format,
                state="prepared",
                failures=0,
                prepared_at=event.occurred_at,
            )
        )

    @handles(HotlineReportSubmitted.event_type_name)
    def _submitted(self, session: Session, event: RecordedEvent) -> None:
        row = session.get(HotlineReportRow, str(event.payload["report_id"]))
        if row is not None:
            row.state, row.remote_id = "submitted", str(event.payload["remote_id"])
            row.submitted_at = event.occurred_at

    @handles(HotlineReportSubmissionFailed.event_type_name)
    def _failed(self, session: Session, event: RecordedEvent) -> None:
        row = session.get(HotlineReportRow, str(event.payload["report_id"]))
        if row is not None:
            row.failures += 1

    @handles(HotlineReportAcknowledged.event_type_name)
    def _acknowledged(self, session: Session, event: RecordedEvent) -> None:
        row = session.get(HotlineReportRow, str(event.payload["report_id"]))
        if row is not None:
            row.state, row.acknowledged_at = "acknowledged", event.occurred_at


def _dt(value: object) -> datetime:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
