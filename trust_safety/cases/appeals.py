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

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from trust_safety.cases import facts as ft
from trust_safety.cases.errors import (
    AppealAlreadyOpen,
    AppealNotAllowed,
    AppealWindowClosed,
    AutomatedAppealDecision,
    AwaitingRightsHolder,
    InvalidAppealTransition,
    ReasonsRequired,
    ReviewerNotIndependent,
    UnknownCase,
)
from trust_safety.cases.facts import Fact, ensure_utc, parse_instant

# Six calendar months can be 184 days; the floor guarantees every six-month span is covered.
MIN_APPEAL_WINDOW = timedelta(days=184)
MIN_REASONS_CHARS = 20
HUMAN_REVIEW_ROLES = frozenset({"reviewer", "admin"})


@dataclass(frozen=True, slots=True)
class AppealPolicy:
    window: timedelta = timedelta(days=365)
    rights_holder_response_window: timedelta = timedelta(days=7)

    def __post_init__(self) -> None:
        if self.window < MIN_APPEAL_WINDOW:
            raise ValueError(
                f"appeal window {self.window} is shorter than six months (DSA Art. 20(1))"
            )
        if self.rights_holder_response_window <= timedelta(0):
            raise ValueError("rights_holder_response_window must be positive")


class DecisionKind(StrEnum):
    ENFORCEMENT = "enforcement"  # an action was taken; the affected user may appeal
    DISMISSAL = "dismissal"  # a notice was turned down; the notifier may appeal


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


class AppealOutcome(StrEnum):
    UPHELD = "upheld"  # the original decision stands
    REVERSED = "reversed"  # the original decision is undone


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
    now = ensure_utc(now)
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
    deadline = ensure_utc(decision.decided_at) + policy.window
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


def appeal_deadline(decided_at: datetime, policy: AppealPolicy = AppealPolicy()) -> datetime:
    return ensure_utc(decided_at) + policy.window


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
    now = ensure_utc(now)
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
class AppealBook:
    """Fold of appeal events: every appeal, by id and by decision."""

    appeals: dict[str, Appeal] = field(default_factory=dict)

    def apply_all(self, events: Iterable[Fact]) -> AppealBook:
        for event in events:
            self.apply(event)
        return self

    def apply(self, event: Fact) -> None:
        p = event.payload
        at = ensure_utc(event.occurred_at)
        if event.type == ft.APPEAL_FILED:
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
        elif event.type == ft.APPEAL_ASSIGNED:
            appeal = self.get(str(p["appeal_id"]))
            appeal.status = AppealStatus.ASSIGNED
            appeal.reviewer_id = str(p["reviewer_id"])
            appeal.assigned_at = at
        elif event.type == ft.RIGHTS_HOLDER_RESPONDED:
            appeal = self.get(str(p["appeal_id"]))
            appeal.rights_holder_response = str(p["response"])
            appeal.rights_holder_responded_at = at
        elif event.type == ft.APPEAL_DECIDED:
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
    now = ensure_utc(now)
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
            ensure_utc(now) + policy.rights_holder_response_window
        ).isoformat()
    return payload
