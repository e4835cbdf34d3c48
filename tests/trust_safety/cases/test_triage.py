from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.enforcement import EnforcementActionTaken
from tests.trust_safety.cases.builders import at, fact
from trust_safety.cases import events as ev
from trust_safety.cases.errors import (
    CaseClosed,
    ClaimHeld,
    ClaimNotHeld,
    InvalidReport,
    UnknownCase,
)
from trust_safety.cases.notices import ReportCategory, ReportSubmission
from trust_safety.cases.recorded import RecordedFact
from trust_safety.cases.triage import AutomatedSignals, CaseQueue, CaseStatus, triage_priority


def filed(
    case_id: str,
    report_id: str,
    reporter: str,
    category: str,
    minute: float = 0,
    target: str = "asset-1",
    trusted: bool = False,
) -> RecordedFact:
    return fact(
        ev.ReportFiled,
        at(minute),
        case_id=case_id,
        report_id=report_id,
        reporter_id=reporter,
        report_category=category,
        trusted_flagger=trusted,
        target={"kind": "asset", "id": target},
    )


def triaged(case_id: str, priority: float, minute: float = 0) -> RecordedFact:
    return fact(ev.ReportTriaged, at(minute), case_id=case_id, priority=priority, signals={})


def queue_with(*cases: tuple[str, float, float]) -> CaseQueue:
    events = []
    for case_id, priority, minute in cases:
        events.append(filed(case_id, f"r-{case_id}", "u1", "spam", minute, target=case_id))
        events.append(triaged(case_id, priority, minute))
    return CaseQueue().apply_all(events)


def test_report_needs_good_faith_and_a_real_explanation() -> None:
    ok = ReportSubmission.parse(
        {
            "target": {"kind": "asset", "id": "asset-1"},
            "category": "hate_speech",
            "explanation": "Slurs at 0:12 targeting a religion",
            "good_faith": True,
            "at_seconds": 12,
        }
    )
    assert ok.profile.severity == 70
    with pytest.raises(InvalidReport, match="good faith"):
        ReportSubmission.parse(
            {
                "target": {"kind": "asset", "id": "a"},
                "category": "spam",
                "explanation": "it is spam, really",
                "good_faith": False,
            }
        )
    with pytest.raises(InvalidReport, match="explanation"):
        ReportSubmission.parse(
            {
                "target": {"kind": "asset", "id": "a"},
                "category": "spam",
                "explanation": "bad",
                "good_faith": True,
            }
        )
    with pytest.raises(InvalidReport, match="category"):
        ReportSubmission.parse(
            {
                "target": {"kind": "asset", "id": "a"},
                "category": "meh",
                "explanation": "it is spam, really",
                "good_faith": True,
            }
        )
    with pytest.raises(InvalidReport, match="at_seconds only applies"):
        ReportSubmission.parse(
            {
                "target": {"kind": "account", "id": "u"},
                "category": "spam",
                "explanation": "it is spam, really",
                "good_faith": True,
                "at_seconds": 3,
            }
        )
    with pytest.raises(InvalidReport, match="target"):
        ReportSubmission.parse(
            {
                "target": {"kind": "asset", "id": "a/../b"},
                "category": "spam",
                "explanation": "it is spam, really",
                "good_faith": True,
            }
        )


def test_priority_orders_severity_then_corroboration() -> None:
    none = AutomatedSignals()
    child = triage_priority(
        [ReportCategory.CHILD_SAFETY], none, trusted_flagger=False, distinct_reporters=1
    )
    spam = triage_priority([ReportCategory.SPAM], none, trusted_flagger=False, distinct_reporters=1)
    assert child > spam
    likeness = [ReportCategory.LIKENESS_WITHOUT_CONSENT]
    plain = triage_priority(likeness, none, trusted_flagger=False, distinct_reporters=1)
    confident = triage_priority(
        likeness,
        AutomatedSignals({"nsfw": 0.9}, matched_cameo_without_consent=True),
        trusted_flagger=False,
        distinct_reporters=1,
    )
    flagged = triage_priority(likeness, none, trusted_flagger=True, distinct_reporters=1)
    assert confident > plain and flagged > plain
    # a crowd of reporters cannot lift spam above a single severe report
    crowd = triage_priority(
        [ReportCategory.SPAM], none, trusted_flagger=False, distinct_reporters=10_000
    )
    assert crowd < child
    # the most severe category of a case sets its base
    mixed = triage_priority(
        [ReportCategory.SPAM, ReportCategory.CHILD_SAFETY],
        none,
        trusted_flagger=False,
        distinct_reporters=1,
    )
    assert mixed == child
    with pytest.raises(ValueError):
        AutomatedSignals({"x": 1.5})


def test_reports_on_one_target_gather_into_one_case() -> None:
    q = CaseQueue().apply_all(
        [
            filed("c1", "r1", "u1", "spam", 0),
            filed("c1", "r2", "u2", "hate_speech", 1),
            filed("c1", "r2", "u2", "hate_speech", 1),  # redelivered
            triaged("c1", 80.0, 2),
        ]
    )
    item = q.get("c1")
    assert item.report_ids == ["r1", "r2"]
    assert item.reporter_ids == {"u1", "u2"}
    assert item.categories == {ReportCategory.SPAM, ReportCategory.HATE_SPEECH}
    assert q.open_case_by_target["asset:asset-1"] == "c1"
    assert item.status is CaseStatus.OPEN


