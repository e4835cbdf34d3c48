"""Command handlers: validate against the event streams, then append events atomically.

Every decision is checked against the authoritative stream of its aggregate (the case, the
action, the appeal), read inside the same transaction that appends, with the stream version as
the expected version: two reviewers racing for one case cannot both win. Read models are used
only for hints that cannot break an invariant (which epoch of a target's cases to look at
first, an affected user's earlier actions for the strike ladder, reviewers' open load).

What people are told is appended in the same transaction as the decision (``UserNotified``),
so nobody is acted against without the notice being on record.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.auth import PrincipalRow, Role
from core.db import transaction
from core.errors import ConcurrencyConflict, NotFound, ValidationFailed
from core.events import (
    Actor,
    EventPayload,
    NewEvent,
    RecordedEvent,
    derived_event_id,
    stream_id,
    utcnow,
)
from core.services import Services
from core.transient import retry_transient
from trust_safety.cases import events as ev
from trust_safety.cases.appeals import (
    AppealBook,
    AppealOutcome,
    AppealPolicy,
    DecisionKind,
    DecisionUnderAppeal,
    appeal_deadline,
    check_assignment,
    check_can_file,
    check_decision,
    check_rights_holder_response,
    filed_payload,
    pick_reviewer,
)
from trust_safety.cases.enforcement import (
    AccountStanding,
    ActionKind,
    ActionRecord,
    EnforcementDecision,
    Evidence,
    LadderPolicy,
    build_statement,
    ladder_consequence,
)
from trust_safety.cases.errors import (
    AlreadyReversed,
    CaseClosed,
    InvalidEnforcement,
    ReviewerNotIndependent,
    UnknownCase,
)
from trust_safety.cases.facts import RecordedFact, ensure_utc
from trust_safety.cases.models import (
    ActionRow,
    AppealRow,
    AssetFactsRow,
    CaseRow,
    NotificationRow,
    as_utc,
    utc,
)
from trust_safety.cases.notifications import (
    Message,
    appeal_decided_message,
    appeal_received_message,
    enforcement_message,
    report_outcome_message,
    reversal_message,
    rights_holder_invitation,
)
from trust_safety.cases.reports import (
    CATEGORY_PROFILES,
    ReportCategory,
    ReportSubmission,
    TargetKind,
)
from contracts.statement_of_reasons import (
    AutomatedDecision,
    Category,
    DecisionGround,
    Keyword,
    SourceType,
)
from trust_safety.cases.triage import (
    DEFAULT_CLAIM_TTL,
    AutomatedSignals,
    CaseQueue,
    CaseStatus,
    ClaimGrant,
    QueueItem,
    triage_priority,
)

# A notifier whose appeal against a dismissal succeeds goes back to the queue ahead of fresh
# reports of the same severity: it has already waited once.
REOPEN_PRIORITY_BOOST = 20.0
MAX_CONFLICT_RETRIES = 5
CLOSING_EVENTS = frozenset({"ReportActioned", "ReportDismissed"})


@dataclass(frozen=True, slots=True)
class CasesPolicy:
    appeals: AppealPolicy = AppealPolicy()
    ladder: LadderPolicy = LadderPolicy()
    claim_ttl: timedelta = DEFAULT_CLAIM_TTL


DEFAULT_POLICY = CasesPolicy()


@dataclass(frozen=True, slots=True)
class Caller:
    """Who issues a command: id, roles, and the actor recorded on the events."""

    id: str
    roles: frozenset[str]
    actor: Actor

    @property
    def is_admin(self) -> bool:
        return Role.admin.value in self.roles

    def has(self, role: Role) -> bool:
        return role.value in self.roles or self.is_admin


def new_id() -> str:
    return uuid.uuid4().hex


def case_stream(case_id: str) -> str:
    return stream_id(ev.REPORT, case_id)


def action_stream(action_id: str) -> str:
    return stream_id(ev.ENFORCEMENT, action_id)


def appeal_stream(appeal_id: str) -> str:
    return stream_id(ev.APPEAL, appeal_id)


def inbox_stream(recipient_id: str) -> str:
    return stream_id(ev.INBOX, recipient_id)


def case_id_for(kind: TargetKind, target_id: str, epoch: int) -> str:
    # The epoch is the last ':'-separated part, so ids stay unambiguous whatever the target id.
    return f"{kind.value}:{target_id}:{epoch}"


class _Batch:
    """Events of one command, appended in one transaction under one correlation id."""

    def __init__(self, services: Services, session: Session, actor: Actor) -> None:
        self.services, self.session, self.actor = services, session, actor
        self.correlation: uuid.UUID | None = None
        self.recorded: list[RecordedEvent] = []

    def append(
        self,
        sid: str,
        payloads: Sequence[EventPayload | NewEvent],
        expected_version: int | None,
    ) -> list[RecordedEvent]:
        out = self.services.store.append(
            sid,
            list(payloads),
            expected_version=expected_version,
            actor=self.actor,
            correlation_id=self.correlation,
            session=self.session,
        )
        self.correlation = self.correlation or out[0].correlation_id
        self.recorded.extend(out)
        return out

    def notify(self, message: Message) -> str:
        nid = new_id()
        self.append(
            inbox_stream(message.recipient_id),
            [ev.UserNotified(**message.to_payload(nid))],
            expected_version=None,
        )
        return nid


def _fold_case(services: Services, s: Session, case_id: str) -> tuple[QueueItem | None, int]:
    events = services.store.read_stream(case_stream(case_id), session=s)
    if not events:
        return None, 0
    queue = CaseQueue().apply_all(events)
    return queue.items.get(case_id), events[-1].stream_version


def _retrying(fn: Any) -> Any:
    """Re-run a command that lost an optimistic-concurrency race; it re-reads fresh state."""
    for _ in range(MAX_CONFLICT_RETRIES - 1):
        try:
            return fn()
        except ConcurrencyConflict:
            continue
    return fn()


# -- reports -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FiledReport:
    report_id: str
    case_id: str
    priority: float


def _asset_facts(s: Session, target: TargetKind, target_id: str) -> AssetFactsRow | None:
    if target is not TargetKind.ASSET:
        return None
    return s.get(AssetFactsRow, target_id)


def _owner_of(s: Session, kind: TargetKind, target_id: str) -> str | None:
    if kind is TargetKind.ACCOUNT:
        return target_id
    facts = s.get(AssetFactsRow, target_id)
    return facts.owner_id if facts is not None else None


def _signals(s: Session, kind: TargetKind, target_id: str) -> AutomatedSignals:
    facts = _asset_facts(s, kind, target_id)
    owner = _owner_of(s, kind, target_id)
    prior = 0
    if owner is not None:
        prior = int(
            s.scalar(
                select(func.count())
                .select_from(ActionRow)
                .where(ActionRow.affected_user_id == owner, ActionRow.reversed_at.is_(None))
            )
            or 0
        )
    # Opt-out and cameo matches join the signals once those domains publish per-asset
    # matches as events; today a reviewer records them as evidence on the action.
    return AutomatedSignals(
        classifier_scores=dict(facts.classifier_scores) if facts is not None else {},
        prior_enforcements_against_owner=prior,
    )


def file_report(services: Services, reporter: Caller, submission: ReportSubmission) -> FiledReport:
    """Record a notice and (re)triage its case in one append."""
    kind, target_id = submission.target.kind, submission.target.id
    # A role of the notifier, not a privilege admins inherit (DSA Art. 22 status).
    trusted = Role.trusted_flagger.value in reporter.roles
    report_id = new_id()
    # Event ids derived from the report's: a retry after a dropped connection (whose commit
    # may have landed) finds them recorded and files nothing twice.
    filed_id, triaged_id = (
        derived_event_id(uuid.UUID(report_id), "file_report", i) for i in (0, 1)
    )

    def attempt() -> FiledReport:
        with transaction(services.sessions) as s:
            known = s.scalars(
                select(CaseRow.case_id).where(
                    CaseRow.target_kind == kind.value, CaseRow.target_id == target_id
                )
            ).all()
            epoch = max((int(c.rsplit(":", 1)[1]) for c in known), default=1)
            # Whether a case is still open is read from its stream, and only its last event
            # is needed (a decision closes it, a re-triage reopens it): a viral target with
            # thousands of reports costs the same as a fresh one.
            while True:
                case_id = case_id_for(kind, target_id, epoch)
                version = services.store.stream_version(case_stream(case_id), session=s)
                if version == 0:
                    break
                last = services.store.read_stream(
                    case_stream(case_id), from_version=version, session=s
                )[-1]
                if last.type not in CLOSING_EVENTS:
                    break
                epoch += 1
            # Categories and reporters so far come from the queue read model: they only tune
            # the priority, and the next report on the case re-triages it.
            seen = s.get(CaseRow, case_id) if version else None
            categories = {submission.category} | {
                ReportCategory(c) for c in (seen.categories if seen else [])
            }
            reporters = {reporter.id} | set(seen.reporter_ids if seen else [])
            item_trusted = bool(seen and seen.trusted_flagger)
            signals = _signals(s, kind, target_id)
            priority = triage_priority(
                categories,
                signals,
                trusted_flagger=trusted or item_trusted,
                distinct_reporters=len(reporters),
            )
            batch = _Batch(services, s, reporter.actor)
            batch.append(
                case_stream(case_id),
                [
                    NewEvent(
                        ev.ReportFiled(
                            report_id=report_id,
                            case_id=case_id,
                            reporter_id=reporter.id,
                            trusted_flagger=trusted,
                            target=ev.TargetRef(kind=kind.value, id=target_id),
                            report_category=submission.category.value,
                            explanation=submission.explanation,
                            at_seconds=submission.at_seconds,
                            legal_ground=submission.legal_ground,
                        ),
                        filed_id,
                    ),
                    NewEvent(
                        ev.ReportTriaged(
                            case_id=case_id,
                            priority=priority,
                            severity=max(CATEGORY_PROFILES[c].severity for c in categories),
                            categories=sorted(c.value for c in categories),
                            distinct_reporters=len(reporters),
                            signals=signals.to_payload(),
                        ),
                        triaged_id,
                    ),
                ],
                expected_version=version,
            )
            return FiledReport(report_id, case_id, priority)

    result: FiledReport = retry_transient(lambda: _retrying(attempt))
    return result


# -- claims --------------------------------------------------------------------------------------


def claim_case(
    services: Services,
    reviewer: Caller,
    case_id: str,
    ttl: timedelta | None = None,
    policy: CasesPolicy = DEFAULT_POLICY,
) -> ClaimGrant:
    with transaction(services.sessions) as s:
        item, version = _fold_case(services, s, case_id)
        if item is None:
            raise UnknownCase(f"case {case_id!r} does not exist", case_id=case_id)
        queue = CaseQueue()
        queue.items[case_id] = item
        grant = queue.claim(case_id, reviewer.id, utcnow(), ttl or policy.claim_ttl)
        _Batch(services, s, reviewer.actor).append(
            case_stream(case_id),
            [
                ev.ReportClaimed(
                    case_id=case_id,
                    reviewer_id=reviewer.id,
                    expires_at=grant.expires_at,
                    renewal=grant.renewal,
                )
            ],
            expected_version=version,
        )
        return grant


def claim_next(
    services: Services,
    reviewer: Caller,
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
    ttl = ttl or policy.claim_ttl

    def attempt() -> ClaimGrant | None:
        with transaction(services.sessions) as s:
            now = utcnow()
            for case_id in case_ids:
                item, version = _fold_case(services, s, case_id)
                if item is None or item.status is not CaseStatus.OPEN:
                    continue
                held = item.live_claim(now)
                if held is not None and held.reviewer_id != reviewer.id:
                    continue
                queue = CaseQueue()
                queue.items[case_id] = item
                grant = queue.claim(case_id, reviewer.id, now, ttl)
                _Batch(services, s, reviewer.actor).append(
                    case_stream(case_id),
                    [
                        ev.ReportClaimed(
                            case_id=case_id,
                            reviewer_id=reviewer.id,
                            expires_at=grant.expires_at,
                            renewal=grant.renewal,
                        )
                    ],
                    expected_version=version,
                )
                return grant
        return None

    result: ClaimGrant | None = _retrying(attempt)
    return result


def release_case(services: Services, reviewer: Caller, case_id: str) -> None:
    with transaction(services.sessions) as s:
        item, version = _fold_case(services, s, case_id)
        if item is None:
            raise UnknownCase(f"case {case_id!r} does not exist", case_id=case_id)
        queue = CaseQueue()
        queue.items[case_id] = item
        queue.require_claim(case_id, reviewer.id, utcnow())
        _Batch(services, s, reviewer.actor).append(
            case_stream(case_id),
            [ev.ReportClaimReleased(case_id=case_id, reviewer_id=reviewer.id)],
            expected_version=version,
        )


def _held_case(
    services: Services, s: Session, reviewer: Caller, case_id: str
) -> tuple[QueueItem, int]:
    item, version = _fold_case(services, s, case_id)
    if item is None:
        raise UnknownCase(f"case {case_id!r} does not exist", case_id=case_id)
    queue = CaseQueue()
    queue.items[case_id] = item
    queue.require_claim(case_id, reviewer.id, utcnow())
    return item, version


# -- enforcement ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ActionTaken:
    action_id: str
    puid: str
    kind: ActionKind
    ladder_action_ids: tuple[str, ...]


def _standing(s: Session, user_id: str) -> AccountStanding:
    standing = AccountStanding(user_id)
    for row in s.scalars(select(ActionRow).where(ActionRow.affected_user_id == user_id)):
        standing.actions[row.action_id] = ActionRecord(
            action_id=row.action_id,
            kind=ActionKind(row.kind),
            taken_at=utc(row.taken_at),
            category=Category(row.category),
            ground=DecisionGround(row.ground),
            strike=row.strike,
            ends_at=as_utc(row.ends_at),
            triggered_by=tuple(row.triggered_by),
            reversed_at=as_utc(row.reversed_at),
        )
    return standing


def _action_event(
    action_id: str,
    decision: EnforcementDecision,
    decided_at: datetime,
    decided_by: str,
    participants: set[str],
    notifier_ids: set[str],
    triggered_by: Sequence[str] = (),
) -> ev.EnforcementActionTaken:
    statement = build_statement(action_id, decision, decided_at)
    return ev.EnforcementActionTaken(
        action_id=action_id,
        puid=statement.puid,
        kind=decision.kind.value,
        target_kind=decision.kind.target_kind.value,
        target_id=decision.target_id,
        affected_user_id=decision.affected_user_id,
        case_id=decision.case_id,
        statement_category=decision.category.value,
        ground=decision.ground.value,
        strike=decision.strike,
        ends_at=decision.ends_at(decided_at),
        label_text=decision.label_text,
        automated_detection=decision.automated_detection,
        automated_decision=decision.automated_decision.value,
        source_type=decision.source_type.value,
        decided_by=decided_by,
        participants=sorted(participants),
        notifier_ids=sorted(notifier_ids),
        triggered_by=list(triggered_by),
        evidence=decision.evidence.model_dump(mode="json"),
        statement=statement.to_transparency_db(),
    )


def _enforce(
    batch: _Batch,
    decision: EnforcementDecision,
    decided_by: str,
    participants: set[str],
    notifier_ids: set[str],
    policy: CasesPolicy,
) -> ActionTaken:
    """Append an action, its notice and whatever the strike ladder adds."""
    s = batch.session
    now = utcnow()
    action_id = new_id()
    payload = _action_event(action_id, decision, now, decided_by, participants, notifier_ids)
    batch.append(action_stream(action_id), [payload], expected_version=0)
    deadline = appeal_deadline(now, policy.appeals)
    batch.notify(enforcement_message(action_id, payload.puid, decision, now, deadline))

    ladder_ids: list[str] = []
    if decision.strike:
        standing = _standing(s, decision.affected_user_id)
        standing.actions[action_id] = ActionRecord(
            action_id=action_id,
            kind=decision.kind,
            taken_at=now,
            category=decision.category,
            ground=decision.ground,
            strike=True,
        )
        consequence = ladder_consequence(standing, now, policy.ladder)
        if consequence is not None:
            ladder_id = new_id()
            duration = consequence.duration.days if consequence.duration else None
            ladder_decision = EnforcementDecision(
                kind=consequence.kind,
                target_id=decision.affected_user_id,
                affected_user_id=decision.affected_user_id,
                case_id=decision.case_id,
                category=decision.category,
                ground=DecisionGround.INCOMPATIBLE_CONTENT,
                ground_reference="Terms of Service: repeated violations (strike policy)",
                ground_explanation=(
                    f"The account reached the strike threshold ({consequence.reason}); "
                    "our terms suspend or end accounts that keep breaking the rules."
                ),
                facts=(
                    "Strikes that count: "
                    + ", ".join(consequence.triggered_by)
                    + f". The latest is {action_id}: {decision.facts}"
                )[:5000],
                source_type=decision.source_type,
                source_identity=decision.source_identity,
                automated_detection=decision.automated_detection,
                # A fixed rule turns the human decision into the account measure.
                automated_decision=AutomatedDecision.PARTIALLY,
                duration_days=duration,
                territorial_scope=decision.territorial_scope,
                evidence=Evidence(
                    rule_id="strike-ladder",
                    rule_version=_ladder_version(policy.ladder),
                    reviewer_ids=tuple(sorted(participants)),
                ),
            )
            ladder_payload = _action_event(
                ladder_id,
                ladder_decision,
                now,
                decided_by,
                participants,
                notifier_ids,
                triggered_by=consequence.triggered_by,
            )
            batch.append(action_stream(ladder_id), [ladder_payload], expected_version=0)
            batch.notify(
                enforcement_message(ladder_id, ladder_payload.puid, ladder_decision, now, deadline)
            )
            ladder_ids.append(ladder_id)
    return ActionTaken(action_id, payload.puid, decision.kind, tuple(ladder_ids))


def _ladder_version(ladder: LadderPolicy) -> str:
    durations = "/".join(str(d.days) for d in ladder.suspension_durations)
    return (
        f"ttl={ladder.strike_ttl.days}d;suspend@{ladder.suspend_at_strikes};"
        f"ban@{ladder.ban_at_strikes};durations={durations}d"
    )


class CaseAction(BaseModel):
    """What a reviewer decides on a case; target, affected user and source come from the case."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    kind: ActionKind
    category: Category
    category_specification: tuple[Keyword, ...] = ()
    ground: DecisionGround
    ground_reference: str = Field(min_length=3, max_length=500)
    ground_explanation: str = Field(min_length=10, max_length=2000)
    facts: str = Field(min_length=10, max_length=5000)
    strike: bool = False
    duration_days: int | None = Field(default=None, ge=1, le=365)
    label_text: str | None = Field(default=None, max_length=280)
    territorial_scope: tuple[str, ...] = ()
    automated_detection: bool = False
    automated_decision: AutomatedDecision = AutomatedDecision.NOT_AUTOMATED
    # Evidence the reviewer relied on beyond what the case carries: a rights holder's opt-out
    # (whose holder is then heard on appeal) or a cameo used without consent.
    matched_optout_id: str | None = Field(default=None, max_length=200)
    optout_rights_holder_id: str | None = Field(default=None, max_length=200)
    matched_cameo_id: str | None = Field(default=None, max_length=200)
    notes: str | None = Field(default=None, max_length=2000)


