from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.enforcement import EnforcementActionTaken, EnforcementReversed
from tests.trust_safety.cases.builders import at, fact
from trust_safety.cases import events as ev
from trust_safety.cases.errors import InvalidPeriod
from trust_safety.cases.recorded import RecordedFact
from trust_safety.cases.transparency import compute_transparency


def action(
    minute: float,
    case_id: str | None,
    action_id: str,
    category: str,
    automated: str,
    kind: str = "remove_asset",
) -> RecordedFact:
    return fact(
        EnforcementActionTaken,
        at(minute),
        case_id=case_id,
        action_id=action_id,
        kind=kind,
        statement_category=category,
        automated_decision=automated,
        automated_detection=automated != "AUTOMATED_DECISION_NOT_AUTOMATED",
        source_type="SOURCE_ARTICLE_16" if case_id else "SOURCE_VOLUNTARY",
    )


LOG = [
    fact(
        ev.ReportFiled,
        at(0),
        case_id="c1",
        report_id="r1",
        report_category="hate_speech",
        trusted_flagger=True,
    ),
    fact(ev.ReportFiled, at(5), case_id="c1", report_id="r2", report_category="hate_speech"),
    fact(ev.ReportFiled, at(10), case_id="c2", report_id="r3", report_category="spam"),
    fact(ev.ReportFiled, at(20), case_id="c3", report_id="r4", report_category="sexual_content"),
    action(
        30,
        "c1",
        "a1",
        "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
        "AUTOMATED_DECISION_NOT_AUTOMATED",
    ),
    fact(ev.ReportDismissed, at(70), case_id="c2", reviewer_id="rev"),
    action(
        80,
        None,
        "a2",
        "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
        "AUTOMATED_DECISION_FULLY",
        kind="age_restrict_asset",
    ),
    action(
        140,
        "c3",
        "a3",
        "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
        "AUTOMATED_DECISION_PARTIALLY",
    ),
    fact(ev.AppealFiled, at(200), appeal_id="ap1", decision_id="a1"),
    fact(ev.AppealFiled, at(210), appeal_id="ap2", decision_id="a3"),
    fact(ev.AppealDecided, at(260), appeal_id="ap1", outcome="reversed"),
    fact(EnforcementReversed, at(260), action_id="a1"),
    fact(ev.AppealDecided, at(330), appeal_id="ap2", outcome="upheld"),
]


def test_full_period_figures() -> None:
    r = compute_transparency(LOG, at(0), at(days=1))
    assert r.reports_received == 4
    assert r.reports_by_category == {"hate_speech": 2, "sexual_content": 1, "spam": 1}
    assert r.reports_from_trusted_flaggers == 1
    assert r.actions_taken == 3
    assert r.actions_by_category == {
        "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH": {"automated": 0, "human": 1},
        "STATEMENT_CATEGORY_OTHER_VIOLATION_TC": {"automated": 1, "human": 1},
    }
    assert r.actions_by_kind == {"age_restrict_asset": 1, "remove_asset": 2}
    assert r.own_initiative_actions == 1
    assert r.actions_automated_detection == 2
    assert r.reports_dismissed == 1
    assert (r.appeals_filed, r.appeals_decided, r.appeals_reversed, r.appeals_upheld) == (
        2,
        2,
        1,
        1,
    )
    assert r.reversals == 1
    # decisions on cases: c1 after 30 min, c2 after 60, c3 after 120 -> median 60 min
    assert r.median_time_to_decision_s == 3600.0
    # appeals: 60 and 120 minutes
    assert r.median_appeal_time_to_decision_s == 90 * 60.0
    assert r.to_dict()["period_start"] == at(0).isoformat()


def test_a_period_counts_only_its_own_events_but_clocks_span_periods() -> None:
    r = compute_transparency(LOG, at(60), at(150))
    assert r.reports_received == 0
    assert r.actions_taken == 2  # a2 and a3
    assert r.reports_dismissed == 1
    # c2 filed at 10 decided at 70 (60 min); c3 filed at 20 decided at 140 (120 min)
    assert r.median_time_to_decision_s == 90 * 60.0


def test_as_of_recomputes_what_was_known_on_a_past_date() -> None:
    before_appeals_decided = compute_transparency(LOG, at(0), at(days=1), as_of=at(250))
    assert before_appeals_decided.appeals_filed == 2
    assert before_appeals_decided.appeals_reversed == 0
    assert before_appeals_decided.reversals == 0
    later = compute_transparency(LOG, at(0), at(days=1), as_of=at(days=30))
    assert later.appeals_reversed == 1
    # recomputing the same snapshot later gives the same figures
    assert compute_transparency(LOG, at(0), at(days=1), as_of=at(250)) == before_appeals_decided


def test_invalid_periods() -> None:
    with pytest.raises(InvalidPeriod):
        compute_transparency(LOG, at(10), at(10))
    with pytest.raises(InvalidPeriod):
        compute_transparency(LOG, at(10), at(20), as_of=at(5))


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 400))
def test_splitting_a_period_adds_up(split_minute: int) -> None:
    whole = compute_transparency(LOG, at(0), at(days=1))
    left = compute_transparency(LOG, at(0), at(split_minute) + timedelta(microseconds=1))
    right = compute_transparency(LOG, at(split_minute) + timedelta(microseconds=1), at(days=1))
    for name in (
        "reports_received",
        "actions_taken",
        "appeals_filed",
        "appeals_decided",
        "appeals_reversed",
        "reports_dismissed",
        "reversals",
    ):
        assert getattr(left, name) + getattr(right, name) == getattr(whole, name)
