"""What the cases API answers (``...Public``), one type per audience.

The parties of a decision (the affected user, the notifier, the appellant) get the ``...Public``
views; the people who decide (reviewers who took part, admins) get the ``...ReviewPublic``
views, which add who decided, the evidence and the internal links. A route picks the view for
the caller; the types make sure nothing else goes out.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from core.openapi import Timestamp


class TargetPublic(BaseModel):
    kind: str = Field(examples=["asset", "account"])
    id: str


# -- reports and cases ------------------------------------------------------------------------


class ReportFiledPublic(BaseModel):
    report_id: str
    case_id: str


class ReportPublic(BaseModel):
    """A report as its reporter sees it."""

    report_id: str
    case_id: str
    target: TargetPublic
    category: str
    explanation: str
    at_seconds: float | None
    trusted_flagger: bool
    filed_at: Timestamp
    outcome: str | None
    decided_at: Timestamp | None


class CaseReportPublic(ReportPublic):
    """A report as the reviewer of its case sees it."""

    reporter_id: str


class ReportListPublic(BaseModel):
    reports: list[ReportPublic]


class CasePublic(BaseModel):
    case_id: str
    target: TargetPublic
    status: str = Field(examples=["open", "actioned", "dismissed"])
    priority: float
    effective_priority: float = Field(description="the priority with waiting time counted")
    categories: list[str]
    report_count: int
    trusted_flagger: bool
    signals: dict[str, Any]
    first_filed_at: Timestamp
    claimed_by: str | None
    claim_expires_at: Timestamp | None
    decided_at: Timestamp | None
    decided_by: str | None
    action_ids: list[str]


class CaseEventPublic(BaseModel):
    at: Timestamp
    type: str = Field(examples=["ReportFiled", "ReportClaimed", "ReportActioned"])
    actor_id: str
    actor_role: str
    facts: dict[str, Any]


class CaseDetailPublic(CasePublic):
    reports: list[CaseReportPublic]
    history: list[CaseEventPublic] = Field(description="the case's own event stream, oldest first")
    related: list[CasePublic] = Field(
        description="other cases on the same target or on the same affected account"
    )


class CaseQueuePublic(BaseModel):
    cases: list[CasePublic]


class ClaimPublic(BaseModel):
    """A claim on a case; from ``/cases/next`` only ``case_id`` (null) when the queue is empty."""

    case_id: str | None
    reviewer_id: str | None = None
    expires_at: Timestamp | None = None
    renewal: bool | None = None


# -- enforcement ------------------------------------------------------------------------------


class ActionTakenPublic(BaseModel):
    action_id: str
    puid: str = Field(description="the statement of reasons' unique id")
    kind: str
    ladder_action_ids: list[str] = Field(
        description="account actions the strike ladder added to this one"
    )


class ActionPublic(BaseModel):
    """An enforcement decision as its parties see it: what, why, until when."""

    action_id: str
    puid: str
    kind: str
    target: TargetPublic
    affected_user_id: str
    category: str
    strike: bool
    ends_at: Timestamp | None
    taken_at: Timestamp
    statement_of_reasons: dict[str, Any] = Field(description="the DSA Article 17 statement")
    reversed_at: Timestamp | None
    reversal_reason: str | None


class ActionReviewPublic(ActionPublic):
    """The same decision with the evidence behind it (reviewers who took part, admins)."""

    case_id: str | None
    decided_by: str
    participants: list[str]
    evidence: dict[str, Any]
    triggered_by: list[str]


class ActionListPublic(BaseModel):
    actions: list[ActionPublic]


# -- appeals ----------------------------------------------------------------------------------


class AppealFiledPublic(BaseModel):
    appeal_id: str
    assigned: bool
    rights_holder_due_at: Timestamp | None = Field(
        description="when the rights holder's answer is due (opt-out decisions only)"
    )


class AppealPublic(BaseModel):
    """An appeal as its appellant (or the rights holder it involves) sees it."""

    appeal_id: str
    decision_id: str
    decision_kind: str
    appellant_role: str
    statement: str
    status: str = Field(examples=["filed", "assigned", "decided"])
    filed_at: Timestamp
    rights_holder_due_at: Timestamp | None
    rights_holder_responded: bool
    outcome: str | None
    reasons: str | None
    decided_at: Timestamp | None


class AppealReviewPublic(AppealPublic):
    """The appeal as its reviewer (or an admin) sees it: who is who, and the holder's answer."""

    appellant_id: str
    reviewer_id: str | None
    rights_holder_id: str | None
    rights_holder_response: str | None