def act_on_case(
    services: Services,
    reviewer: Caller,
    case_id: str,
    action: CaseAction,
    policy: CasesPolicy = DEFAULT_POLICY,
) -> ActionTaken:
    """A reviewer holding the case's claim takes an action on its target (or its owner)."""
    with transaction(services.sessions) as s:
        item, version = _held_case(services, s, reviewer, case_id)
        target_kind = TargetKind(item.target_kind)
        owner = _owner_of(s, target_kind, item.target_id)
        if owner is None:
            raise InvalidEnforcement(
                f"the owner of {item.target_id!r} is unknown; the asset was never published",
                case_id=case_id,
            )
        kind = action.kind
        if kind.target_kind is TargetKind.ASSET and target_kind is not TargetKind.ASSET:
            raise InvalidEnforcement("asset actions need an asset case", case_id=case_id)
        facts = _asset_facts(s, target_kind, item.target_id)
        evidence_fields = {"matched_optout_id", "optout_rights_holder_id", "matched_cameo_id"}
        scored = facts is not None and bool(facts.classifier_scores)
        decision = EnforcementDecision.parse(
            {
                **action.model_dump(exclude={"notes", *evidence_fields}),
                "target_id": item.target_id if kind.target_kind is TargetKind.ASSET else owner,
                "affected_user_id": owner,
                "case_id": case_id,
                "source_type": (
                    SourceType.TRUSTED_FLAGGER if item.trusted_flagger else SourceType.ARTICLE_16
                ).value,
                "evidence": {
                    "rule_id": "output-moderation" if facts and scored else None,
                    "rule_version": facts.moderation_policy_version if facts and scored else None,
                    "classifier_scores": dict(facts.classifier_scores) if facts else {},
                    "matched_optout_id": action.matched_optout_id,
                    "optout_rights_holder_id": action.optout_rights_holder_id,
                    "matched_cameo_id": action.matched_cameo_id,
                    "reviewer_ids": sorted(item.participants | {reviewer.id}),
                    "notes": action.notes,
                },
            }
        )
        batch = _Batch(services, s, reviewer.actor)
        participants = item.participants | {reviewer.id}
        taken = _enforce(batch, decision, reviewer.id, participants, item.reporter_ids, policy)
        batch.append(
            case_stream(case_id),
            [
                ev.ReportActioned(
                    case_id=case_id,
                    reviewer_id=reviewer.id,
                    action_ids=[taken.action_id, *taken.ladder_action_ids],
                )
            ],
            expected_version=version,
        )
        deadline = appeal_deadline(utcnow(), policy.appeals)
        for reporter_id in sorted(item.reporter_ids):
            batch.notify(
                report_outcome_message(
                    reporter_id,
                    ",".join(item.reports_of(reporter_id)),
                    case_id,
                    taken.action_id,
                    True,
                    f"Decision: {kind.value.replace('_', ' ')} (reference {taken.puid}).",
                    deadline,
                )
            )
        return taken


