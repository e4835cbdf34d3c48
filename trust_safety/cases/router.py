"""HTTP API of the cases domain.

Who sees what: users see their own reports, the actions taken against them, their appeals and
their inbox; reviewers see the cases they may claim or hold or decided, and the appeals assigned
to them; admins see everything. Records a caller may not see answer 404, so ids cannot be
probed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import BigInteger, literal, select

from contracts.statement_of_reasons import (
    MAX_STATEMENTS_PER_SUBMISSION,
    StatementOfReasons,
)
from core.access import Admin, AnyUser, Reviewer, RightsHolder
from core.app import ServicesDep, SessionDep
from core.auth import Principal, Role
from core.errors import NotFound
from core.events import stream_id, utcnow
from core.openapi import MAX_POSITION, id_path, problems
from trust_safety.cases import appeals, claims, enforcement, reports
from trust_safety.cases import queries as q
from trust_safety.cases.enforcement import CaseAction, EnforcementDecision
from trust_safety.cases.errors import InvalidPeriod
from trust_safety.cases.events import AppealOutcome
from trust_safety.cases.inbox import mark_read
from trust_safety.cases.models import (
    ActionRow,
    AppealRow,
    CaseRow,
    NotificationRow,
    OutputBlockRow,
)
from trust_safety.cases.notices import ReportSubmission
from trust_safety.cases.output_blocks import block_view
from trust_safety.cases.policy import MAX_CLAIM_TTL
from trust_safety.cases.schemas import (
    ActionListPublic,
    ActionPublic,
    ActionReviewPublic,
    ActionTakenPublic,
    AppealDecidedPublic,
    AppealDetailPublic,
    AppealFiledPublic,
    AppealListPublic,
    AppealQueuePublic,
    AppealReviewDetailPublic,
    CaseDetailPublic,
    CaseQueuePublic,
    ClaimPublic,
    InboxPublic,
    OutputBlockDetailPublic,
    OutputBlockQueuePublic,
    ReportFiledPublic,
    ReportListPublic,
    StatementExportPublic,
    TransparencyReportPublic,
)
from trust_safety.cases.transparency import compute_transparency
from trust_safety.cases.triage import CaseStatus

router = APIRouter(prefix="/v1", tags=["cases"], responses=problems(401, 503))


CaseId = Annotated[str, id_path("a case id: '<target kind>:<target id>:<epoch>'")]
ActionId = Annotated[str, id_path("an enforcement action id")]
AppealId = Annotated[str, id_path("an appeal id")]
Limit = Annotated[int, Query(ge=1, le=200)]
# A reviewer's command on a case: not theirs to see (404), held by another or closed (409).
_CASE_COMMAND = problems(400, 403, 404, 409, 413, 422)
_APPEAL_COMMAND = problems(400, 403, 404, 409, 413, 422)


class _Body(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class ClaimBody(_Body):
    ttl_s: int | None = Field(default=None, ge=30, le=int(MAX_CLAIM_TTL.total_seconds()))


class DismissBody(_Body):
    reasons: str = Field(min_length=10, max_length=5000)


class AppealBody(_Body):
    decision_id: str = Field(min_length=1, max_length=260)
    statement: str = Field(min_length=1, max_length=5000)


class AssignBody(_Body):
    reviewer_id: str = Field(min_length=1, max_length=128)


class RespondBody(_Body):
    response: str = Field(min_length=1, max_length=5000)


class DecideBody(_Body):
    outcome: AppealOutcome
    reasons: str = Field(min_length=1, max_length=5000)


# -- reports and the queue -----------------------------------------------------------------------


@router.post(
    "/reports",
    status_code=201,
    response_model=ReportFiledPublic,
    responses=problems(400, 404, 409, 413, 422),
)
def file_report(
    body: ReportSubmission, principal: AnyUser, services: ServicesDep
) -> dict[str, Any]:
    filed = reports.file_report(services, principal, body)
    return {"report_id": filed.report_id, "case_id": filed.case_id}


@router.get("/reports/mine", response_model=ReportListPublic, responses=problems(422))
def my_reports(principal: AnyUser, session: SessionDep, limit: Limit = 50) -> dict[str, Any]:
    return {"reports": q.my_reports(session, principal.id, limit)}


@router.get("/cases/queue", response_model=CaseQueuePublic, responses=problems(403, 422))
def case_queue(principal: Reviewer, session: SessionDep, limit: Limit = 50) -> dict[str, Any]:
    items = q.reviewer_queue(
        session, principal.id, see_all=principal.is_admin, now=utcnow(), limit=limit
    )
    return {"cases": items}


def _visible_case(
    session: Any, services: Any, principal: Principal, case_id: str
) -> dict[str, Any]:
    """The case's view, its claim and who may see it taken from the case's own stream: the
    queue read model may not have seen a claim made a moment ago."""
    row = session.get(CaseRow, case_id)
    item = claims.case_on_stream(services, case_id)
    now = utcnow()
    if row is None or item is None:
        raise NotFound(f"no case {case_id!r}")
    claim = item.live_claim(now)
    holder = claim.reviewer_id if claim is not None else None
    if not (
        principal.is_admin
        or principal.id in item.participants
        or (item.status is CaseStatus.OPEN and holder in (None, principal.id))
    ):
        raise NotFound(f"no case {case_id!r}")
    return {
        **q.case_view(row, now),
        "claimed_by": holder,
        "claim_expires_at": claim.expires_at.isoformat() if claim is not None else None,
    }


@router.post(
    "/cases/next",
    response_model=ClaimPublic,
    response_model_exclude_unset=True,
    responses=problems(400, 403, 409, 413, 422),
)
def claim_next_case(
    principal: Reviewer, services: ServicesDep, body: ClaimBody | None = None
) -> dict[str, Any]:
    """Claim the most urgent claimable case; ``case_id`` is null when the queue is empty."""
    ttl = timedelta(seconds=body.ttl_s) if body and body.ttl_s else None
    grant = claims.claim_next(services, principal, ttl)
    if grant is None:
        return {"case_id": None}
    return {
        "case_id": grant.case_id,
        "reviewer_id": grant.reviewer_id,
        "expires_at": grant.expires_at.isoformat(),
        "renewal": grant.renewal,
    }


@router.get("/cases/{case_id}", response_model=CaseDetailPublic, responses=problems(403, 404, 422))
def get_case(
    case_id: CaseId, principal: Reviewer, session: SessionDep, services: ServicesDep
) -> dict[str, Any]:
    view = _visible_case(session, services, principal, case_id)
    row = session.get(CaseRow, case_id)
    assert row is not None  # _visible_case found it
    events = services.store.read_stream(stream_id(claims.CLAIMS.category, case_id))
    return {
        **view,
        "reports": q.reports_of_case(session, case_id),
        "history": q.case_history(events),
        "related": q.related_cases(session, row, utcnow()),
    }


@router.post("/cases/{case_id}/claim", response_model=ClaimPublic, responses=_CASE_COMMAND)
def claim_case(
    case_id: CaseId, principal: Reviewer, services: ServicesDep, body: ClaimBody | None = None
) -> dict[str, Any]:
    ttl = timedelta(seconds=body.ttl_s) if body and body.ttl_s else None
    grant = claims.claim_case(services, principal, case_id, ttl)
    return {
        "case_id": case_id,
        "reviewer_id": grant.reviewer_id,
        "expires_at": grant.expires_at.isoformat(),
        "renewal": grant.renewal,
    }


@router.post("/cases/{case_id}/release", status_code=204, responses=problems(403, 404, 409, 422))
def release_case(case_id: CaseId, principal: Reviewer, services: ServicesDep) -> None:
    claims.release_case(services, principal, case_id)


@router.post(
    "/cases/{case_id}/actions",
    status_code=201,
    response_model=ActionTakenPublic,
    responses=_CASE_COMMAND,
)
def act_on_case(
    case_id: CaseId, body: CaseAction, principal: Reviewer, services: ServicesDep
) -> dict[str, Any]:
    taken = enforcement.act_on_case(services, principal, case_id, body)
    return {
        "action_id": taken.action_id,
        "puid": taken.puid,
        "kind": taken.kind.value,
        "ladder_action_ids": list(taken.ladder_action_ids),
    }


@router.post("/cases/{case_id}/dismiss", status_code=204, responses=_CASE_COMMAND)
def dismiss_case(
    case_id: CaseId, body: DismissBody, principal: Reviewer, services: ServicesDep
) -> None:
    reports.dismiss_case(services, principal, case_id, body.reasons)


# -- enforcement ---------------------------------------------------------------------------------


@router.post(
    "/enforcement/actions",
    status_code=201,
    response_model=ActionTakenPublic,
    responses=_CASE_COMMAND,
)
def own_initiative_action(
    body: EnforcementDecision, principal: Reviewer, services: ServicesDep
) -> dict[str, Any]:
    taken = enforcement.act_on_own_initiative(services, principal, body)
    return {
        "action_id": taken.action_id,
        "puid": taken.puid,
        "kind": taken.kind.value,
        "ladder_action_ids": list(taken.ladder_action_ids),
    }


@router.get("/enforcement/mine", response_model=ActionListPublic)
def my_actions(principal: AnyUser, session: SessionDep) -> dict[str, Any]:
    rows = session.scalars(
        select(ActionRow)
        .where(ActionRow.affected_user_id == principal.id)
        .order_by(ActionRow.position.desc())
        .limit(q.MAX_PAGE)
    )
    return {"actions": [q.action_view(r, internal=False) for r in rows]}


@router.get(
    "/enforcement/actions/{action_id}",
    response_model=ActionReviewPublic | ActionPublic,
    responses=problems(404, 422),
)
def get_action(action_id: ActionId, principal: AnyUser, session: SessionDep) -> dict[str, Any]:
    row = session.get(ActionRow, action_id)
    if row is None:
        raise NotFound(f"no action {action_id!r}")
    # Reviewers see the evidence of decisions they took part in or whose appeal they hold.
    staff = principal.is_admin or (
        principal.has(Role.reviewer)
        and (
            principal.id in row.participants
            or principal.id == row.decided_by
            or session.scalar(
                select(AppealRow.appeal_id).where(
                    AppealRow.decision_id == action_id, AppealRow.reviewer_id == principal.id
                )
            )
            is not None
        )
    )
    if not (staff or principal.id == row.affected_user_id or principal.id in row.notifier_ids):
        raise NotFound(f"no action {action_id!r}")
    return q.action_view(row, internal=staff)


# -- appeals -------------------------------------------------------------------------------------


@router.post(
    "/appeals",
    status_code=201,
    response_model=AppealFiledPublic,
    responses=problems(400, 403, 404, 409, 413, 422),
)
def file_appeal(body: AppealBody, principal: AnyUser, services: ServicesDep) -> dict[str, Any]:
    filed = appeals.file_appeal(services, principal, body.decision_id, body.statement)
    return {
        "appeal_id": filed.appeal_id,
        "assigned": filed.reviewer_id is not None,
        "rights_holder_due_at": (
            filed.rights_holder_due_at.isoformat() if filed.rights_holder_due_at else None
        ),
    }


@router.get("/appeals/mine", response_model=AppealListPublic)
def my_appeals(principal: AnyUser, session: SessionDep) -> dict[str, Any]:
    rows = session.scalars(
        select(AppealRow)
        .where(AppealRow.appellant_id == principal.id)
        .order_by(AppealRow.filed_at.desc())
        .limit(q.MAX_PAGE)
    )
    return {"appeals": [q.appeal_view(r, internal=False) for r in rows]}


@router.get("/appeals/queue", response_model=AppealQueuePublic, responses=problems(403))
def appeal_queue(principal: Reviewer, session: SessionDep) -> dict[str, Any]:
    stmt = select(AppealRow).where(AppealRow.status != "decided")
    if not principal.is_admin:
        stmt = stmt.where(AppealRow.reviewer_id == principal.id)
    rows = session.scalars(stmt.order_by(AppealRow.filed_at).limit(q.MAX_PAGE))
    return {"appeals": [q.appeal_view(r, internal=True) for r in rows]}


@router.get(
    "/appeals/{appeal_id}",
    response_model=AppealReviewDetailPublic | AppealDetailPublic,
    response_model_exclude_unset=True,
    responses=problems(404, 422),
)
def get_appeal(appeal_id: AppealId, principal: AnyUser, session: SessionDep) -> dict[str, Any]:
    row = session.get(AppealRow, appeal_id)
    if row is None:
        raise NotFound(f"no appeal {appeal_id!r}")
    staff = principal.is_admin or row.reviewer_id == principal.id
    if not (staff or principal.id in (row.appellant_id, row.rights_holder_id)):
        raise NotFound(f"no appeal {appeal_id!r}")
    view = q.appeal_view(row, internal=staff)
    action = session.get(ActionRow, row.decision_id)
    if action is not None:
        # The reviewer sees the evidence behind the original decision (rule and version,
        # classifier scores, matched opt-out or cameo, reviewers); the parties see its
        # statement of reasons.
        view["original_decision"] = q.action_view(action, internal=staff)
    else:
        case = session.get(CaseRow, row.decision_id)
        if case is not None and staff:
            view["original_decision"] = {
                **q.case_view(case, utcnow()),
                "reports": q.reports_of_case(session, case.case_id),
            }
    return view


@router.post("/appeals/{appeal_id}/assign", status_code=204, responses=_APPEAL_COMMAND)
def assign_appeal(
    appeal_id: AppealId, body: AssignBody, principal: Admin, services: ServicesDep
) -> None:
    appeals.assign_appeal(services, principal, appeal_id, body.reviewer_id)


@router.post("/appeals/{appeal_id}/respond", status_code=204, responses=_APPEAL_COMMAND)
def respond_to_appeal(
    appeal_id: AppealId, body: RespondBody, principal: RightsHolder, services: ServicesDep
) -> None:
    appeals.respond_to_appeal(services, principal, appeal_id, body.response)


@router.post(
    "/appeals/{appeal_id}/decide", response_model=AppealDecidedPublic, responses=_APPEAL_COMMAND
)
def decide_appeal(
    appeal_id: AppealId, body: DecideBody, principal: Reviewer, services: ServicesDep
) -> dict[str, Any]:
    result = appeals.decide_appeal(services, principal, appeal_id, body.outcome, body.reasons)
    return {
        "appeal_id": result.appeal_id,
        "outcome": result.outcome.value,
        "reversed_action_ids": list(result.reversed_action_ids),
        "reopened_case_id": result.reopened_case_id,
    }


# -- blocked outputs -----------------------------------------------------------------------------


@router.get(
    "/output-blocks/queue", response_model=OutputBlockQueuePublic, responses=problems(403, 422)
)
def output_block_queue(
    principal: Reviewer, session: SessionDep, limit: Limit = 50
) -> dict[str, Any]:
    """Blocked outputs whose requester asked for a human review, oldest appeal first: a
    reviewer's own assignments (admins: all), each with the frames and scores behind it."""
    stmt = (
        select(OutputBlockRow, AppealRow)
        .join(AppealRow, AppealRow.decision_id == OutputBlockRow.action_id)
        .where(AppealRow.status != "decided")
    )
    if not principal.is_admin:
        stmt = stmt.where(AppealRow.reviewer_id == principal.id)
    rows = session.execute(stmt.order_by(AppealRow.filed_at, AppealRow.appeal_id).limit(limit))
    return {
        "blocks": [
            {**block_view(block), "appeal": q.appeal_view(appeal, internal=True)}
            for block, appeal in rows
        ]
    }


