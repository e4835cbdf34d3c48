"""Consent command handlers: load state, run the pure command, append with concurrency.

Consent rules are checked against the cameo's own event stream (authoritative, never behind);
uniqueness across cameos (handles, one active cameo per person, public-figure links) and the
list of appearances come from the ConsentLedger read model.

Registering and re-enrolling analyse the owner's capture first (CPU-bound, outside any
transaction), then append the cameo's events, store the face template and, when the
capture's age check passed, assure the owner's age, all in one transaction. Retiring a cameo
destroys its template in the transaction that retires it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from core.aggregate import Transaction, transact
from core.errors import ConcurrencyConflict, ValidationFailed
from core.events import Actor, stream_id, utcnow
from core.fact_stream import FactStream
from core.folds import Recorded
from core.identity import AgeAssuranceSource, principal_stream
from core.services import Services
from trust_safety.classifiers.faces import Face, nearest_distance, shared_face_analyzer
from trust_safety.consent import commands
from trust_safety.consent.enrolment import Capture, EnrolmentResult, analyse_capture
from trust_safety.consent.errors import (
    CameoNotFound,
    EnrolmentIdentityMismatch,
    GranteeNotFound,
    InvalidCameoInput,
)
from trust_safety.consent.facts import Audience, CameoFact, LivenessResult
from trust_safety.consent.ledger import CameoRecord, apply
from trust_safety.consent.settings import EnrolmentSettings
from trust_safety.consent.store import SqlConsentLedger, load_record
from trust_safety.consent.templates import (
    FaceTemplate,
    destroy_template,
    has_template,
    load_template,
    save_template,
    template_cameos_of,
)

CONSENT = "consent"


def cameo_stream(cameo_id: str) -> str:
    return stream_id(CONSENT, cameo_id)


CAMEOS: FactStream[CameoRecord] = FactStream(
    CONSENT, apply, lambda key: CameoNotFound(f"no cameo {key!r}")
)


def load_cameo(services: Services, cameo_id: str) -> tuple[CameoRecord, int]:
    """The cameo folded from its stream, and the stream version it was folded at."""
    return CAMEOS.require(services.store, cameo_id)


def require_cameo_owner(
    services: Services, principal: Any, cameo_id: str, *, admins: bool = True
) -> CameoRecord:
    """The cameo, if ``principal`` owns it, from its own stream (never behind the read model);
    a 404 otherwise, so ids cannot be probed. ``admins=False`` for what only the person may
    see (their face as it was found in other people's videos)."""
    record, _ = load_cameo(services, cameo_id)
    allowed = principal.owns(record.owner_id) if admins else record.owner_id == principal.id
    if not allowed:
        raise CameoNotFound(f"no cameo {cameo_id!r}")
    return record


# Whom the enrolment's own age check is recorded as: the service, not the owner.
ENROLMENT_AGE_CHECK = Actor(id="system:enrolment-age-check", role="system")
# An account assured by these may enrol although the age estimate falls short of the bar.
_DOCUMENTED_SOURCES = frozenset({AgeAssuranceSource.PROVIDER, AgeAssuranceSource.OPERATOR})


class ConsentService:
    def __init__(
        self,
        services: Services,
        clock: Callable[[], datetime] = utcnow,
        policy: EnrolmentSettings | None = None,
    ) -> None:
        self.services = services
        self.clock = clock
        self.policy = policy or services.settings.section(EnrolmentSettings)

    def _on_cameo(
        self, actor: Actor, cameo_id: str, decide: Callable[[CameoRecord], CameoFact]
    ) -> int:
        # A lost race for the stream runs ``decide`` again on the fresh record.
        return CAMEOS.change(self.services.store, cameo_id, decide, actor)

    def _analyse(
        self, actor: Actor, capture: Capture, faces: Sequence[Sequence[Face]] | None
    ) -> EnrolmentResult:
        from core.auth import PrincipalRow

        with self.services.read_sessions() as s:
            row = s.get(PrincipalRow, actor.id)
            source = row.age_assurance_source if row is not None else None
        return analyse_capture(
            shared_face_analyzer(),
            capture,
            self.policy,
            faces=faces,
            age_assured_elsewhere=source in _DOCUMENTED_SOURCES,
        )

    def _keep(self, tx: Transaction, record: CameoRecord, result: EnrolmentResult) -> None:
        """The template, and the owner's age when the capture's own check passed."""
        from core.auth import assure_age

        save_template(
            tx.session,
            FaceTemplate(
                cameo_id=record.cameo_id,
                owner_id=record.owner_id,
                embeddings=result.embeddings,
                model_version=result.model_version,
                enrolled_at=self.clock(),
            ),
        )
        if result.age_passed:
            assure_age(
                self.services.sessions,
                record.owner_id,
                AgeAssuranceSource.CAMEO_ENROLMENT,
                actor=ENROLMENT_AGE_CHECK,
                reference=f"cameo:{record.cameo_id}",
                evidence={
                    "age_median": result.scores["age_median"],
                    "age_min": result.scores["age_min"],
                    "age_margin": result.scores["age_margin"],
                },
                session=tx.session,
            )

    @staticmethod
    def _enrolled(record: CameoRecord, actor: Actor, result: EnrolmentResult) -> CameoFact:
        return commands.enrol_cameo(
            record,
            actor.id,
            capture_kind=result.kind,
            model_versions=result.model_versions,
            scores=result.scores,
        )

    def register(
        self,
        actor: Actor,
        *,
        handle: str,
        display_name: str,
        audience: Audience,
        capture: Capture,
        faces: Sequence[Sequence[Face]] | None = None,
    ) -> str:
        """Register a cameo from the owner's capture; ``faces``: the capture already
        analysed (frame by frame), for callers that analysed it themselves."""
        return self.register_with_result(
            actor,
            handle=handle,
            display_name=display_name,
            audience=audience,
            capture=capture,
            faces=faces,
        )[0]

    def register_with_result(
        self,
        actor: Actor,
        *,
        handle: str,
        display_name: str,
        audience: Audience,
        capture: Capture,
        faces: Sequence[Sequence[Face]] | None = None,
    ) -> tuple[str, EnrolmentResult]:
        cameo_id = f"cam_{uuid.uuid4().hex[:20]}"

        def registration() -> CameoFact:
            # Handles and one active cameo per person are unique across streams: only the
            # read model knows the other cameos.
            with self.services.read_sessions() as s:
                return commands.register_cameo(
                    SqlConsentLedger(s),
                    cameo_id=cameo_id,
                    owner_id=actor.id,
                    handle=handle,
                    display_name=display_name,
                    audience=audience,
                )

        registration()  # a bad or taken handle is refused before the capture is analysed
        result = self._analyse(actor, capture, faces)

        def work(tx: Transaction) -> None:
            if tx.load(CAMEOS, cameo_id).state is not None:
                raise ConcurrencyConflict(f"cameo id {cameo_id!r} is taken")
            registered = registration()
            record = apply(None, Recorded(registered, self.clock(), actor.id))
            enrolled = self._enrolled(record, actor, result)
            tx.append(CAMEOS, cameo_id, [registered, enrolled], expected_version=0)
            self._keep(tx, record, result)

        transact(self.services.store, work, actor=actor)
        return cameo_id, result

    def enrol(
        self,
        actor: Actor,
        cameo_id: str,
        capture: Capture,
        faces: Sequence[Sequence[Face]] | None = None,
    ) -> int:
        """Enrol the owner's face again: the new template replaces the old one."""
        return self.enrol_with_result(actor, cameo_id, capture, faces)[0]

    def enrol_with_result(
        self,
        actor: Actor,
        cameo_id: str,
        capture: Capture,
        faces: Sequence[Sequence[Face]] | None = None,
    ) -> tuple[int, EnrolmentResult]:
        record, _ = load_cameo(self.services, cameo_id)
        # the owner of an active cameo, checked before the capture is analysed
        commands.enrol_cameo(
            record, actor.id, capture_kind=capture.kind, model_versions={}, scores={}
        )
        result = self._analyse(actor, capture, faces)
        with self.services.read_sessions() as s:
            previous = load_template(s, cameo_id)
        if previous is not None:
            # The face stays the cameo's: a re-enrolment refreshes it (a new look, a new
            # model), it does not put another person behind the cameo's consent and links.
            distance = float(
                np.median([nearest_distance(previous.embeddings, e) for e in result.embeddings])
            )
            if distance > self.policy.max_identity_distance:
                raise EnrolmentIdentityMismatch(
                    f"the capture shows a different person from the one enrolled in this cameo "
                    f"(distance {distance:.2f}, at most {self.policy.max_identity_distance:.2f}); "
                    "a cameo holds one person's face: record yourself, or retire this cameo and "
                    "register a new one"
                )
            result = replace(
                result, scores={**result.scores, "previous_template_distance": round(distance, 4)}
            )

        def work(tx: Transaction) -> int:
            loaded = tx.load(CAMEOS, cameo_id)
            if loaded.state is None:
                raise CameoNotFound(f"no cameo {cameo_id!r}")
            enrolled = self._enrolled(loaded.state, actor, result)
            appended = tx.append(CAMEOS, cameo_id, [enrolled], expected_version=loaded.version)
            self._keep(tx, loaded.state, result)
            return appended[-1].stream_version

        return transact(self.services.store, work, actor=actor), result

    def change_audience(self, actor: Actor, cameo_id: str, audience: Audience) -> int:
        return self._on_cameo(
            actor, cameo_id, lambda r: commands.change_cameo_audience(r, actor.id, audience)
        )

    def grant(
        self, actor: Actor, cameo_id: str, grantee_id: str, expires_at: datetime | None
    ) -> int:
        now = self.clock()

        def grant(record: CameoRecord) -> CameoFact:
            fact = commands.grant_cameo_consent(
                record, actor.id, grantee_id, now=now, expires_at=expires_at
            )
            # after the command: a refusal of the grant itself (an expiry in the past, the
            # owner's own id) says what is wrong with it first
            self._require_principal(grantee_id)
            return fact

        return self._on_cameo(actor, cameo_id, grant)

    def _require_principal(self, principal_id: str) -> None:
        """A grant names an account: one that was never created (a typo) protects nobody and
        would sit in the ledger as a consent nobody can use. Its identity stream says."""
        try:
            stream = principal_stream(principal_id)
        except ValidationFailed as exc:
            raise InvalidCameoInput(str(exc)) from None
        if self.services.store.stream_version(stream) == 0:
            raise GranteeNotFound(f"no account {principal_id!r} to grant consent to")

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
        """Retire the cameo and destroy its face template, in one transaction."""

        def work(tx: Transaction) -> int:
            loaded = tx.load(CAMEOS, cameo_id)
            if loaded.state is None:
                raise CameoNotFound(f"no cameo {cameo_id!r}")
            facts: list[CameoFact] = [commands.retire_cameo(loaded.state, actor.id)]
            if has_template(tx.session, cameo_id):
                destroy_template(tx.session, cameo_id)
                facts.append(commands.destroy_cameo_template(loaded.state, "retired"))
            appended = tx.append(CAMEOS, cameo_id, facts, expected_version=loaded.version)
            return appended[-1].stream_version

        return transact(self.services.store, work, actor=actor)

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


def destroy_templates_of(
    services: Any, session: Session, subject_id: str, actor: Actor
) -> dict[str, int]:
    """The erasure's part here (``core.privacy.erase_personal_data``, in its transaction):
    every face template of the person goes with its key, each with ``CameoTemplateDestroyed``
    on its cameo's stream. (Their keys were sealed under the person's subject key, which the
    erasure deletes too: even a backup of the table opens nothing.)"""
    from trust_safety.consent.facts import CameoTemplateDestroyed

    cameos = template_cameos_of(session, subject_id)
    for cameo_id in cameos:
        destroy_template(session, cameo_id)
        services.store.append(
            cameo_stream(cameo_id),
            [CameoTemplateDestroyed(cameo_id=cameo_id, reason="erased")],
            expected_version=None,
            actor=actor,
            session=session,
        )
    return {"consent_face_templates": len(cameos)} if cameos else {}
