"""The SQL case queue answers exactly like the pure fold the commands decide with."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from core.events import SYSTEM_ACTOR, RecordedEvent
from trust_safety.cases.models import CaseRow, ReportRow
from trust_safety.cases.projections import CaseQueueProjection
from trust_safety.cases.queries import reviewer_queue
from trust_safety.cases.recorded import RecordedFact
from trust_safety.cases.triage import CaseQueue

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CASES = ["c0", "c1", "c2"]
REVIEWERS = ["ra", "rb"]


@pytest.fixture
def session() -> Iterator[Session]:
    engine = create_engine("sqlite://")
    for table in (CaseRow.__table__, ReportRow.__table__):
        table.create(engine)  # type: ignore[attr-defined]
    with Session(engine) as s:
        yield s
    engine.dispose()


OPS = st.lists(
    st.tuples(
        st.sampled_from(["file", "triage", "claim", "release", "action", "dismiss"]),
        st.sampled_from(CASES),
        st.sampled_from(REVIEWERS),
        st.sampled_from([0, 5, 20, 90]),  # minutes to advance; leases last 15
        st.floats(0, 150, allow_nan=False),  # priority
    ),
    max_size=40,
)


def payload_for(op: str, case: str, reviewer: str, n: int, at: datetime, prio: float) -> Any:
    if op == "file":
        return "ReportFiled", {
            "case_id": case,
            "report_id": f"r{n}",
            "reporter_id": f"u{n % 3}",
            "trusted_flagger": n % 5 == 0,
            "target": {"kind": "asset", "id": case},
            "report_category": ["spam", "violence", "hate_speech"][n % 3],
            "explanation": "explained",
            "at_seconds": None,
        }
    if op == "triage":
        return "ReportTriaged", {"case_id": case, "priority": round(prio, 3), "signals": {}}
    if op == "claim":
        return "ReportClaimed", {
            "case_id": case,
            "reviewer_id": reviewer,
            "expires_at": (at + timedelta(minutes=15)).isoformat(),
        }
    if op == "release":
        return "ReportClaimReleased", {"case_id": case, "reviewer_id": reviewer}
    if op == "action":
        return "ReportActioned", {"case_id": case, "reviewer_id": reviewer, "action_ids": [f"a{n}"]}
    return "ReportDismissed", {"case_id": case, "reviewer_id": reviewer, "reasons": "fine"}


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(OPS, st.sampled_from([0, 10, 30, 300]))
# a release by someone who does not hold the claim changes nothing
@example(
    [
        ("file", "c0", "ra", 0, 50.0),
        ("triage", "c0", "ra", 0, 50.0),
        ("claim", "c0", "ra", 0, 0.0),
        ("release", "c0", "rb", 0, 0.0),
    ],
    0,
)
# a lease that ran out lets another reviewer claim; a decision ends every claim
@example(
    [
        ("file", "c0", "ra", 0, 50.0),
        ("triage", "c0", "ra", 0, 50.0),
        ("claim", "c0", "ra", 0, 0.0),
        ("claim", "c0", "rb", 20, 0.0),
        ("file", "c1", "ra", 0, 0.0),
        ("triage", "c1", "ra", 0, 90.0),
        ("dismiss", "c0", "rb", 0, 0.0),
        ("triage", "c0", "ra", 5, 10.0),
    ],
    10,
)
def test_queue_projection_equals_the_fold(
    session: Session, ops: list[tuple[str, str, str, int, float]], later: int
) -> None:
    for table in (CaseRow.__table__, ReportRow.__table__):
        session.execute(table.delete())  # type: ignore[attr-defined]
    pure = CaseQueue()
    projection = CaseQueueProjection()
    filed: set[str] = set()
    at = T0
    for n, (op, case, reviewer, advance, prio) in enumerate(ops, start=1):
        at += timedelta(minutes=advance)
        if op != "file" and case not in filed:
            continue  # every case stream starts with a report
        filed.add(case)
        type_, payload = payload_for(op, case, reviewer, n, at, prio)
        pure.apply(RecordedFact(type_, at, payload))
        projection.apply(
            session,
            RecordedEvent(
                event_id=uuid.uuid4(),
                type=type_,
                schema_version=1,
                stream_id=f"report-{case}",
                stream_version=n,
                position=n,
                occurred_at=at,
                actor=SYSTEM_ACTOR,
                correlation_id=uuid.uuid4(),
                payload=payload,
            ),
        )
    session.flush()
    now = at + timedelta(minutes=later)

    def ids(rows: list[dict[str, Any]]) -> list[str]:
        return [r["case_id"] for r in rows]

    assert ids(reviewer_queue(session, "x", see_all=True, now=now, limit=200)) == [
        i.case_id for i in pure.ordered(now)
    ]
    for reviewer in REVIEWERS:
        assert ids(reviewer_queue(session, reviewer, see_all=False, now=now, limit=200)) == [
            i.case_id for i in pure.visible_to_reviewer(reviewer, now)
        ]
    for case_id, item in pure.items.items():
        row = session.get(CaseRow, case_id)
        assert row is not None
        assert row.status == item.status.value
        assert sorted(row.reporter_ids) == sorted(item.reporter_ids)
        assert row.report_ids == item.report_ids
        assert sorted(row.categories) == sorted(c.value for c in item.categories)
        assert set(row.participants) == item.participants
        assert row.action_ids == item.action_ids
        assert row.decided_by == item.decided_by
