"""Reports: a notice is filed into its target's case, the case is triaged, then closed by a
reviewer's action or dismissal, and reopened when a notifier's appeal succeeds.

A target has one open case at a time (``<kind>:<target id>:<epoch>``); once it is closed, the
next notice opens the next epoch. Whether a case is open is read from its stream, and only its
last event is needed for that, so a viral target with thousands of reports costs the same as
a fresh one. The categories and reporters seen so far come from the queue read model: they
only tune the priority, and the next report re-triages the case.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contracts.enforcement import ActionKind, TargetKind
from core.aggregate import Transaction, transact
from core.auth import Principal, Role
from core.events import EventPayload, NewEvent, RecordedEvent, derived_event_id, utcnow
from core.services import Services
from core.transient import retry_transient
from trust_safety.cases import events as ev
from trust_safety.cases.claims import held_case
from trust_safety.cases.errors import CaseClosed, InvalidEnforcement, UnknownTarget
from trust_safety.cases.inbox import notify, report_outcome_message
from trust_safety.cases.models import ActionRow, AssetFactsRow, CaseRow
from trust_safety.cases.notices import CATEGORY_PROFILES, ReportCategory, ReportSubmission
from trust_safety.cases.policy import DEFAULT_POLICY, CasesPolicy, appeal_deadline
from trust_safety.cases.triage import (
    AutomatedSignals,
    CaseQueue,
    CaseStream,
    QueueItem,
    triage_priority,
)

# A notifier whose appeal against a dismissal succeeds goes back to the queue ahead of fresh
# reports of the same severity: it has already waited once.
REOPEN_PRIORITY_BOOST = 20.0
CLOSING_EVENTS = frozenset({ev.ReportActioned.event_type_name, ev.ReportDismissed.event_type_name})


def case_id_for(kind: TargetKind, target_id: str, epoch: int) -> str:
    # The epoch is the last ':'-separated part, so ids stay unambiguous whatever the target id.
    return f"{kind.value}:{target_id}:{epoch}"


# -- filing: decided on the case's last event ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class FileReport:
    report_id: str
    case_id: str
    reporter_id: str
    trusted_flagger: bool
    submission: ReportSubmission
    categories: frozenset[ReportCategory]
    distinct_reporters: int
    priority: float
    signals: AutomatedSignals


class CaseFiling:
    """Whether the case's stream is closed; its ``evolve`` reads only the event it is given,
    which lets the filing load just the stream's last event."""

    category = ev.REPORT

    def initial(self) -> bool:
        return False

    def evolve(self, state: bool, event: RecordedEvent) -> bool:
        return event.type in CLOSING_EVENTS

    def decide(self, state: bool, command: FileReport) -> list[NewEvent]:
        if state:
            raise CaseClosed(f"case {command.case_id!r} is closed", case_id=command.case_id)
        sub = command.submission
        # Event ids derived from the report's: a retry after a dropped connection (whose commit
        # may have landed) finds them recorded and files nothing twice.
        filed_id, triaged_id = (
            derived_event_id(uuid.UUID(command.report_id), "file_report", i) for i in (0, 1)
        )
        return [
            NewEvent(
                ev.ReportFiled(
                    report_id=command.report_id,
                    case_id=command.case_id,
                    reporter_id=command.reporter_id,
                    trusted_flagger=command.trusted_flagger,
                    target=ev.TargetRef(kind=sub.target.kind.value, id=sub.target.id),
                    report_category=sub.category.value,
                    explanation=sub.explanation,
                    at_seconds=sub.at_seconds,
                    legal_ground=sub.legal_ground,
                ),
                filed_id,
            ),
            NewEvent(
                ev.ReportTriaged(
                    case_id=command.case_id,
                    priority=command.priority,
                    severity=max(CATEGORY_PROFILES[c].severity for c in command.categories),
                    categories=sorted(c.value for c in command.categories),
                    distinct_reporters=command.distinct_reporters,
                    signals=command.signals.to_payload(),
                ),
                triaged_id,
            ),
        ]


FILING = CaseFiling()


@dataclass(frozen=True, slots=True)
class FiledReport:
    report_id: str
    case_id: str
    priority: float


def owner_of(s: Session, kind: TargetKind, target_id: str) -> str | None:
    if kind is TargetKind.ACCOUNT:
        return target_id
    facts = s.get(AssetFactsRow, target_id)
    return facts.owner_id if facts is not None else None


def _signals(s: Session, kind: TargetKind, target_id: str) -> AutomatedSignals:
    facts = s.get(AssetFactsRow, target_id) if kind is TargetKind.ASSET else None
    owner = owner_of(s, kind, target_id)
    prior = 0
    if owner is not None:
        prior = int(
            s.scalar(
                select(func.count())
                .select_from(ActionRow)
                .where(
                    ActionRow.affected_user_id == owner,
                    ActionRow.reversed_at.is_(None),
                    # an automated block of a render nobody saw is no finding against its owner
                    ActionRow.kind != ActionKind.BLOCK_OUTPUT.value,
                )
            )
            or 0
        )
    # Opt-out and cameo matches join the signals once those domains publish per-asset
    # matches as events; today a reviewer records them as evidence on the action.
    return AutomatedSignals(
        classifier_scores=dict(facts.classifier_scores) if facts is not None else {},
        prior_enforcements_against_owner=prior,
    )


