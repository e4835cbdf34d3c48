"""The OptOutRegistry projection: the filed opt-outs, and the requests each one blocked.

Blocked requests are counted from ``GenerationRefused`` events by the opt-outs they cite in
``optout_ids``: the gate's contract names them there (it takes them from its evidence).
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from sqlalchemy import Table
from sqlalchemy.orm import Session

from contracts.generation import GenerationRefused
from core.db import as_utc
from core.events import RecordedEvent
from core.projections import Projection, handles
from trust_safety.optout.facts import BlobRef, OptOutFact, OptOutTerms, Scope
from trust_safety.optout.models import OptOutBlockRow, OptOutRow
from trust_safety.optout.registry import OptOutChange, OptOutRecord, RecordedOptOutFact, apply


def record_from_row(row: OptOutRow) -> OptOutRecord:
    return OptOutRecord(
        optout_id=row.optout_id,
        rights_holder_id=row.rights_holder_id,
        rights_holder_name=row.rights_holder_name,
        terms=OptOutTerms.model_validate(row.terms),
        reference_media=[BlobRef.model_validate(m) for m in row.reference_media],
        scopes=frozenset(Scope(s) for s in row.scopes),
        territories=frozenset(row.territories),
        filed_at=as_utc(row.filed_at),  # type: ignore[arg-type]
        updated_at=as_utc(row.updated_at),  # type: ignore[arg-type]
        withdrawn_at=as_utc(row.withdrawn_at),
        version=row.version,
        history=[
            OptOutChange(
                datetime.fromisoformat(h["at"]), h["actor_id"], h["action"], tuple(h["fields"])
            )
            for h in row.history
        ],
    )


def _write(row: OptOutRow, record: OptOutRecord, position: int) -> None:
    row.rights_holder_id = record.rights_holder_id
    row.rights_holder_name = record.rights_holder_name
    row.terms = record.terms.model_dump(mode="json")
    row.reference_media = [m.model_dump(mode="json") for m in record.reference_media]
    row.scopes = sorted(s.value for s in record.scopes)
    row.territories = sorted(record.territories)
    row.filed_at = record.filed_at
    row.updated_at = record.updated_at
    row.withdrawn_at = record.withdrawn_at
    row.version = record.version
    row.history = [
        {
            "at": h.at.isoformat(),
            "actor_id": h.actor_id,
            "action": h.action,
            "fields": list(h.fields),
        }
        for h in record.history
    ]
    row.position = position


class OptOutRegistry(Projection):
    name = "optout-registry"
    categories = ("optout", "generation")
    tables: ClassVar[tuple[Table, ...]] = (  # type: ignore[assignment]
        OptOutRow.__table__,
        OptOutBlockRow.__table__,
    )

    @handles("OptOutFiled", "OptOutAmended", "OptOutWithdrawn")
    def _optout(self, s: Session, event: RecordedEvent) -> None:
        fact: OptOutFact = event.decode()  # type: ignore[assignment]
        row = s.get(OptOutRow, fact.optout_id)
        current = record_from_row(row) if row is not None else None
        updated = apply(current, RecordedOptOutFact(fact, event.occurred_at, event.actor.id))
        if row is None:
            row = OptOutRow(optout_id=updated.optout_id)
            s.add(row)
        _write(row, updated, event.position)

    @handles(GenerationRefused)
    def _refused(self, s: Session, event: RecordedEvent) -> None:
        refused: GenerationRefused = event.payload_as(GenerationRefused)
        generation_id = refused.generation_id
        for optout_id in sorted(set(refused.optout_ids)):
            if s.get(OptOutRow, optout_id) is None:
                continue  # a citation of something never filed counts for nobody
            if s.get(OptOutBlockRow, (optout_id, generation_id)) is None:
                s.add(
                    OptOutBlockRow(
                        optout_id=optout_id,
                        generation_id=generation_id,
                        blocked_at=event.occurred_at,
                    )
                )
