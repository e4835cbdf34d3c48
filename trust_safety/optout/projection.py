"""The OptOutRegistry projection: the filed opt-outs, and the generations each one blocked.

* Prompts: ``GenerationRefused`` cites the opt-outs in ``optout_ids`` (the gate takes them
  from its evidence). Which of the holder's terms matched is read from the gate's
  ``PromptModerated`` evidence that cites the opt-out, and kept only when it *is* one of the
  holder's own terms (or descriptions): nothing of the prompt is copied. After the requester's
  personal data is erased that evidence reads as erased, so a rebuild keeps the block and
  loses only the term.
* Outputs: an ``OutputModerated`` block whose ``ip`` verdict cites ``optout:<id>``; its
  matches name the reference files (by hash) that the output showed.

A block row holds the generation id only to count each generation once.
"""

from __future__ import annotations

import ast
from datetime import datetime
from typing import ClassVar

from sqlalchemy import Table
from sqlalchemy.orm import Session

from contracts.generation import GenerationRefused, OutputModerated, PromptModerated
from core.db import as_utc
from core.events import RecordedEvent
from core.projections import Projection, handles
from trust_safety.optout.facts import BlobRef, OptOutFact, OptOutTerms, Scope
from trust_safety.optout.models import OptOutBlockRow, OptOutRow
from trust_safety.optout.registry import OptOutChange, OptOutRecord, RecordedOptOutFact, apply
from trust_safety.optout.stage import optout_id_from_ref

PROMPT, OUTPUT = "prompt", "output"
IP = "ip"


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
    categories = ("optout", "generation", "output")
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

    @handles(PromptModerated)
    def _prompt_moderated(self, s: Session, event: RecordedEvent) -> None:
        moderated: PromptModerated = event.payload_as(PromptModerated)
        if moderated.approved or moderated.reason_category != IP:
            return
        terms: dict[str, set[str]] = {}
        for evidence in moderated.prompt_decision.get("evidence") or []:
            optout_id = optout_id_from_ref(str(evidence.get("ref") or ""))
            row = s.get(OptOutRow, optout_id) if optout_id else None
            if row is None:
                continue
            found = terms.setdefault(row.optout_id, set())
            term = _holder_term(record_from_row(row), evidence.get("detail"))
            if term is not None:
                found.add(term)
        for optout_id, matched in sorted(terms.items()):
            _count(s, optout_id, moderated.generation_id, event, PROMPT, matched)

    @handles(GenerationRefused)
    def _refused(self, s: Session, event: RecordedEvent) -> None:
        refused: GenerationRefused = event.payload_as(GenerationRefused)
        for optout_id in sorted(set(refused.optout_ids)):
            if s.get(OptOutRow, optout_id) is None:
                continue  # a citation of something never filed counts for nobody
            _count(s, optout_id, refused.generation_id, event, PROMPT, set())

    @handles(OutputModerated)
    def _output_moderated(self, s: Session, event: RecordedEvent) -> None:
        moderated: OutputModerated = event.payload_as(OutputModerated)
        if moderated.decision != "block" or IP not in moderated.blocked_categories:
            return
        for verdict in moderated.verdicts:
            if verdict.get("category") != IP or verdict.get("outcome") != "block":
                continue
            for match in verdict.get("matches") or []:
                optout_id = optout_id_from_ref(str(match.get("ref") or ""))
                if optout_id is None or s.get(OptOutRow, optout_id) is None:
                    continue
                hashes = {str(h) for h in match.get("reference_sha256s") or []}
                _count(s, optout_id, moderated.generation_id, event, OUTPUT, hashes)


def _count(
    s: Session,
    optout_id: str,
    generation_id: str,
    event: RecordedEvent,
    stage: str,
    matched: set[str],
) -> None:
    """Count ``generation_id`` once for ``optout_id``; a repeat only adds what matched."""
    s.flush()
    row = s.get(OptOutBlockRow, (optout_id, generation_id))
    if row is None:
        s.add(
            OptOutBlockRow(
                optout_id=optout_id,
                generation_id=generation_id,
                blocked_at=event.occurred_at,
                stage=stage,
                matched=sorted(matched),
            )
        )
    elif not matched <= set(row.matched):
        row.matched = sorted(set(row.matched) | matched)


def _holder_term(record: OptOutRecord, detail: object) -> str | None:
    """The holder's own term an opt-out evidence names (``'<term>' ~ '<prompt span>'``), or
    None: anything that is not one of the filing's terms is never kept."""
    text = str(detail or "")
    quoted = None
    for cut in range(len(text)):
        if text.startswith(" ~ ", cut):
            try:
                value = ast.literal_eval(text[:cut])
            except (ValueError, SyntaxError):
                continue
            if isinstance(value, str):
                quoted = value
                break
    if quoted is None:
        return None
    terms = record.terms
    if quoted.startswith("description[") and quoted.endswith("]"):
        index = quoted[len("description[") : -1]
        if index.isdigit() and int(index) < len(terms.descriptions):
            return terms.descriptions[int(index)]
        return None
    known = [*terms.works, *terms.characters, *terms.aliases, *terms.misspellings]
    folded = {t.casefold(): t for t in known}
    return folded.get(quoted.casefold())
