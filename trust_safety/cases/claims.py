"""Claims: a reviewer takes a case under a lease before deciding it, or lets it go.

A claim is decided on the case's own stream, so two reviewers racing for one case append at
the same expected version and exactly one wins; the loser is decided again on the fresh
stream and finds the case held.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from core.aggregate import Loaded, Transaction, execute, load, transact
from core.auth import Principal
from core.events import EventPayload, RecordedEvent, utcnow
from core.services import Services
from trust_safety.cases import events as ev
from trust_safety.cases.policy import DEFAULT_POLICY, CasesPolicy
from trust_safety.cases.triage import CaseQueue, CaseStatus, CaseStream, ClaimGrant, QueueItem


@dataclass(frozen=True, slots=True)
class Claim:
    case_id: str
    reviewer_id: str
    now: datetime
    ttl: timedelta


@dataclass(frozen=True, slots=True)
class Release:
    case_id: str
    reviewer_id: str
    now: datetime


class CaseClaims(CaseStream):
    def decide(self, state: CaseQueue, command: Claim | Release) -> list[EventPayload]:
        if isinstance(command, Release):
            state.require_claim(command.case_id, command.reviewer_id, command.now)
            return [
                ev.ReportClaimReleased(case_id=command.case_id, reviewer_id=command.reviewer_id)
            ]
        grant = state.claim(command.case_id, command.reviewer_id, command.now, command.ttl)
        return [
            ev.ReportClaimed(
                case_id=grant.case_id,
                reviewer_id=grant.reviewer_id,
                expires_at=grant.expires_at,
                renewal=grant.renewal,
            )
        ]


CLAIMS = CaseClaims()


def _grant(recorded: RecordedEvent) -> ClaimGrant:
    claimed: ev.ReportClaimed = recorded.payload_as(ev.ReportClaimed)
    return ClaimGrant(claimed.case_id, claimed.reviewer_id, claimed.expires_at, claimed.renewal)


def claim_case(
    services: Services,
    reviewer: Principal,
    case_id: str,
    ttl: timedelta | None = None,
    policy: CasesPolicy = DEFAULT_POLICY,
) -> ClaimGrant:
    command = Claim(case_id, reviewer.id, utcnow(), ttl or policy.claim_ttl)
    recorded = execute(services.store, CLAIMS, case_id, command, actor=reviewer.actor())
    return _grant(recorded[0])


def claim_next(
    services: Services,
    reviewer: Principal,
    ttl: timedelta | None = None,
    policy: CasesPolicy = DEFAULT_POLICY,
    candidates: int = 10,
) -> ClaimGrant | None:
    """Claim the most urgent case the reviewer may take, or None when nothing is claimable.

    The queue read model proposes candidates in review order; they are then checked against
    their own streams in one transaction, so a case someone else won a moment ago (not yet in
    the read model) is skipped, never double-claimed, and a busy queue costs one write lock
    per claim rather than one per candidate.
    """
    from trust_safety.cases.queries import reviewer_queue

    with services.read_sessions() as s:
        proposals = reviewer_queue(s, reviewer.id, see_all=False, now=utcnow(), limit=candidates)
    case_ids = [p["case_id"] for p in proposals if p["claimed_by"] in (None, reviewer.id)]
    if not case_ids:
        return None
    lease = ttl or policy.claim_ttl

    def work(tx: Transaction) -> ClaimGrant | None:
        now = utcnow()
        for case_id in case_ids:
            loaded = tx.load(CLAIMS, case_id)
            item = loaded.state.items.get(case_id)
            if item is None or item.status is not CaseStatus.OPEN:
                continue
            held = item.live_claim(now)
            if held is not None and held.reviewer_id != reviewer.id:
                continue
            events = CLAIMS.decide(loaded.state, Claim(case_id, reviewer.id, now, lease))
            return _grant(tx.append(CLAIMS, case_id, events, expected_version=loaded.version)[0])
        return None

    return transact(services.store, work, actor=reviewer.actor())


def release_case(services: Services, reviewer: Principal, case_id: str) -> None:
    command = Release(case_id, reviewer.id, utcnow())
    execute(services.store, CLAIMS, case_id, command, actor=reviewer.actor())


def held_case(
    tx: Transaction, reviewer_id: str, case_id: str
) -> tuple[Loaded[CaseQueue], QueueItem]:
    """The case, folded in ``tx``, provided ``reviewer_id`` holds its live claim."""
    loaded = tx.load(CLAIMS, case_id)
    return loaded, loaded.state.require_claim(case_id, reviewer_id, utcnow())


def case_on_stream(services: Services, case_id: str) -> QueueItem | None:
    """The case folded from its own stream (claims included), None if it has none."""
    return load(services.store, CLAIMS, case_id).state.items.get(case_id)