@router.get(
    "/output-blocks/{action_id}",
    response_model=OutputBlockDetailPublic,
    responses=problems(403, 404, 422),
)
def get_output_block(
    action_id: ActionId, principal: Reviewer, session: SessionDep
) -> dict[str, Any]:
    """A blocked output with its evidence, for an admin or a reviewer of one of its appeals."""
    block = session.scalar(select(OutputBlockRow).where(OutputBlockRow.action_id == action_id))
    appeals_of = list(
        session.scalars(
            select(AppealRow).where(AppealRow.decision_id == action_id).order_by(AppealRow.filed_at)
        )
    )
    if block is None or not (
        principal.is_admin or any(a.reviewer_id == principal.id for a in appeals_of)
    ):
        raise NotFound(f"no blocked output {action_id!r}")
    return {**block_view(block), "appeals": [q.appeal_view(a, internal=True) for a in appeals_of]}


# -- inbox ---------------------------------------------------------------------------------------


@router.get("/inbox", response_model=InboxPublic, responses=problems(422))
def inbox(
    principal: AnyUser,
    session: SessionDep,
    unread_only: bool = False,
    limit: Limit = 50,
) -> dict[str, Any]:
    stmt = select(NotificationRow).where(NotificationRow.recipient_id == principal.id)
    if unread_only:
        stmt = stmt.where(NotificationRow.read_at.is_(None))
    rows = session.scalars(
        stmt.order_by(
            NotificationRow.created_at.desc(), NotificationRow.notification_id.desc()
        ).limit(limit)
    )
    return {"notifications": [q.notification_view(r) for r in rows]}


