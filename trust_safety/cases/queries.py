"""Read-side queries over the cases read models, with who-may-see-what applied."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from core.db import as_utc
from trust_safety.cases.models import (
    ActionRow,
    AppealRow,
    CaseRow,
    NotificationRow,
    ReportRow,
)
from trust_safety.cases.triage import AGE_BOOST_CAP, AGE_BOOST_PER_HOUR

MAX_PAGE = 200


def _iso(moment: datetime | None) -> str | None:
    value = as_utc(moment)
    return value.isoformat() if value else None


def effective_priority(row: CaseRow, now: datetime) -> float:
    first = as_utc(row.first_filed_at) or now
    waited_h = max(0.0, (now - first).total_seconds() / 3600.0)
    return row.priority + min(AGE_BOOST_CAP, AGE_BOOST_PER_HOUR * waited_h)


def _live_claim(row: CaseRow, now: datetime) -> str | None:
    expires = as_utc(row.claim_expires_at)
    if row.claim_reviewer_id and expires and now < expires:
        return row.claim_reviewer_id
    return None


def case_view(row: CaseRow, now: datetime) -> dict[str, Any]:
    return {
        "case_id": row.case_id,
        "target": {"kind": row.target_kind, "id": row.target_id},
        "status": row.status,
        "priority": row.priority,
        "effective_priority": round(effective_priority(row, now), 6),
        "categories": list(row.categories),
        "report_count": len(row.report_ids),
        "trusted_flagger": row.trusted_flagger,
        "signals": dict(row.signals),
        "first_filed_at": _iso(row.first_filed_at),
        "claimed_by": _live_claim(row, now),
        "claim_expires_at": _iso(row.claim_expires_at) if _live_claim(row, now) else None,
        "decided_at": _iso(row.decided_at),
        "decided_by": row.decided_by,
        "action_ids": list(row.action_ids),
    }


def reviewer_queue(
    s: Session, reviewer_id: str, *, see_all: bool, now: datetime, limit: int = 50
) -> list[dict[str, Any]]:
    """Open cases in review order: most urgent first, waiting time counted.

    Exact top ``limit`` without loading the whole queue: waiting adds at most AGE_BOOST_CAP, so
    nothing whose static priority is more than the cap below the ``limit``-th highest can rank.
    """
    now = now.astimezone(UTC)
    limit = max(1, min(limit, MAX_PAGE))
    base = select(CaseRow).where(CaseRow.status == "open")
    if not see_all:
        base = base.where(
            or_(
                CaseRow.claim_reviewer_id.is_(None),
                CaseRow.claim_reviewer_id == reviewer_id,
                CaseRow.claim_expires_at <= now,
            )
        )
    kth = s.scalar(
        base.with_only_columns(CaseRow.priority)
        .order_by(CaseRow.priority.desc())
        .offset(limit - 1)
        .limit(1)
    )
    if kth is not None:
        base = base.where(CaseRow.priority >= kth - AGE_BOOST_CAP)
    rows = list(s.scalars(base))
    rows.sort(key=lambda r: (-effective_priority(r, now), as_utc(r.first_filed_at), r.case_id))
    return [case_view(r, now) for r in rows[:limit]]


def can_reviewer_see_case(row: CaseRow, reviewer_id: str, now: datetime) -> bool:
    """Reviewers see what they may claim, what they hold, and what they decided."""
    if reviewer_id in row.participants:
        return True
    if row.status != "open":
        return False
    holder = _live_claim(row, now)
    return holder is None or holder == reviewer_id


def reports_of_case(s: Session, case_id: str) -> list[dict[str, Any]]:
    rows = s.scalars(
        select(ReportRow).where(ReportRow.case_id == case_id).order_by(ReportRow.filed_at)
    )
    return [report_view(r, include_reporter=True) for r in rows]


def report_view(row: ReportRow, *, include_reporter: bool) -> dict[str, Any]:
    out = {
        "report_id": row.report_id,
        "case_id": row.case_id,
        "target": {"kind": row.target_kind, "id": row.target_id},
        "category": row.category,
        "explanation": row.explanation,
        "at_seconds": row.at_seconds,
        "trusted_flagger": row.trusted_flagger,
        "filed_at": _iso(row.filed_at),
        "outcome": row.outcome,
        "decided_at": _iso(row.decided_at),
    }
    if include_reporter:
        out["reporter_id"] = row.reporter_id
    return out


def my_reports(s: Session, reporter_id: str, limit: int = 100) -> list[dict[str, Any]]:
    rows = s.scalars(
        select(ReportRow)
        .where(ReportRow.reporter_id == reporter_id)
        .order_by(ReportRow.filed_at.desc())
        .limit(max(1, min(limit, MAX_PAGE)))
    )
    return [report_view(r, include_reporter=False) for r in rows]


def action_view(row: ActionRow, *, internal: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "action_id": row.action_id,
        "puid": row.puid,
        "kind": row.kind,
        "target": {"kind": row.target_kind, "id": row.target_id},
        "affected_user_id": row.affected_user_id,
        "category": row.category,
        "strike": row.strike,
        "ends_at": _iso(row.ends_at),
        "taken_at": _iso(row.taken_at),
        "statement_of_reasons": dict(row.statement),
        "reversed_at": _iso(row.reversed_at),
        "reversal_reason": row.reversal_reason,
    }
    if internal:
        out.update(
            case_id=row.case_id,
            decided_by=row.decided_by,
            participants=list(row.participants),
            evidence=dict(row.evidence),
            triggered_by=list(row.triggered_by),
        )
    return out


def appeal_view(row: AppealRow, *, internal: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "appeal_id": row.appeal_id,
        "decision_id": row.decision_id,
        "decision_kind": row.decision_kind,
        "appellant_role": row.appellant_role,
        "statement": row.statement,
        "status": row.status,
        "filed_at": _iso(row.filed_at),
        "rights_holder_due_at": _iso(row.rights_holder_due_at),
        "rights_holder_responded": row.rights_holder_responded_at is not None,
        "outcome": row.outcome,
        "reasons": row.reasons,
        "decided_at": _iso(row.decided_at),
    }
    if internal:
        out.update(
            appellant_id=row.appellant_id,
            reviewer_id=row.reviewer_id,
            rights_holder_id=row.rights_holder_id,
            rights_holder_response=row.rights_holder_response,
        )
    return out


def notification_view(row: NotificationRow) -> dict[str, Any]:
    return {
        "notification_id": row.notification_id,
        "kind": row.kind,
        "subject": row.subject,
        "body": row.body,
        "refs": dict(row.refs),
        "created_at": _iso(row.created_at),
        "read_at": _iso(row.read_at),
    }


# What a reviewer reads of each event on a case's stream: who did what, never a report's
# explanation (it is the reporter's personal data; the case's reports show it, redacted by
# erasure like everything else).
_HISTORY_FIELDS = ("reviewer_id", "expires_at", "renewal", "priority", "categories",
                   "distinct_reporters", "action_ids", "reasons", "report_id", "report_category",
                   "trusted_flagger")


def case_history(events: list[Any]) -> list[dict[str, Any]]:
    """The case's own stream, oldest first, as (when, what, who, the facts of it)."""
    return [
        {
            "at": e.occurred_at.isoformat(),
            "type": e.type,
            "actor_id": e.actor.id,
            "actor_role": e.actor.role,
            "facts": {k: e.payload[k] for k in _HISTORY_FIELDS if k in e.payload},
        }
        for e in events
    ]


def related_cases(s: Session, row: CaseRow, now: datetime, limit: int = 20) -> list[dict[str, Any]]:
    """Other cases a reviewer should weigh: on the same target, or on anything whose
    enforcement fell on the account this case's actions (or earlier ones on its target)
    affected."""
    affected = set(
        s.scalars(select(ActionRow.affected_user_id).where(ActionRow.target_id == row.target_id))
    )
    case_ids: set[str] = set(
        s.scalars(select(CaseRow.case_id).where(CaseRow.target_id == row.target_id))
    )
    if affected:
        case_ids.update(
            c
            for c in s.scalars(
                select(ActionRow.case_id).where(ActionRow.affected_user_id.in_(affected))
            )
            if c
        )
        case_ids.update(
            s.scalars(select(CaseRow.case_id).where(CaseRow.target_id.in_(affected)))
        )
    case_ids.discard(row.case_id)
    if not case_ids:
        return []
    rows = s.scalars(
        select(CaseRow)
        .where(CaseRow.case_id.in_(sorted(case_ids)))
        .order_by(CaseRow.first_filed_at.desc())
        .limit(limit)
    )
    return [case_view(r, now) for r in rows]
