from __future__ import annotations

from datetime import timedelta

import pytest

from tests.trust_safety.cases.builders import at, fact
from trust_safety.cases import events as ev
from trust_safety.cases.appeals import (
    AppealBook,
    AppealStatus,
    AppellantRole,
    DecisionUnderAppeal,
    check_assignment,
    check_can_file,
    check_decision,
    check_rights_holder_response,
    filed_payload,
    pick_reviewer,
)
from trust_safety.cases.errors import (
    AppealAlreadyOpen,
    AppealNotAllowed,
    AppealWindowClosed,
    AutomatedAppealDecision,
    AwaitingRightsHolder,
    InvalidAppealTransition,
    ReasonsRequired,
    ReviewerNotIndependent,
)
from trust_safety.cases.events import AppealOutcome, DecisionKind
from trust_safety.cases.policy import MIN_APPEAL_WINDOW, AppealPolicy

DECISION = DecisionUnderAppeal(
    decision_id="a1",
    kind=DecisionKind.ENFORCEMENT,
    decided_at=at(0),
    affected_user_id="owner",
    notifier_ids=frozenset({"reporter"}),
    participants=frozenset({"rev-a"}),
)
OPTOUT_DECISION = DecisionUnderAppeal(
    decision_id="a2",
    kind=DecisionKind.ENFORCEMENT,
    decided_at=at(0),
    affected_user_id="owner",
    notifier_ids=frozenset(),
    participants=frozenset({"rule:optout"}),
    optout_rights_holder_id="studio",
)
REASONS = "The clip is parody of a public figure and carries a clear label."


def file(
    book: AppealBook,
    decision: DecisionUnderAppeal,
    appellant: str,
    minute: float,
    appeal_id: str = "ap1",
) -> None:
    role = check_can_file(decision, appellant, at(minute), book.appeals.values())
    payload = filed_payload(appeal_id, decision, appellant, role, "It is satire.", at(minute))
    book.apply(fact(ev.AppealFiled, at(minute), **payload))


def assign(book: AppealBook, reviewer: str, minute: float, appeal_id: str = "ap1") -> None:
    book.apply(fact(ev.AppealAssigned, at(minute), appeal_id=appeal_id, reviewer_id=reviewer))


def test_window_is_at_least_six_months() -> None:
    with pytest.raises(ValueError, match="six months"):
        AppealPolicy(window=timedelta(days=180))
    assert AppealPolicy().window >= MIN_APPEAL_WINDOW
    last_day = DECISION.decided_at + AppealPolicy().window
    assert check_can_file(DECISION, "owner", last_day, []) is AppellantRole.AFFECTED
    with pytest.raises(AppealWindowClosed):
        check_can_file(DECISION, "owner", last_day + timedelta(seconds=1), [])


def test_who_may_appeal() -> None:
    assert check_can_file(DECISION, "reporter", at(1), []) is AppellantRole.NOTIFIER
    with pytest.raises(AppealNotAllowed):
        check_can_file(DECISION, "stranger", at(1), [])
    dismissal = DecisionUnderAppeal(
        "c1", DecisionKind.DISMISSAL, at(0), "owner", frozenset({"reporter"}), frozenset({"rev-a"})
    )
    # nothing was done to the owner of a dismissed notice: only the notifier appeals
    with pytest.raises(AppealNotAllowed):
        check_can_file(dismissal, "owner", at(1), [])
    reversed_ = DecisionUnderAppeal(
        "a1", DecisionKind.ENFORCEMENT, at(0), "owner", frozenset(), frozenset(), reversed=True
    )
    with pytest.raises(AppealNotAllowed, match="already reversed"):
        check_can_file(reversed_, "owner", at(1), [])


def test_one_open_appeal_per_person_and_decision() -> None:
    book = AppealBook()
    file(book, DECISION, "owner", 1)
    with pytest.raises(AppealAlreadyOpen):
        check_can_file(DECISION, "owner", at(2), book.appeals.values())
    # the notifier has their own appeal
    assert check_can_file(DECISION, "reporter", at(2), book.appeals.values())