def dismiss_case(
    services: Services,
    reviewer: Caller,
    case_id: str,
    reasons: str,
    policy: CasesPolicy = DEFAULT_POLICY,
) -> None:
    cleaned = " ".join(reasons.split())
    if len(cleaned) < 10:
        raise InvalidEnforcement("a dismissal needs reasons (at least 10 characters)")
    with transaction(services.sessions) as s:
        item, version = _held_case(services, s, reviewer, case_id)
        batch = _Batch(services, s, reviewer.actor)
        batch.append(
            case_stream(case_id),
            [ev.ReportDismissed(case_id=case_id, reviewer_id=reviewer.id, reasons=cleaned)],
            expected_version=version,
        )
        deadline = appeal_deadline(utcnow(), policy.appeals)
        for reporter_id in sorted(item.reporter_ids):
            batch.notify(
                report_outcome_message(
                    reporter_id,
                    ",".join(item.reports_of(reporter_id)),
                    case_id,
                    case_id,
                    False,
                    cleaned,
                    deadline,
                )
            )


def act_on_own_initiative(
    services: Services,
    actor: Caller,
    decision: EnforcementDecision,
    policy: CasesPolicy = DEFAULT_POLICY,
) -> ActionTaken:
    """An action without a notice: a reviewer's own finding or an automated rule's."""
    if decision.source_type is not SourceType.VOLUNTARY or decision.case_id is not None:
        raise InvalidEnforcement("own-initiative actions use SOURCE_VOLUNTARY and no case_id")
    with transaction(services.sessions) as s:
        if decision.kind.target_kind is TargetKind.ASSET:
            owner = _owner_of(s, TargetKind.ASSET, decision.target_id)
            if owner is not None and owner != decision.affected_user_id:
                raise InvalidEnforcement(
                    f"asset {decision.target_id!r} belongs to {owner!r}, "
                    f"not {decision.affected_user_id!r}"
                )
        elif decision.target_id != decision.affected_user_id:
            raise InvalidEnforcement("an account action's target is the affected user")
        batch = _Batch(services, s, actor.actor)
        return _enforce(batch, decision, actor.id, {actor.id}, set(), policy)


