"""Opt-out command handlers: fold the opt-out's stream, run the pure command, append."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from core.events import Actor, stream_id
from core.services import Services
from trust_safety.optout.errors import OptOutNotFound
from trust_safety.optout.facts import BlobRef, OptOutFact, OptOutTerms, Scope
from trust_safety.optout.registry import (
    OptOutRecord,
    RecordedOptOutFact,
    amend_optout,
    apply,
    file_optout,
    withdraw_optout,
)

OPTOUT = "optout"


def optout_stream(optout_id: str) -> str:
    return stream_id(OPTOUT, optout_id)


def load_optout(services: Services, optout_id: str) -> tuple[OptOutRecord, int]:
    events = services.store.read_stream(optout_stream(optout_id))
    if not events:
        raise OptOutNotFound(f"no opt-out {optout_id!r}")
    record: OptOutRecord | None = None
    for event in events:
        fact: OptOutFact = event.decode()  # type: ignore[assignment]
        record = apply(record, RecordedOptOutFact(fact, event.occurred_at, event.actor.id))
    assert record is not None
    return record, events[-1].stream_version


class OptOutService:
    def __init__(self, services: Services) -> None:
        self.services = services

    def _append(self, optout_id: str, fact: OptOutFact, version: int, actor: Actor) -> int:
        recorded = self.services.store.append(
            optout_stream(optout_id), [fact], expected_version=version, actor=actor
        )
        return recorded[-1].stream_version

    def file(
        self,
        actor: Actor,
        *,
        rights_holder_name: str,
        terms: OptOutTerms | dict[str, Any],
        scopes: Iterable[Scope | str],
        territories: Iterable[str],
        reference_media: Iterable[BlobRef | dict[str, Any]] = (),
    ) -> str:
        optout_id = f"oo_{uuid.uuid4().hex[:20]}"
        fact = file_optout(
            None,
            optout_id=optout_id,
            rights_holder_id=actor.id,
            rights_holder_name=rights_holder_name,
            terms=terms,
            scopes=scopes,
            territories=territories,
            reference_media=reference_media,
        )
        self._append(optout_id, fact, 0, actor)
        return optout_id

    def amend(
        self,
        actor: Actor,
        optout_id: str,
        *,
        terms: OptOutTerms | dict[str, Any] | None = None,
        scopes: Iterable[Scope | str] | None = None,
        territories: Iterable[str] | None = None,
        reference_media: Iterable[BlobRef | dict[str, Any]] | None = None,
    ) -> int:
        record, version = load_optout(self.services, optout_id)
        fact = amend_optout(
            record,
            actor.id,
            terms=terms,
            scopes=scopes,
            territories=territories,
            reference_media=reference_media,
        )
        return self._append(optout_id, fact, version, actor)

    def withdraw(self, actor: Actor, optout_id: str, reason: str = "") -> int:
        record, version = load_optout(self.services, optout_id)
        fact = withdraw_optout(record, actor.id, reason)
        return self._append(optout_id, fact, version, actor)