def test_reviewer_must_be_independent_and_human() -> None:
    book = AppealBook()
    file(book, DECISION, "owner", 1)
    appeal = book.get("ap1")
    with pytest.raises(ReviewerNotIndependent):
        check_assignment(appeal, DECISION, "rev-a", "reviewer")
    with pytest.raises(ReviewerNotIndependent):
        check_assignment(appeal, DECISION, "owner", "reviewer")
    with pytest.raises(AutomatedAppealDecision):
        check_assignment(appeal, DECISION, "bot", "system")
    check_assignment(appeal, DECISION, "rev-b", "reviewer")
    assert pick_reviewer(DECISION, appeal, ["rev-a", "rev-c", "rev-b"], {"rev-b": 2}) == "rev-c"
    with pytest.raises(ReviewerNotIndependent):
        pick_reviewer(DECISION, appeal, ["rev-a", "owner"], {})


def test_decision_needs_assigned_person_and_reasons() -> None:
    book = AppealBook()
    file(book, DECISION, "owner", 1)
    appeal = book.get("ap1")
    with pytest.raises(InvalidAppealTransition):
        check_decision(appeal, "rev-b", "reviewer", REASONS, at(2), automated=False)
    assign(book, "rev-b", 2)
    with pytest.raises(AutomatedAppealDecision):
        check_decision(appeal, "rev-b", "reviewer", REASONS, at(3), automated=True)
    with pytest.raises(AutomatedAppealDecision):
        check_decision(appeal, "rev-b", "service", REASONS, at(3), automated=False)
    with pytest.raises(InvalidAppealTransition):
        check_decision(appeal, "rev-c", "reviewer", REASONS, at(3), automated=False)
    with pytest.raises(ReasonsRequired):
        check_decision(appeal, "rev-b", "reviewer", "   no.   ", at(3), automated=False)
    cleaned = check_decision(appeal, "rev-b", "reviewer", REASONS + "\n\n", at(3), automated=False)
    assert cleaned == REASONS
    book.apply(
        fact(
            ev.AppealDecided,
            at(4),
            appeal_id="ap1",
            outcome="reversed",
            reasons=cleaned,
            decided_by="rev-b",
        )
    )
    assert appeal.status is AppealStatus.DECIDED and appeal.outcome is AppealOutcome.REVERSED
    with pytest.raises(InvalidAppealTransition):
        check_decision(appeal, "rev-b", "reviewer", REASONS, at(5), automated=False)
    assert book.open_load() == {}


def test_rights_holder_is_asked_and_the_reviewer_waits() -> None:
    policy = AppealPolicy(rights_holder_response_window=timedelta(days=7))
    book = AppealBook()
    role = check_can_file(OPTOUT_DECISION, "owner", at(10), [])
    payload = filed_payload(
        "ap9", OPTOUT_DECISION, "owner", role, "Not the studio's work", at(10), policy
    )
    assert payload["rights_holder_id"] == "studio"
    book.apply(fact(ev.AppealFiled, at(10), **payload))
    assign(book, "rev-b", 11, "ap9")
    appeal = book.get("ap9")
    with pytest.raises(AwaitingRightsHolder):
        check_decision(appeal, "rev-b", "reviewer", REASONS, at(12), automated=False)
    with pytest.raises(AppealNotAllowed):
        check_rights_holder_response(appeal, "someone-else", at(12))
    check_rights_holder_response(appeal, "studio", at(12))
    book.apply(
        fact(
            ev.RightsHolderResponded,
            at(13),
            appeal_id="ap9",
            response="The character is ours; see registration 42.",
        )
    )
    check_decision(appeal, "rev-b", "reviewer", REASONS, at(14), automated=False)
    with pytest.raises(InvalidAppealTransition):
        check_rights_holder_response(appeal, "studio", at(15))


def test_rights_holder_silence_unblocks_after_the_deadline() -> None:
    book = AppealBook()
    role = check_can_file(OPTOUT_DECISION, "owner", at(0), [])
    book.apply(
        fact(
            ev.AppealFiled,
            at(0),
            **filed_payload("ap9", OPTOUT_DECISION, "owner", role, "Not theirs", at(0)),
        )
    )
    assign(book, "rev-b", 1, "ap9")
    appeal = book.get("ap9")
    due = at(0) + AppealPolicy().rights_holder_response_window
    with pytest.raises(AwaitingRightsHolder):
        check_decision(
            appeal, "rev-b", "reviewer", REASONS, due - timedelta(seconds=1), automated=False
        )
    check_decision(appeal, "rev-b", "reviewer", REASONS, due, automated=False)
    with pytest.raises(AppealWindowClosed):
        check_rights_holder_response(appeal, "studio", due)


def test_appeal_statement_is_required() -> None:
    with pytest.raises(ReasonsRequired):
        filed_payload("ap1", DECISION, "owner", AppellantRole.AFFECTED, "   ", at(0))