def _reverse(
    batch: _Batch,
    action_id: str,
    reason: str,
    reversed_by: str,
    appeal_id: str | None,
    cascaded_from: str | None = None,
) -> list[str]:
    """Reverse an action and what the ladder took because of it; returns reversed ids."""
    services, s = batch.services, batch.session
    stream = services.store.read_stream(action_stream(action_id), session=s)
    if not stream:
        raise UnknownCase(f"action {action_id!r} does not exist", action_id=action_id)
    if any(e.type == "EnforcementReversed" for e in stream):
        if cascaded_from is not None:
            return []
        raise AlreadyReversed(f"action {action_id!r} was already reversed", action_id=action_id)
    taken = stream[0].payload
    batch.append(
        action_stream(action_id),
        [
            ev.EnforcementReversed(
                action_id=action_id,
                kind=taken["kind"],
                target_kind=taken["target_kind"],
                target_id=taken["target_id"],
                affected_user_id=taken["affected_user_id"],
                reason=reason,
                appeal_id=appeal_id,
                cascaded_from=cascaded_from,
                reversed_by=reversed_by,
            )
        ],
        expected_version=stream[-1].stream_version,
    )
    batch.notify(reversal_message(taken["affected_user_id"], action_id, taken["target_id"], reason))
    done = [action_id]
    consequences = s.scalars(
        select(ActionRow.action_id).where(
            ActionRow.affected_user_id == taken["affected_user_id"],
            ActionRow.reversed_at.is_(None),
        )
    ).all()
    for other in consequences:
        row = s.get(ActionRow, other)
        if row is not None and action_id in row.triggered_by:
            done += _reverse(
                batch,
                other,
                f"the strike {action_id} it rested on was reversed",
                reversed_by,
                appeal_id,
                cascaded_from=action_id,
            )
    return done


