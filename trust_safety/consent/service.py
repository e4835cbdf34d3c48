"""Consent command handlers: load state, run the pure command, append with concurrency.

Consent rules are checked against the cameo's own event stream (authoritative, never behind);
uniqueness across cameos (handles, one active cameo per person, public-figure links) and the
list of appearances come from the ConsentLedger read model.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

from core.errors import ConcurrencyConflict
from core.events import Actor, stream_id, utcnow
from core.fact_stream import FactStream
from core.services import Services
from trust_safety.consent import commands
from trust_safety.consent.errors import CameoNotFound
from trust_safety.consent.facts import Audience, CameoFact, LivenessResult
from trust_safety.consent.ledger import CameoRecord, apply
from trust_safety.consent.store import SqlConsentLedger, load_record

CONSENT = "consent"


def cameo_stream(cameo_id: str) -> str:
    return stream_id(CONSENT, cameo_id)


CAMEOS: FactStream[CameoRecord] = FactStream(
    CONSENT, apply, lambda key: CameoNotFound(f"no cameo {key!r}")
)


def load_cameo(services: Services, cameo_id: str) -> tuple[CameoRecord, int]:
    """The cameo folded from its stream, and the stream version it was folded at."""
    return CAMEOS.require(services.store, cameo_id)


class ConsentService:
    def __init__(self, services: Services, clock: Callable[[], datetime] = utcnow) -> None:
        self.services = services
        self.clock = clock

    def _on_cameo(
        self, actor: Actor, cameo_id: str, decide: Callable[[CameoRecord], CameoFact]
    ) -> int:
        # A lost race for the stream runs ``decide`` again on the fresh record.
        return CAMEOS.change(self.services.store, cameo_id, decide, actor)

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

        def register_new(record: CameoRecord | None) -> CameoFact:
            if record is not None:
                raise ConcurrencyConflict(f"cameo id {cameo_id!r} is taken")
            # Handles and one active cameo per person are unique across streams: only the
            # read model knows the other cameos.
            with self.services.read_sessions() as s:
                return commands.register_cameo(
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

        CAMEOS.create(self.services.store, cameo_id, register_new, actor)
        return cameo_id

    def change_audience(self, actor: Actor, cameo_id: str, audience: Audience) -> int:
        return self._on_cameo(
            actor, cameo_id, lambda r: commands.change_cameo_audience(r, actor.id, audience)
        )

    def grant(
        self, actor: Actor, cameo_id: str, grantee_id: str, expires_at: datetime | None
    ) -> int:
        now = self.clock()
        return self._on_cameo(
            actor,
            cameo_id,
            lambda r: commands.grant_cameo_consent(
                r, actor.id, grantee_id, now=now, expires_at=expires_at
            ),
        )

    def revoke(self, actor: Actor, cameo_id: str, grantee_id: str) -> int:
        return self._on_cameo(
            actor, cameo_id, lambda r: commands.revoke_cameo_consent(r, actor.id, grantee_id)
        )

    def record_liveness(
        self,
        actor: Actor,
        cameo_id: str,
        *,
        liveness_reference: str,
        liveness_result: LivenessResult,
        liveness_checked_at: datetime,
    ) -> int:
        return self._on_cameo(
            actor,
            cameo_id,
            lambda r: commands.record_liveness_check(
                r,
                actor.id,
                liveness_reference=liveness_reference,
                liveness_result=liveness_result,
                liveness_checked_at=liveness_checked_at,
            ),
        )

    def link_public_figure(self, actor: Actor, cameo_id: str, public_figure_id: str) -> int:
        def link(record: CameoRecord) -> CameoFact:
            with self.services.read_sessions() as s:
                return commands.link_public_figure(SqlConsentLedger(s), record, public_figure_id)

        return self._on_cameo(actor, cameo_id, link)

    def retire(self, actor: Actor, cameo_id: str) -> int:
        return self._on_cameo(actor, cameo_id, lambda r: commands.retire_cameo(r, actor.id))

    def remove_appearance(
        self, actor: Actor, cameo_id: str, generation_id: str, reason: str | None
    ) -> int:
        def remove(record: CameoRecord) -> CameoFact:
            with self.services.read_sessions() as s:
                projected = load_record(s, cameo_id, appearances=True)
            # Appearances come from other streams, so only the read model knows them.
            record.appearances = projected.appearances if projected else {}
            return commands.remove_cameo_appearance(record, actor.id, generation_id, reason)

        return self._on_cameo(actor, cameo_id, remove)
