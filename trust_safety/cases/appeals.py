"""Appeals: the internal complaint-handling system of DSA Art. 20.

- Open to the user affected by a decision and to whoever notified it, for at least six months
  after the decision (Art. 20(1)); the policy refuses a shorter window.
- Assigned to a reviewer who took no part in the original decision, and decided by a person:
  automated means alone never decide (Art. 20(6)).
- Answered with reasons (Art. 20(4)); a well-founded appeal reverses the decision without undue
  delay, which the caller does by appending the reversal in the same transaction.
- When the decision rested on a rights holder's opt-out, that rights holder is told and may
  respond within a set time; the reviewer cannot decide before the response or the deadline.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contracts.enforcement import TargetKind
from core.aggregate import Loaded, Transaction, transact
from core.auth import Principal, PrincipalRow, Role
from core.errors import NotFound, ValidationFailed
from core.events import EventPayload, require_utc, utcnow
from core.folds import Fold, FoldAggregate
from core.services import Services
from trust_safety.cases import events as ev
from trust_safety.cases.enforcement import ACTIONS, reverse
from trust_safety.cases.errors import (
    AppealAlreadyOpen,
    AppealNotAllowed,
    AppealWindowClosed,
    AutomatedAppealDecision,
    AwaitingRightsHolder,
    CaseClosed,
    InvalidAppealTransition,
    InvalidEnforcement,
    ReasonsRequired,
    ReviewerNotIndependent,
    UnknownCase,
)
from trust_safety.cases.events import AppealOutcome, DecisionKind
from trust_safety.cases.inbox import (
    appeal_decided_message,
    appeal_received_message,
    notify,
    rights_holder_invitation,
)
from trust_safety.cases.models import AppealRow
from trust_safety.cases.policy import DEFAULT_POLICY, AppealPolicy, CasesPolicy
from trust_safety.cases.recorded import Fact, RecordedFact, parse_instant
from trust_safety.cases.reports import REVIEW, Reopen, owner_of
from trust_safety.cases.triage import CaseStatus

MIN_REASONS_CHARS = 20
HUMAN_REVIEW_ROLES = frozenset({"reviewer", "admin"})


class AppellantRole(StrEnum):
    AFFECTED = "affected"
    NOTIFIER = "notifier"


@dataclass(frozen=True, slots=True)
class DecisionUnderAppeal:
    """The facts about the original decision that appeal rules need."""

    decision_id: str  # the action id, or the case id of a dismissal
    kind: DecisionKind
    decided_at: datetime
    affected_user_id: str | None
    notifier_ids: frozenset[str]
    participants: frozenset[str]  # reviewers and deciders of the original decision
    optout_rights_holder_id: str | None = None
    reversed: bool = False

    def appellant_role(self, person_id: str) -> AppellantRole | None:
        if self.kind is DecisionKind.ENFORCEMENT and person_id == self.affected_user_id:
            return AppellantRole.AFFECTED
        if person_id in self.notifier_ids:
            return AppellantRole.NOTIFIER
        return None


class AppealStatus(StrEnum):
    FILED = "filed"
    ASSIGNED = "assigned"
    DECIDED = "decided"


@dataclass(slots=True)
class Appeal:
    appeal_id: str
    decision_id: str
    decision_kind: DecisionKind
    appellant_id: str
    appellant_role: AppellantRole
    filed_at: datetime
    statement: str
    status: AppealStatus = AppealStatus.FILED
    reviewer_id: str | None = None
    assigned_at: datetime | None = None
    rights_holder_id: str | None = None
    rights_holder_due_at: datetime | None = None
    rights_holder_response: str | None = None
    rights_holder_responded_at: datetime | None = None
    outcome: AppealOutcome | None = None
    reasons: str | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.status is not AppealStatus.DECIDED

    def awaiting_rights_holder(self, now: datetime) -> bool:
        return (
            self.rights_holder_id is not None
            and self.rights_holder_responded_at is None
            and self.rights_holder_due_at is not None
            and now < self.rights_holder_due_at
        )


def check_can_file(
    decision: DecisionUnderAppeal,
    appellant_id: str,
    now: datetime,
    open_appeals: Iterable[Appeal],
    policy: AppealPolicy = AppealPolicy(),
) -> AppellantRole:
    """Raise unless ``appellant_id`` may appeal ``decision`` now; return in which capacity."""
    now = require_utc(now)
    role = decision.appellant_role(appellant_id)
    if role is None:
        raise AppealNotAllowed(
            "only the user affected by the decision or the person who reported may appeal it",
            decision_id=decision.decision_id,
        )
    if decision.reversed:
        raise AppealNotAllowed(
            "the decision was already reversed", decision_id=decision.decision_id
        )
    deadline = require_utc(decision.decided_at) + policy.window
    if now > deadline:
        raise AppealWindowClosed(
            f"the appeal window closed on {deadline.isoformat()}",
            decision_id=decision.decision_id,
            deadline=deadline.isoformat(),
        )
    for appeal in open_appeals:
        if (
            appeal.decision_id == decision.decision_id
            and appeal.appellant_id == appellant_id
            and appeal.is_open
        ):
            raise AppealAlreadyOpen(
                f"appeal {appeal.appeal_id!r} on this decision is still open",
                appeal_id=appeal.appeal_id,
            )
    return role


def check_assignment(
    appeal: Appeal, decision: DecisionUnderAppeal, reviewer_id: str, reviewer_role: str
) -> None:
    """Raise unless the reviewer is a qualified person independent of the decision."""
    if not appeal.is_open:
        raise InvalidAppealTransition(f"appeal {appeal.appeal_id!r} is already decided")
    if reviewer_role not in HUMAN_REVIEW_ROLES:
        raise AutomatedAppealDecision(
            f"appeals go to people with a reviewer role, not {reviewer_role!r}"
        )
    if reviewer_id in decision.participants:
        raise ReviewerNotIndependent(
            f"reviewer {reviewer_id!r} took part in the decision under appeal",
            reviewer_id=reviewer_id,
        )
    if reviewer_id in {appeal.appellant_id, appeal.rights_holder_id, decision.affected_user_id}:
        raise ReviewerNotIndependent(
            f"reviewer {reviewer_id!r} is a party to the appeal", reviewer_id=reviewer_id
        )


def pick_reviewer(
    decision: DecisionUnderAppeal,
    appeal: Appeal,
    candidates: Iterable[str],
    open_load: Mapping[str, int],
) -> str:
    """The independent candidate with the fewest open appeals (ties by id, for determinism)."""
    excluded = set(decision.participants) | {appeal.appellant_id}
    if appeal.rights_holder_id:
        excluded.add(appeal.rights_holder_id)
    if decision.affected_user_id:
        excluded.add(decision.affected_user_id)
    eligible = sorted(set(candidates) - excluded, key=lambda r: (open_load.get(r, 0), r))
    if not eligible:
        raise ReviewerNotIndependent(
            "no reviewer independent of the original decision is available",
            appeal_id=appeal.appeal_id,
        )
    return eligible[0]


def check_decision(
    appeal: Appeal,
    decider_id: str,
    decider_role: str,
    reasons: str,
    now: datetime,
    *,
    automated: bool,
) -> str:
    """Raise unless this is a reasoned decision by the assigned person; return clean reasons."""
    now = require_utc(now)
    if automated or decider_role not in HUMAN_REVIEW_ROLES:
        raise AutomatedAppealDecision(
            "an appeal is never decided by automated means alone; a reviewer must decide"
        )
    if appeal.status is AppealStatus.DECIDED:
        raise InvalidAppealTransition(f"appeal {appeal.appeal_id!r} is already decided")
    if appeal.status is not AppealStatus.ASSIGNED or appeal.reviewer_id != decider_id:
        raise InvalidAppealTransition(
            f"appeal {appeal.appeal_id!r} is not assigned to {decider_id!r}"
        )
    if appeal.awaiting_rights_holder(now):
        assert appeal.rights_holder_due_at is not None
        raise AwaitingRightsHolder(
            "the rights holder may respond until "
            f"{appeal.rights_holder_due_at.isoformat()}; decide after that or after the response",
            due_at=appeal.rights_holder_due_at.isoformat(),
        )
    cleaned = " ".join(reasons.split())
    if len(cleaned) < MIN_REASONS_CHARS:
        raise ReasonsRequired(
            f"an appeal decision needs reasons of at least {MIN_REASONS_CHARS} characters"
        )
    return cleaned


@dataclass(slots=True)
class AppealBook(Fold):
    """Fold of appeal events: every appeal, by id and by decision."""

    appeals: dict[str, Appeal] = field(default_factory=dict)

    def apply(self, event: Fact) -> None:
        p = event.payload
        at = require_utc(event.occurred_at)
        if event.type == ev.AppealFiled.event_type_name:
            appeal = Appeal(
                appeal_id=str(p["appeal_id"]),
                decision_id=str(p["decision_id"]),
                decision_kind=DecisionKind(p["decision_kind"]),
                appellant_id=str(p["appellant_id"]),
                appellant_role=AppellantRole(p["appellant_role"]),
                filed_at=at,
                statement=str(p.get("statement", "")),
                rights_holder_id=p.get("rights_holder_id"),
                rights_holder_due_at=(
                    parse_instant(p["rights_holder_due_at"])
                    if p.get("rights_holder_due_at")
                    else None
                ),
            )
            self.appeals[appeal.appeal_id] = appeal
        elif event.type == ev.AppealAssigned.event_type_name:
            appeal = self.get(str(p["appeal_id"]))
            appeal.status = AppealStatus.ASSIGNED
            appeal.reviewer_id = str(p["reviewer_id"])
            appeal.assigned_at = at
        elif event.type == ev.RightsHolderResponded.event_type_name:
            appeal = self.get(str(p["appeal_id"]))
            appeal.rights_holder_response = str(p["response"])
            appeal.rights_holder_responded_at = at
        elif event.type == ev.AppealDecided.event_type_name:
            appeal = self.get(str(p["appeal_id"]))
            appeal.status = AppealStatus.DECIDED
            appeal.outcome = AppealOutcome(p["outcome"])
            appeal.reasons = str(p["reasons"])
            appeal.decided_by = str(p["decided_by"])
            appeal.decided_at = at

    def get(self, appeal_id: str) -> Appeal:
        try:
            return self.appeals[appeal_id]
        except KeyError:
            raise UnknownCase(f"appeal {appeal_id!r} does not exist", appeal_id=appeal_id) from None

    def open_load(self) -> dict[str, int]:
        load: dict[str, int] = {}
        for appeal in self.appeals.values():
            if appeal.is_open and appeal.reviewer_id:
                load[appeal.reviewer_id] = load.get(appeal.reviewer_id, 0) + 1
        return load


def check_rights_holder_response(appeal: Appeal, responder_id: str, now: datetime) -> None:
    now = require_utc(now)
    if appeal.rights_holder_id is None or responder_id != appeal.rights_holder_id:
        raise AppealNotAllowed("only the rights holder behind the opt-out may respond")
    if not appeal.is_open:
        raise InvalidAppealTransition(f"appeal {appeal.appeal_id!r} is already decided")
    if appeal.rights_holder_responded_at is not None:
        raise InvalidAppealTransition("the rights holder already responded")
    if appeal.rights_holder_due_at is not None and now >= appeal.rights_holder_due_at:
        raise AppealWindowClosed(
            f"the response window closed on {appeal.rights_holder_due_at.isoformat()}"
        )


def filed_payload(
    appeal_id: str,
    decision: DecisionUnderAppeal,
    appellant_id: str,
    role: AppellantRole,
    statement: str,
    now: datetime,
    policy: AppealPolicy = AppealPolicy(),
) -> dict[str, Any]:
    """The ``AppealFiled`` payload, with the rights holder's response deadline when due."""
    statement = statement.strip()
    if not 1 <= len(statement) <= 5000:
        raise ReasonsRequired("tell us why the decision is wrong (1 to 5000 characters)")
    payload: dict[str, Any] = {
        "appeal_id": appeal_id,
        "decision_id": decision.decision_id,
        "decision_kind": decision.kind.value,
        "appellant_id": appellant_id,
        "appellant_role": role.value,
        "statement": statement,
    }
    if decision.optout_rights_holder_id and decision.kind is DecisionKind.ENFORCEMENT:
        payload["rights_holder_id"] = decision.optout_rights_holder_id
        payload["rights_holder_due_at"] = (
            require_utc(now) + policy.rights_holder_response_window
        ).isoformat()
    return payload