def test_queue_order_is_priority_then_age_then_id() -> None:
    q = queue_with(("low", 10.0, 0), ("high", 90.0, 5), ("mid-b", 50.0, 3), ("mid-a", 50.0, 3))
    order = [i.case_id for i in q.ordered(at(6))]
    assert order == ["high", "mid-a", "mid-b", "low"]


def test_waiting_lifts_priority_but_never_past_a_full_band() -> None:
    q = queue_with(("old-spam", 10.0, 0), ("new-severe", 35.0, 0))
    assert [i.case_id for i in q.ordered(at(days=0))][0] == "new-severe"
    q2 = queue_with(("old-spam", 10.0, 0), ("fresh", 30.0, 60 * 24 * 3))
    # three days old spam (+30 cap) ties above a fresh 30 only by age tie-break
    assert [i.case_id for i in q2.ordered(at(60 * 24 * 3))] == ["old-spam", "fresh"]
    q3 = queue_with(("old-spam", 10.0, 0), ("fresh", 41.0, 60 * 24 * 30))
    assert [i.case_id for i in q3.ordered(at(60 * 24 * 30))][0] == "fresh"


def test_claim_is_exclusive_until_it_expires_or_is_released() -> None:
    q = queue_with(("c1", 50.0, 0))
    grant = q.claim("c1", "rev-a", at(1), ttl=timedelta(minutes=10))
    assert grant.expires_at == at(11) and not grant.renewal
    q.apply(fact(ev.ReportClaimed, at(1), **grant.to_payload()))
    with pytest.raises(ClaimHeld):
        q.claim("c1", "rev-b", at(5))
    assert q.visible_to_reviewer("rev-b", at(5)) == []
    assert [i.case_id for i in q.visible_to_reviewer("rev-a", at(5))] == ["c1"]
    assert q.require_claim("c1", "rev-a", at(5)).case_id == "c1"
    with pytest.raises(ClaimNotHeld):
        q.require_claim("c1", "rev-b", at(5))
    # the holder renews
    assert q.claim("c1", "rev-a", at(9)).renewal
    # the lease runs out: no event needed, anyone may claim
    assert q.claim("c1", "rev-b", at(11)).reviewer_id == "rev-b"
    with pytest.raises(ClaimNotHeld):
        q.require_claim("c1", "rev-a", at(11))
    # released early
    q.apply(
        fact(
            ev.ReportClaimed,
            at(20),
            case_id="c1",
            reviewer_id="rev-b",
            expires_at=at(35).isoformat(),
        )
    )
    q.apply(fact(ev.ReportClaimReleased, at(21), case_id="c1", reviewer_id="rev-b"))
    assert q.next_claimable("rev-a", at(22)) is not None


def test_decided_case_leaves_the_queue_and_a_new_report_opens_a_new_case() -> None:
    q = queue_with(("c1", 50.0, 0))
    q.apply(
        fact(
            ev.ReportClaimed,
            at(1),
            case_id="c1",
            reviewer_id="rev-a",
            expires_at=at(16).isoformat(),
        )
    )
    q.apply(fact(ev.ReportDismissed, at(2), case_id="c1", reviewer_id="rev-a"))
    assert q.ordered(at(3)) == []
    assert "asset:c1" not in q.open_case_by_target
    assert q.get("c1").participants == {"rev-a"}
    with pytest.raises(CaseClosed):
        q.claim("c1", "rev-b", at(3))
    with pytest.raises(CaseClosed):
        q.require_claim("c1", "rev-a", at(3))
    with pytest.raises(UnknownCase):
        q.claim("nope", "rev-b", at(3))


def test_actioned_case_closes_with_its_actions() -> None:
    q = queue_with(("c1", 50.0, 0))
    # an own-initiative action elsewhere leaves the case alone
    q.apply(fact(EnforcementActionTaken, at(2), case_id=None, action_id="a0"))
    assert q.get("c1").status is CaseStatus.OPEN
    q.apply(
        fact(ev.ReportActioned, at(3), case_id="c1", action_ids=["a1", "a2"], reviewer_id="rev-a")
    )
    item = q.get("c1")
    assert item.status is CaseStatus.ACTIONED and item.action_ids == ["a1", "a2"]
    assert item.decided_by == "rev-a" and "rev-a" in item.participants
    assert "asset:c1" not in q.open_case_by_target


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["ra", "rb", "rc"]), st.integers(0, 60), st.booleans()),
        max_size=25,
    )
)
def test_at_most_one_live_claim_whatever_the_sequence(
    steps: list[tuple[str, int, bool]],
) -> None:
    """Replaying any claim/release sequence through the decision rule never yields two
    holders at once."""
    q = queue_with(("c1", 50.0, 0))
    minute = 0
    for reviewer, advance, release in steps:
        minute += advance
        now = at(minute)
        if release:
            q.apply(fact(ev.ReportClaimReleased, now, case_id="c1", reviewer_id=reviewer))
            continue
        try:
            grant = q.claim("c1", reviewer, now, ttl=timedelta(minutes=15))
        except ClaimHeld:
            held = q.get("c1").live_claim(now)
            assert held is not None and held.reviewer_id != reviewer
            continue
        q.apply(fact(ev.ReportClaimed, now, **grant.to_payload()))
        holders = {i.case_id for i in q.visible_to_reviewer("nobody", now)}
        assert "c1" not in holders