@router.post(
    "/inbox/{notification_id}/read", status_code=204, responses=problems(403, 404, 409, 422)
)
def read_notification(
    notification_id: Annotated[str, id_path("a notification id")],
    principal: AnyUser,
    services: ServicesDep,
) -> None:
    mark_read(services, principal, notification_id)


# -- transparency --------------------------------------------------------------------------------


@router.get(
    "/transparency/statements",
    response_model=StatementExportPublic,
    responses=problems(403, 422),
)
def export_statements(
    principal: Admin,
    session: SessionDep,
    after_position: Annotated[int, Query(ge=0, le=MAX_POSITION)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_STATEMENTS_PER_SUBMISSION)] = 100,
) -> dict[str, Any]:
    """Statements in the Transparency Database's ``POST /api/v1/statements`` body shape.

    One statement per action, keyed by its puid and ordered by log position: paging with
    ``after_position`` yields every statement exactly once, and exporting again yields the
    same bodies, so a resubmission can be deduplicated by puid on either side.
    """
    rows = list(
        session.scalars(
            select(ActionRow)
            # bound as BIGINT: any log position may be asked for, whatever the column's width
            .where(ActionRow.position > literal(after_position, BigInteger))
            .order_by(ActionRow.position)
            .limit(limit)
        )
    )
    statements = [StatementOfReasons.parse(r.statement).to_transparency_db() for r in rows]
    return {
        "statements": statements,
        "next_after_position": rows[-1].position if rows else after_position,
    }


@router.get(
    "/transparency/report", response_model=TransparencyReportPublic, responses=problems(422)
)
def transparency_report(
    principal: AnyUser,
    services: ServicesDep,
    start: datetime,
    end: datetime,
    as_of: datetime | None = None,
) -> dict[str, Any]:
    """Santa Clara figures for ``[start, end)`` as known at ``as_of``, recomputed from the log."""
    for name, value in (("start", start), ("end", end), ("as_of", as_of)):
        if value is not None and value.tzinfo is None:
            raise InvalidPeriod(f"{name} needs a timezone (use UTC, e.g. 2026-01-01T00:00:00Z)")
    events = services.store.iter_all(categories=("report", "enforcement", "appeal"))
    report = compute_transparency(events, start, end, as_of.astimezone(UTC) if as_of else None)
    return report.to_dict()
