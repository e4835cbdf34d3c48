"""Consent command handlers: load state, run the pure command, append with concurrency.

Consent rules are checked against the cameo's own event stream (authoritative, never behind);
uniqueness across cameos (handles, one active cameo per person, public-figure links) and the
list of appearances come from the ConsentLedger read model.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

from core.events import Actor, RecordedEvent, stream_id, utcnow
from core.services import Services
from trust_safety.consent import commands
from trust_safety.consent.errors import CameoNotFound
from trust_safety.consent.facts import Audience, CameoFact, LivenessResult
from trust_safety.consent.ledger import CameoRecord, RecordedFact, fold
from trust_safety.consent.store import SqlConsentLedger, load_record

CONSENT = "consent"


def cameo_stream(cameo_id: str) -> str:
    return stream_id(CONSENT, cameo_id)


def _recorded(event: RecordedEvent) -> RecordedFact:
    fact: CameoFact = event.decode()  # type: ignore[assignment]
    return RecordedFact(fact, event.occurred_at, event.actor.id)


def load_cameo(services: Services, cameo_id: str) -> tuple[CameoRecord, int]:
    """The cameo folded from its stream, and the stream version it was folded at."""
    events = services.store.read_stream(cameo_stream(cameo_id))
    if not events:
        raise CameoNotFound(f"no cameo {cameo_id!r}")
    return fold(_recorded(e) for e in events), events[-1].stream_version


class ConsentService:
    def __init__(self, services: Services, clock: Callable[[], datetime] = utcnow) -> None:
        self.services = services
        self.clock = clock

    def _append(self, cameo_id: str, fact: CameoFact, version: int, actor: Actor) -> int:
        recorded = self.services.store.append(
            cameo_stream(cameo_id), [fact], expected_version=version, actor=actor
        )
        return recorded[-1].stream_version

    def register(
        self,
        actor: Actor,
        *,
        handle: str,
        display_name: str,
        liveness_reference: str,
        liveness_result: LivenessResult,
        liveness_checked_at: datetime,
        audience: Audience,
    ) -> str:
        cameo_id = f"cam_{uuid.uuid4().hex[:20]}"
        with self.services.read_sessions() as s:
            fact = commands.register_cameo(
                SqlConsentLedger(s),
                cameo_id=cameo_id,
                owner_id=actor.id,
                handle=handle,
                display_name=display_name,
                liveness_reference=liveness_reference,
                liveness_result=liveness_result,
                liveness_checked_at=liveness_checked_at,
                audience=audience,
            )
        self._append(cameo_id, fact, 0, actor)
        return cameo_id

    def change_audience(self, actor: Actor, cameo_id: str, audience: Audience) -> int:
        record, version = load_cameo(self.services, cameo_id)
        return self._append(
            cameo_id, commands.change_cameo_audience(record, actor.id, audience), version, actor
        )

    def grant(
        self, actor: Actor, cameo_id: str, grantee_id: str, expires_at: datetime | None
    ) -> int:
        record, version = load_cameo(self.services, cameo_id)
        fact = commands.grant_cameo_consent(
            record, actor.id, grantee_id, now=self.clock(), expires_at=expires_at
        )
        return self._append(cameo_id, fact, version, actor)

    def revoke(self, actor: Actor, cameo_id: str, grantee_id: str) -> int:
        record, version = load_cameo(self.services, cameo_id)
        fact = commands.revoke_cameo_consent(record, actor.id, grantee_id)
        return self._append(cameo_id, fact, version, actor)

    def record_liveness(
        self,
        actor: Actor,
        cameo_id: str,
        *,
        liveness_reference: str,
        liveness_result: LivenessResult,
        liveness_checked_at: datetime,
    ) -> int:
        record, version = load_cameo(self.services, cameo_id)
        fact = commands.record_liveness_check(
            record,
            actor.id,
            liveness_reference=liveness_reference,
            liveness_result=liveness_result,
            liveness_checked_at=liveness_checked_at,
        )
        return self._append(cameo_id, fact, version, actor)

    def link_public_figure(self, actor: Actor, cameo_id: str, public_figure_id: str) -> int:
        record, version = load_cameo(self.services, cameo_id)
        with self.services.read_sessions() as s:
            fact = commands.link_public_figure(SqlConsentLedger(s), record, public_figure_id)
        return self._append(cameo_id, fact, version, actor)

    def retire(self, actor: Actor, cameo_id: str) -> int:
        record, version = load_cameo(self.services, cameo_id)
        return self._append(cameo_id, commands.retire_cameo(record, actor.id), version, actor)

    def remove_appearance(
        self, actor: Actor, cameo_id: str, generation_id: str, reason: str | None
    ) -> int:
        record, version = load_cameo(self.services, cameo_id)
        with self.services.read_sessions() as s:
            projected = load_record(s, cameo_id, appearances=True)
        # Appearances come from other streams, so only the read model knows them.
        record.appearances = projected.appearances if projected else {}
        fact = commands.remove_cameo_appearance(record, actor.id, generation_id, reason)
        return self._append(cameo_id, fact, version, actor)