# -- the appeal aggregate: ``appeal-<appeal_id>`` ----------------------------------------------


@dataclass(frozen=True, slots=True)
class Assign:
    appeal_id: str
    decision: DecisionUnderAppeal
    reviewer_id: str
    reviewer_role: str


@dataclass(frozen=True, slots=True)
class Respond:
    appeal_id: str
    rights_holder_id: str
    response: str
    now: datetime


@dataclass(frozen=True, slots=True)
class Decide:
    appeal_id: str
    decider_id: str
    decider_role: str
    outcome: AppealOutcome
    reasons: str
    now: datetime
    automated: bool = False


class AppealStream(FoldAggregate[AppealBook]):
    category = ev.APPEAL

    def initial(self) -> AppealBook:
        return AppealBook()

    def decide(self, state: AppealBook, command: Assign | Respond | Decide) -> list[EventPayload]:
        appeal = state.get(command.appeal_id)
        if isinstance(command, Assign):
            check_assignment(appeal, command.decision, command.reviewer_id, command.reviewer_role)
            return [ev.AppealAssigned(appeal_id=appeal.appeal_id, reviewer_id=command.reviewer_id)]
        if isinstance(command, Respond):
            text = command.response.strip()
            if not 1 <= len(text) <= 5000:
                raise InvalidEnforcement("a response has 1 to 5000 characters")
            check_rights_holder_response(appeal, command.rights_holder_id, command.now)
            return [ev.RightsHolderResponded(appeal_id=appeal.appeal_id, response=text)]
        cleaned = check_decision(
            appeal,
            command.decider_id,
            command.decider_role,
            command.reasons,
            command.now,
            automated=command.automated,
        )
        return [
            ev.AppealDecided(
                appeal_id=appeal.appeal_id,
                decision_id=appeal.decision_id,
                decision_kind=appeal.decision_kind.value,
                outcome=command.outcome.value,
                reasons=cleaned,
                decided_by=command.decider_id,
            )
        ]