# -- appeals -------------------------------------------------------------------------------------


def _decision_under_appeal(services: Services, s: Session, decision_id: str) -> DecisionUnderAppeal:
    try:
        action_events = services.store.read_stream(action_stream(decision_id), session=s)
    except ValidationFailed:  # an id that cannot be a stream key names no decision
        raise NotFound(f"no decision {decision_id!r}", decision_id=decision_id) from None
    if action_events:
        p = action_events[0].payload
        return DecisionUnderAppeal(
            decision_id=decision_id,
            kind=DecisionKind.ENFORCEMENT,
            decided_at=action_events[0].occurred_at,
            affected_user_id=p["affected_user_id"],
            notifier_ids=frozenset(p.get("notifier_ids", [])),
            participants=frozenset(p.get("participants", [])) | {p["decided_by"]},
            optout_rights_holder_id=(p.get("evidence") or {}).get("optout_rights_holder_id"),
            reversed=any(e.type == "EnforcementReversed" for e in action_events),
        )
    item, _ = _fold_case(services, s, decision_id)
    if item is not None and item.status is CaseStatus.DISMISSED:
        assert item.decided_at is not None
        owner = _owner_of(s, TargetKind(item.target_kind), item.target_id)
        return DecisionUnderAppeal(
            decision_id=decision_id,
            kind=DecisionKind.DISMISSAL,
            decided_at=item.decided_at,
            affected_user_id=owner,
            notifier_ids=frozenset(item.reporter_ids),
            participants=frozenset(item.participants),
        )
    if item is not None:
        raise CaseClosed(
            f"case {decision_id!r} is {item.status.value}; appeal its actions instead",
            case_id=decision_id,
        )
    raise NotFound(f"no decision {decision_id!r}", decision_id=decision_id)


