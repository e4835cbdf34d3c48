"""Opt-out command handlers: fold the opt-out's stream, run the pure command, append."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from core.events import Actor, stream_id
from core.fact_stream import FactStream
from core.services import Services
from trust_safety.optout.errors import OptOutNotFound
from trust_safety.optout.facts import BlobRef, OptOutFact, OptOutTerms, Scope
from trust_safety.optout.registry import (
    OptOutRecord,
    amend_optout,
    apply,
    file_optout,
    withdraw_optout,
)

OPTOUT = "optout"


def optout_stream(optout_id: str) -> str:
    return stream_id(OPTOUT, optout_id)


OPTOUTS: FactStream[OptOutRecord] = FactStream(
    OPTOUT, apply, lambda key: OptOutNotFound(f"no opt-out {key!r}")
)


def load_optout(services: Services, optout_id: str) -> tuple[OptOutRecord, int]:
    return OPTOUTS.require(services.store, optout_id)


class OptOutService:
    def __init__(self, services: Services) -> None:
        self.services = services

    def file(
        self,
        actor: Actor,
        *,
        rights_holder_name: str,
        terms: OptOutTerms | dict[str, Any],
        scopes: Sequence[Scope | str],
        territories: Sequence[str],
        reference_media: Sequence[BlobRef | dict[str, Any]] = (),
    ) -> str:
        optout_id = f"oo_{uuid.uuid4().hex[:20]}"

        def file_new(record: OptOutRecord | None) -> OptOutFact:
            return file_optout(
                record,
                optout_id=optout_id,
                rights_holder_id=actor.id,
                rights_holder_name=rights_holder_name,
                terms=terms,
                scopes=scopes,
                territories=territories,
                reference_media=reference_media,
            )

        OPTOUTS.create(self.services.store, optout_id, file_new, actor)
        return optout_id

    def amend(
        self,
        actor: Actor,
        optout_id: str,
        *,
        terms: OptOutTerms | dict[str, Any] | None = None,
        scopes: Sequence[Scope | str] | None = None,
        territories: Sequence[str] | None = None,
        reference_media: Sequence[BlobRef | dict[str, Any]] | None = None,
    ) -> int:
        def amend(record: OptOutRecord) -> OptOutFact:
            return amend_optout(
                record,
                actor.id,
                terms=terms,
                scopes=scopes,
                territories=territories,
                reference_media=reference_media,
            )

        return OPTOUTS.change(self.services.store, optout_id, amend, actor)

    def withdraw(self, actor: Actor, optout_id: str, reason: str = "") -> int:
        def withdraw(record: OptOutRecord) -> OptOutFact:
            return withdraw_optout(record, actor.id, reason)

        return OPTOUTS.change(self.services.store, optout_id, withdraw, actor)