def file_report(
    services: Services, reporter: Principal, submission: ReportSubmission
) -> FiledReport:
    """Record a notice and (re)triage its case in one append."""
    kind, target_id = submission.target.kind, submission.target.id
    # A role of the notifier, not a privilege admins inherit (DSA Art. 22 status).
    trusted = Role.trusted_flagger in reporter.roles
    report_id = uuid.uuid4().hex

    def work(tx: Transaction) -> FiledReport:
        s = tx.session
        if kind is TargetKind.ASSET and s.get(AssetFactsRow, target_id) is None:
            # Only published videos can be reported; the asset facts follow publication
            # within moments, so a report as fast as that is asked to try again.
            raise UnknownTarget(
                f"no published video {target_id!r} (one published moments ago may take a "
                "moment to appear)",
                target_id=target_id,
            )
        known = s.scalars(
            select(CaseRow.case_id).where(
                CaseRow.target_kind == kind.value, CaseRow.target_id == target_id
            )
        ).all()
        epoch = max((int(c.rsplit(":", 1)[1]) for c in known), default=1)
        while True:
            case_id = case_id_for(kind, target_id, epoch)
            tail = tx.load_latest(FILING, case_id)
            if not tail.state:
                break
            epoch += 1
        seen = s.get(CaseRow, case_id) if tail.version else None
        categories = frozenset(
            {submission.category} | {ReportCategory(c) for c in (seen.categories if seen else [])}
        )
        reporters = {reporter.id} | set(seen.reporter_ids if seen else [])
        signals = _signals(s, kind, target_id)
        priority = triage_priority(
            categories,
            signals,
            trusted_flagger=trusted or bool(seen and seen.trusted_flagger),
            distinct_reporters=len(reporters),
        )
        command = FileReport(
            report_id,
            case_id,
            reporter.id,
            trusted,
            submission,
            categories,
            len(reporters),
            priority,
            signals,
        )
        events = FILING.decide(tail.state, command)
        tx.append(FILING, case_id, events, expected_version=tail.version)
        return FiledReport(report_id, case_id, priority)

    return retry_transient(lambda: transact(services.store, work, actor=reporter.actor()))


# -- review: decided on the whole case -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Dismiss:
    case_id: str
    reviewer_id: str
    reasons: str


@dataclass(frozen=True, slots=True)
class Close:
    """The case is closed by the actions taken on it (decided and checked by enforcement)."""

    case_id: str
    reviewer_id: str
    action_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Reopen:
    case_id: str


class CaseReview(CaseStream):
    def decide(self, state: CaseQueue, command: Dismiss | Close | Reopen) -> Sequence[EventPayload]:
        item = state.get(command.case_id)
        if isinstance(command, Reopen):
            return [
                ev.ReportTriaged(
                    case_id=item.case_id,
                    priority=item.priority + REOPEN_PRIORITY_BOOST,
                    severity=int(item.priority),
                    categories=sorted(c.value for c in item.categories),
                    distinct_reporters=len(item.reporter_ids),
                    signals=item.signals.to_payload(),
                )
            ]
        if not item.is_open:
            raise CaseClosed(f"case {item.case_id!r} is {item.status.value}", case_id=item.case_id)
        if isinstance(command, Close):
            return [
                ev.ReportActioned(
                    case_id=item.case_id,
                    reviewer_id=command.reviewer_id,
                    action_ids=list(command.action_ids),
                )
            ]
        return [
            ev.ReportDismissed(
                case_id=item.case_id, reviewer_id=command.reviewer_id, reasons=command.reasons
            )
        ]


REVIEW = CaseReview()


def tell_reporters(
    tx: Transaction,
    item: QueueItem,
    decision_id: str,
    actioned: bool,
    summary: str,
    decided_at: datetime,
    policy: CasesPolicy,
) -> None:
    deadline = appeal_deadline(decided_at, policy.appeals)
    for reporter_id in sorted(item.reporter_ids):
        notify(
            tx,
            report_outcome_message(
                reporter_id,
                ",".join(item.reports_of(reporter_id)),
                item.case_id,
                decision_id,
                actioned,
                summary,
                deadline,
            ),
        )


def dismiss_case(
    services: Services,
    reviewer: Principal,
    case_id: str,
    reasons: str,
    policy: CasesPolicy = DEFAULT_POLICY,
) -> None:
    cleaned = " ".join(reasons.split())
    if len(cleaned) < 10:
        raise InvalidEnforcement("a dismissal needs reasons (at least 10 characters)")

    def work(tx: Transaction) -> None:
        loaded, item = held_case(tx, reviewer.id, case_id)
        events = REVIEW.decide(loaded.state, Dismiss(case_id, reviewer.id, cleaned))
        tx.append(REVIEW, case_id, events, expected_version=loaded.version)
        tell_reporters(tx, item, case_id, False, cleaned, utcnow(), policy)

    transact(services.store, work, actor=reviewer.actor())