APPEALS = AppealStream()


def decision_under_appeal(tx: Transaction, decision_id: str) -> DecisionUnderAppeal:
    """The decision an appeal names, from its own stream: an action, or a dismissed case."""
    try:
        action = tx.load(ACTIONS, decision_id).state
    except ValidationFailed:  # an id that cannot be a stream key names no decision
        raise NotFound(f"no decision {decision_id!r}", decision_id=decision_id) from None
    if action is not None:
        t = action.taken
        return DecisionUnderAppeal(
            decision_id=decision_id,
            kind=DecisionKind.ENFORCEMENT,
            decided_at=action.taken_at,
            affected_user_id=t.affected_user_id,
            notifier_ids=frozenset(t.notifier_ids),
            participants=frozenset(t.participants) | {t.decided_by},
            optout_rights_holder_id=t.evidence.get("optout_rights_holder_id"),
            reversed=action.reversed,
        )
    item = tx.load(REVIEW, decision_id).state.items.get(decision_id)
    if item is not None and item.status is CaseStatus.DISMISSED:
        assert item.decided_at is not None
        return DecisionUnderAppeal(
            decision_id=decision_id,
            kind=DecisionKind.DISMISSAL,
            decided_at=item.decided_at,
            affected_user_id=owner_of(tx.session, TargetKind(item.target_kind), item.target_id),
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


def appeal_id_for(decision_id: str, appellant_id: str, n: int) -> str:
    digest = hashlib.sha256(f"{decision_id}\x1f{appellant_id}\x1f{n}".encode()).hexdigest()
    return digest[:32]


@dataclass(frozen=True, slots=True)
class FiledAppeal:
    appeal_id: str
    reviewer_id: str | None
    rights_holder_due_at: datetime | None


def file_appeal(
    services: Services,
    appellant: Principal,
    decision_id: str,
    statement: str,
    policy: CasesPolicy = DEFAULT_POLICY,
) -> FiledAppeal:
    def work(tx: Transaction) -> FiledAppeal:
        decision = decision_under_appeal(tx, decision_id)
        # Appeal ids are derived from (decision, appellant, n): the n-th appeal of one person
        # on one decision has one possible stream, so a duplicate filing is caught on the
        # stream itself (open appeal, or a version conflict in a race), not on a read model.
        earlier = AppealBook()
        n = 0
        while True:
            appeal_id = appeal_id_for(decision_id, appellant.id, n)
            loaded = tx.load(APPEALS, appeal_id)
            if loaded.version == 0:
                break
            earlier.appeals.update(loaded.state.appeals)
            n += 1
        now = utcnow()
        role = check_can_file(decision, appellant.id, now, earlier.appeals.values(), policy.appeals)
        filed = ev.AppealFiled(
            **filed_payload(appeal_id, decision, appellant.id, role, statement, now, policy.appeals)
        )
        events: list[EventPayload] = [filed]
        book = AppealBook()
        book.apply(RecordedFact(filed.event_type_name, now, filed.model_dump(mode="json")))
        reviewer: str | None
        try:
            reviewer = pick_reviewer(
                decision, book.get(appeal_id), _reviewers(tx.session), _open_load(tx.session)
            )
        except ReviewerNotIndependent:
            reviewer = None  # nobody independent is available: an admin assigns later
        if reviewer is not None:
            events.append(ev.AppealAssigned(appeal_id=appeal_id, reviewer_id=reviewer))
        tx.append(APPEALS, appeal_id, events, expected_version=0)
        notify(tx, appeal_received_message(appellant.id, appeal_id))
        if filed.rights_holder_id and filed.rights_holder_due_at:
            notify(
                tx,
                rights_holder_invitation(
                    filed.rights_holder_id, appeal_id, decision_id, filed.rights_holder_due_at
                ),
            )
        return FiledAppeal(appeal_id, reviewer, filed.rights_holder_due_at)

    return transact(services.store, work, actor=appellant.actor())


def _existing(tx: Transaction, appeal_id: str) -> Loaded[AppealBook]:
    loaded = tx.load(APPEALS, appeal_id)
    if loaded.version == 0:
        raise UnknownCase(f"appeal {appeal_id!r} does not exist", appeal_id=appeal_id)
    return loaded


def assign_appeal(services: Services, admin: Principal, appeal_id: str, reviewer_id: str) -> None:
    def work(tx: Transaction) -> None:
        loaded = _existing(tx, appeal_id)
        decision = decision_under_appeal(tx, loaded.state.get(appeal_id).decision_id)
        row = tx.session.get(PrincipalRow, reviewer_id)
        if row is None:
            raise NotFound(f"no principal {reviewer_id!r}")
        role = (
            Role.reviewer.value
            if Role.reviewer.value in row.roles
            else (Role.admin.value if Role.admin.value in row.roles else "none")
        )
        events = APPEALS.decide(loaded.state, Assign(appeal_id, decision, reviewer_id, role))
        tx.append(APPEALS, appeal_id, events, expected_version=loaded.version)

    transact(services.store, work, actor=admin.actor())


def respond_to_appeal(
    services: Services, rights_holder: Principal, appeal_id: str, response: str
) -> None:
    def work(tx: Transaction) -> None:
        loaded = _existing(tx, appeal_id)
        command = Respond(appeal_id, rights_holder.id, response, utcnow())
        tx.append(
            APPEALS,
            appeal_id,
            APPEALS.decide(loaded.state, command),
            expected_version=loaded.version,
        )

    transact(services.store, work, actor=rights_holder.actor())


@dataclass(frozen=True, slots=True)
class AppealResult:
    appeal_id: str
    outcome: AppealOutcome
    reversed_action_ids: tuple[str, ...]
    reopened_case_id: str | None


def decide_appeal(
    services: Services,
    reviewer: Principal,
    appeal_id: str,
    outcome: AppealOutcome,
    reasons: str,
    *,
    automated: bool = False,
) -> AppealResult:
    """A person's reasoned decision; a reversal takes effect in the same transaction."""
    actor = reviewer.actor()

    def work(tx: Transaction) -> AppealResult:
        loaded = _existing(tx, appeal_id)
        appeal = loaded.state.get(appeal_id)
        command = Decide(appeal_id, reviewer.id, actor.role, outcome, reasons, utcnow(), automated)
        decided = APPEALS.decide(loaded.state, command)
        tx.append(APPEALS, appeal_id, decided, expected_version=loaded.version)
        cleaned = decided[0].reasons  # type: ignore[attr-defined]
        notify(tx, appeal_decided_message(appeal.appellant_id, appeal_id, outcome, cleaned))
        reversed_ids: list[str] = []
        reopened: str | None = None
        if outcome is AppealOutcome.REVERSED:
            if appeal.decision_kind is DecisionKind.ENFORCEMENT:
                reversed_ids = reverse(
                    tx, appeal.decision_id, f"appeal {appeal_id}: {cleaned}", reviewer.id, appeal_id
                )
            else:
                reopened = appeal.decision_id
                tx.execute(REVIEW, reopened, Reopen(reopened))
        return AppealResult(appeal_id, outcome, tuple(reversed_ids), reopened)

    return transact(services.store, work, actor=actor)