def _reviewers(s: Session) -> list[str]:
    rows = s.execute(select(PrincipalRow.id, PrincipalRow.roles, PrincipalRow.disabled_at)).all()
    return sorted(
        pid for pid, roles, disabled in rows if Role.reviewer.value in roles and disabled is None
    )


def _open_load(s: Session) -> dict[str, int]:
    rows = s.execute(
        select(AppealRow.reviewer_id, func.count())
        .where(AppealRow.status != "decided", AppealRow.reviewer_id.is_not(None))
        .group_by(AppealRow.reviewer_id)
    ).all()
    return {str(r): int(n) for r, n in rows}


def _fold_appeal(services: Services, s: Session, appeal_id: str) -> tuple[AppealBook, int]:
    events = services.store.read_stream(appeal_stream(appeal_id), session=s)
    if not events:
        raise UnknownCase(f"appeal {appeal_id!r} does not exist", appeal_id=appeal_id)
    return AppealBook().apply_all(events), events[-1].stream_version


@dataclass(frozen=True, slots=True)
class FiledAppeal:
    appeal_id: str
    reviewer_id: str | None
    rights_holder_due_at: datetime | None


def file_appeal(
    services: Services,
    appellant: Caller,
    decision_id: str,
    statement: str,
    policy: CasesPolicy = DEFAULT_POLICY,
) -> FiledAppeal:
    with transaction(services.sessions) as s:
        decision = _decision_under_appeal(services, s, decision_id)
        # Appeal ids are derived from (decision, appellant, n): the n-th appeal of one person
        # on one decision has one possible stream, so a duplicate filing is caught on the
        # stream itself (open appeal, or a version conflict in a race), not on a read model.
        book = AppealBook()
        n = 0
        while True:
            appeal_id = appeal_id_for(decision_id, appellant.id, n)
            existing = services.store.read_stream(appeal_stream(appeal_id), session=s)
            if not existing:
                break
            book.apply_all(existing)
            n += 1
        now = utcnow()
        role = check_can_file(decision, appellant.id, now, book.appeals.values(), policy.appeals)
        payload = filed_payload(
            appeal_id, decision, appellant.id, role, statement, now, policy.appeals
        )
        filed = ev.AppealFiled(**payload)
        events: list[EventPayload] = [filed]
        batch = _Batch(services, s, appellant.actor)
        book = AppealBook()
        book.apply(_as_fact("AppealFiled", now, filed))
        reviewer: str | None = None
        try:
            reviewer = pick_reviewer(decision, book.get(appeal_id), _reviewers(s), _open_load(s))
        except ReviewerNotIndependent:
            reviewer = None  # nobody independent is available: an admin assigns later
        if reviewer is not None:
            events.append(ev.AppealAssigned(appeal_id=appeal_id, reviewer_id=reviewer))
        batch.append(appeal_stream(appeal_id), events, expected_version=0)
        batch.notify(appeal_received_message(appellant.id, appeal_id))
        if filed.rights_holder_id and filed.rights_holder_due_at:
            batch.notify(
                rights_holder_invitation(
                    filed.rights_holder_id, appeal_id, decision_id, filed.rights_holder_due_at
                )
            )
        return FiledAppeal(appeal_id, reviewer, filed.rights_holder_due_at)