class AppealListPublic(BaseModel):
    appeals: list[AppealPublic]


class AppealQueuePublic(BaseModel):
    appeals: list[AppealReviewPublic]


class AppealDetailPublic(AppealPublic):
    original_decision: ActionPublic | None = Field(
        default=None, description="the statement of reasons of the decision appealed"
    )


class AppealReviewDetailPublic(AppealReviewPublic):
    original_decision: ActionReviewPublic | CaseDetailPublic | None = Field(
        default=None,
        description="the decision appealed with its evidence, or the dismissed case",
    )


class AppealDecidedPublic(BaseModel):
    appeal_id: str
    outcome: str = Field(examples=["upheld", "reversed"])
    reversed_action_ids: list[str]
    reopened_case_id: str | None


# -- blocked outputs --------------------------------------------------------------------------


class OutputBlockFramePublic(BaseModel):
    index: int | None
    time_s: float | None
    scores: dict[str, dict[str, float]] = Field(
        description="classifier -> blocked category -> score, where it reached the threshold"
    )


class OutputBlockPublic(BaseModel):
    """A blocked output as its reviewer sees it: the decision and what it rested on."""

    action_id: str | None = Field(
        description="the block's enforcement action, which an appeal names"
    )
    generation_id: str
    requester_id: str | None
    policy_version: str | None
    blocked_categories: list[str]
    blocked_at: Timestamp | None
    released_at: Timestamp | None
    verdicts: list[dict[str, Any]] = Field(description="the blocking categories' verdicts")
    causing_frames: list[OutputBlockFramePublic] = Field(
        description="the sampled frames on which a blocked category reached its threshold"
    )
    frame_scores: list[dict[str, Any]] = Field(description="every sampled frame's scores")


class OutputBlockUnderAppealPublic(OutputBlockPublic):
    appeal: AppealReviewPublic


class OutputBlockQueuePublic(BaseModel):
    blocks: list[OutputBlockUnderAppealPublic]


class OutputBlockDetailPublic(OutputBlockPublic):
    appeals: list[AppealReviewPublic]


# -- inbox and transparency -------------------------------------------------------------------


class NotificationPublic(BaseModel):
    notification_id: str
    kind: str
    subject: str
    body: str
    refs: dict[str, str] = Field(description="ids the notification is about")
    created_at: Timestamp
    read_at: Timestamp | None


class InboxPublic(BaseModel):
    notifications: list[NotificationPublic]


class StatementExportPublic(BaseModel):
    statements: list[dict[str, Any]] = Field(
        description="bodies of the EU Transparency Database's POST /api/v1/statements"
    )
    next_after_position: int = Field(ge=0, description="pass as after_position for the next page")


class TransparencyReportPublic(BaseModel):
    period_start: Timestamp
    period_end: Timestamp
    as_of: Timestamp
    reports_received: int
    reports_by_category: dict[str, int]
    reports_from_trusted_flaggers: int
    actions_taken: int
    actions_by_category: dict[str, dict[str, int]] = Field(
        description="category -> {automated: n, human: n}"
    )
    actions_by_kind: dict[str, int]
    actions_automated_detection: int
    actions_by_automated_decision: dict[str, int]
    own_initiative_actions: int
    reports_dismissed: int
    appeals_filed: int
    appeals_decided: int
    appeals_reversed: int
    appeals_upheld: int
    reversals: int
    median_time_to_decision_s: float | None
    median_appeal_time_to_decision_s: float | None
    notes: list[str]
