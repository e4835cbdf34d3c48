"""The opt-out registry's state, the commands that change it, and an in-memory registry.

Commands are pure: they validate against the current record and return the fact to append.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from core.folds import Recorded
from core.validation import build
from trust_safety.optout.errors import (
    InvalidOptOut,
    NotOptOutHolder,
    OptOutAlreadyFiled,
    OptOutAlreadyWithdrawn,
    OptOutNotFound,
)
from trust_safety.optout.facts import (
    BlobRef,
    OptOutAmended,
    OptOutFact,
    OptOutFiled,
    OptOutTerms,
    OptOutWithdrawn,
    Scope,
)
from trust_safety.optout.territories import applies_in

_F = TypeVar("_F")


RecordedOptOutFact = Recorded[OptOutFact]


@dataclass(frozen=True)
class OptOutChange:
    at: datetime
    actor_id: str
    action: str
    fields: tuple[str, ...] = ()


@dataclass
class OptOutRecord:
    optout_id: str
    rights_holder_id: str
    rights_holder_name: str
    terms: OptOutTerms
    reference_media: list[BlobRef]
    scopes: frozenset[Scope]
    territories: frozenset[str]
    filed_at: datetime
    updated_at: datetime
    withdrawn_at: datetime | None = None
    version: int = 1
    history: list[OptOutChange] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return self.withdrawn_at is None

    def enforced(self, scope: Scope, territory: str | None = None) -> bool:
        return self.active and scope in self.scopes and applies_in(self.territories, territory)


def apply(record: OptOutRecord | None, recorded: RecordedOptOutFact) -> OptOutRecord:
    fact, at = recorded.fact, recorded.occurred_at
    if isinstance(fact, OptOutFiled):
        if record is not None:
            raise ValueError(f"opt-out {fact.optout_id} is filed twice in its stream")
        return OptOutRecord(
            optout_id=fact.optout_id,
            rights_holder_id=fact.rights_holder_id,
            rights_holder_name=fact.rights_holder_name,
            terms=fact.terms,
            reference_media=list(fact.reference_media),
            scopes=frozenset(fact.scopes),
            territories=frozenset(fact.territories),
            filed_at=at,
            updated_at=at,
            history=[OptOutChange(at, recorded.actor_id, "filed")],
        )
    if record is None:
        raise ValueError(f"{type(fact).__name__} before OptOutFiled for {fact.optout_id}")
    if isinstance(fact, OptOutAmended):
        changed: list[str] = []
        if fact.terms is not None:
            record.terms = fact.terms
            changed.append("terms")
        if fact.reference_media is not None:
            record.reference_media = list(fact.reference_media)
            changed.append("reference_media")
        if fact.scopes is not None:
            record.scopes = frozenset(fact.scopes)
            changed.append("scopes")
        if fact.territories is not None:
            record.territories = frozenset(fact.territories)
            changed.append("territories")
        record.history.append(OptOutChange(at, recorded.actor_id, "amended", tuple(changed)))
    elif isinstance(fact, OptOutWithdrawn):
        record.withdrawn_at = at
        record.history.append(OptOutChange(at, recorded.actor_id, "withdrawn"))
    else:  # pragma: no cover - the union is closed
        raise TypeError(f"unknown opt-out fact {type(fact).__name__}")
    record.updated_at = at
    record.version += 1
    return record


def _build(factory: type[_F], **values: object) -> _F:
    return build(factory, InvalidOptOut, **values)


def file_optout(
    existing: OptOutRecord | None,
    *,
    optout_id: str,
    rights_holder_id: str,
    rights_holder_name: str,
    terms: OptOutTerms | dict[str, object],
    scopes: Iterable[Scope | str],
    territories: Iterable[str],
    reference_media: Iterable[BlobRef | dict[str, object]] = (),
) -> OptOutFiled:
    if existing is not None:
        raise OptOutAlreadyFiled(f"opt-out {optout_id} already exists")
    fact = _build(
        OptOutFiled,
        optout_id=optout_id,
        rights_holder_id=rights_holder_id,
        rights_holder_name=rights_holder_name,
        terms=terms,
        scopes=list(scopes),
        territories=list(territories),
        reference_media=list(reference_media),
    )
    _require_something_to_match(fact.terms, fact.reference_media, fact.scopes)
    return fact


def amend_optout(
    record: OptOutRecord,
    actor_id: str,
    *,
    terms: OptOutTerms | dict[str, object] | None = None,
    scopes: Iterable[Scope | str] | None = None,
    territories: Iterable[str] | None = None,
    reference_media: Iterable[BlobRef | dict[str, object]] | None = None,
) -> OptOutAmended:
    _require_live_holder(record, actor_id)
    fact = _build(
        OptOutAmended,
        optout_id=record.optout_id,
        terms=terms,
        scopes=None if scopes is None else list(scopes),
        territories=None if territories is None else list(territories),
        reference_media=None if reference_media is None else list(reference_media),
    )
    if (
        fact.terms is None
        and fact.scopes is None
        and fact.territories is None
        and (fact.reference_media is None)
    ):
        raise InvalidOptOut("an amendment must change at least one field")
    _require_something_to_match(
        fact.terms or record.terms,
        record.reference_media if fact.reference_media is None else fact.reference_media,
        sorted(record.scopes) if fact.scopes is None else fact.scopes,
    )
    return fact


def withdraw_optout(record: OptOutRecord, actor_id: str, reason: str = "") -> OptOutWithdrawn:
    _require_live_holder(record, actor_id)
    return _build(OptOutWithdrawn, optout_id=record.optout_id, reason=reason)


def _require_live_holder(record: OptOutRecord, actor_id: str) -> None:
    if actor_id != record.rights_holder_id:
        raise NotOptOutHolder(f"only the rights holder who filed {record.optout_id} may change it")
    if not record.active:
        raise OptOutAlreadyWithdrawn(f"opt-out {record.optout_id} was withdrawn")


def _require_something_to_match(
    terms: OptOutTerms, media: list[BlobRef], scopes: Iterable[Scope]
) -> None:
    """An opt-out that can never match anything would give the holder false comfort."""
    scope_set = set(scopes)
    if Scope.PROMPTS in scope_set and not (terms.names() or terms.brands):
        raise InvalidOptOut(
            "a prompts-scoped opt-out needs at least one work, character or brand name"
        )
    if Scope.OUTPUTS in scope_set and not media:
        raise InvalidOptOut("an outputs-scoped opt-out needs at least one reference image or clip")
    if Scope.TRAINING in scope_set and not (terms.names() or media):
        raise InvalidOptOut("a training-scoped opt-out needs names or reference media")


class InMemoryOptOutRegistry:
    """Reference read side; the SQL projection answers the same questions."""

    def __init__(self) -> None:
        self._records: dict[str, OptOutRecord] = {}

    def record(self, recorded: RecordedOptOutFact) -> OptOutRecord:
        fact = recorded.fact
        current = None if isinstance(fact, OptOutFiled) else self._records.get(fact.optout_id)
        updated = apply(current, recorded)
        self._records[updated.optout_id] = updated
        return updated

    def get(self, optout_id: str) -> OptOutRecord | None:
        return self._records.get(optout_id)

    def require(self, optout_id: str) -> OptOutRecord:
        record = self.get(optout_id)
        if record is None:
            raise OptOutNotFound(f"no opt-out {optout_id!r}")
        return record

    def of_holder(self, rights_holder_id: str) -> list[OptOutRecord]:
        return sorted(
            (r for r in self._records.values() if r.rights_holder_id == rights_holder_id),
            key=lambda r: r.filed_at,
        )

    def enforced(self, scope: Scope, territory: str | None = None) -> list[OptOutRecord]:
        return sorted(
            (r for r in self._records.values() if r.enforced(scope, territory)),
            key=lambda r: r.optout_id,
        )

    def all(self) -> list[OptOutRecord]:
        return sorted(self._records.values(), key=lambda r: r.optout_id)