def appeal_id_for(decision_id: str, appellant_id: str, n: int) -> str:
    digest = hashlib.sha256(f"{decision_id}\x1f{appellant_id}\x1f{n}".encode()).hexdigest()
    return digest[:32]


def _as_fact(type_: str, at: datetime, payload: EventPayload) -> RecordedFact:
    return RecordedFact(type_, ensure_utc(at), payload.model_dump(mode="json"))


def assign_appeal(services: Services, admin: Caller, appeal_id: str, reviewer_id: str) -> None:
    with transaction(services.sessions) as s:
        book, version = _fold_appeal(services, s, appeal_id)
        appeal = book.get(appeal_id)
        decision = _decision_under_appeal(services, s, appeal.decision_id)
        row = s.get(PrincipalRow, reviewer_id)
        if row is None:
            raise NotFound(f"no principal {reviewer_id!r}")
        role = (
            Role.reviewer.value
            if Role.reviewer.value in row.roles
            else (Role.admin.value if Role.admin.value in row.roles else "none")
        )
        check_assignment(appeal, decision, reviewer_id, role)
        _Batch(services, s, admin.actor).append(
            appeal_stream(appeal_id),
            [ev.AppealAssigned(appeal_id=appeal_id, reviewer_id=reviewer_id)],
            expected_version=version,
        )


def respond_to_appeal(
    services: Services, rights_holder: Caller, appeal_id: str, response: str
) -> None:
    text = response.strip()
    if not 1 <= len(text) <= 5000:
        raise InvalidEnforcement("a response has 1 to 5000 characters")
    with transaction(services.sessions) as s:
        book, version = _fold_appeal(services, s, appeal_id)
        check_rights_holder_response(book.get(appeal_id), rights_holder.id, utcnow())
        _Batch(services, s, rights_holder.actor).append(
            appeal_stream(appeal_id),
            [ev.RightsHolderResponded(appeal_id=appeal_id, response=text)],
            expected_version=version,
        )


@dataclass(frozen=True, slots=True)
class AppealResult:
    appeal_id: str
    outcome: AppealOutcome
    reversed_action_ids: tuple[str, ...]
    reopened_case_id: str | None


def decide_appeal(
    services: Services,
    reviewer: Caller,
    appeal_id: str,
    outcome: AppealOutcome,
    reasons: str,
    *,
    automated: bool = False,
) -> AppealResult:
    """A person's reasoned decision; a reversal takes effect in the same transaction."""
    with transaction(services.sessions) as s:
        book, version = _fold_appeal(services, s, appeal_id)
        appeal = book.get(appeal_id)
        cleaned = check_decision(
            appeal, reviewer.id, reviewer.actor.role, reasons, utcnow(), automated=automated
        )
        batch = _Batch(services, s, reviewer.actor)
        batch.append(
            appeal_stream(appeal_id),
            [
                ev.AppealDecided(
                    appeal_id=appeal_id,
                    decision_id=appeal.decision_id,
                    decision_kind=appeal.decision_kind.value,
                    outcome=outcome.value,
                    reasons=cleaned,
                    decided_by=reviewer.id,
                )
            ],
            expected_version=version,
        )
        batch.notify(appeal_decided_message(appeal.appellant_id, appeal_id, outcome, cleaned))
        reversed_ids: list[str] = []
        reopened: str | None = None
        if outcome is AppealOutcome.REVERSED:
            if appeal.decision_kind is DecisionKind.ENFORCEMENT:
                reversed_ids = _reverse(
                    batch,
                    appeal.decision_id,
                    f"appeal {appeal_id}: {cleaned}",
                    reviewer.id,
                    appeal_id,
                )
            else:
                reopened = appeal.decision_id
                item, case_version = _fold_case(services, s, reopened)
                assert item is not None
                batch.append(
                    case_stream(reopened),
                    [
                        ev.ReportTriaged(
                            case_id=reopened,
                            priority=item.priority + REOPEN_PRIORITY_BOOST,
                            severity=int(item.priority),
                            categories=sorted(c.value for c in item.categories),
                            distinct_reporters=len(item.reporter_ids),
                            signals=item.signals.to_payload(),
                        )
                    ],
                    expected_version=case_version,
                )
        return AppealResult(appeal_id, outcome, tuple(reversed_ids), reopened)


def mark_read(services: Services, reader: Caller, notification_id: str) -> None:
    with transaction(services.sessions) as s:
        row = s.get(NotificationRow, notification_id)
        if row is None or row.recipient_id != reader.id:
            # Someone else's notification is reported as missing, not as forbidden, so ids
            # cannot be probed.
            raise NotFound(f"no notification {notification_id!r}")
        _Batch(services, s, reader.actor).append(
            inbox_stream(reader.id),
            [ev.NotificationRead(notification_id=notification_id)],
            expected_version=None,
        )
