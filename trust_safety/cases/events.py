"""Event types of the cases domain.

Streams:
- ``report-<case_id>``: the case of one target (ReportFiled ... ReportActioned/Dismissed). One
  stream per case makes a claim race an optimistic-concurrency conflict on that stream.
- ``enforcement-<action_id>``: an action and, later, its reversal (a second reversal is a
  version conflict).
- ``appeal-<appeal_id>``: one appeal from filing to decision.
- ``inbox-<recipient_id>``: what one person was told, in order.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from core.events import EventPayload, PersonalData, event_type, upcaster
from trust_safety.cases.statement_of_reasons import upgrade_statement

REPORT = "report"
ENFORCEMENT = "enforcement"
APPEAL = "appeal"
INBOX = "inbox"


class TargetRef(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str
    id: str


@event_type("ReportFiled", category=REPORT)
class ReportFiled(EventPayload):
    personal_data: ClassVar[PersonalData | None] = PersonalData(
        subject="reporter_id", fields=("explanation",)
    )

    report_id: str
    case_id: str
    reporter_id: str
    trusted_flagger: bool
    target: TargetRef
    # ``category`` is the envelope's stream category; the report's is named apart.
    report_category: str
    explanation: str
    at_seconds: float | None = None
    legal_ground: str | None = None


@event_type("ReportTriaged", category=REPORT)
class ReportTriaged(EventPayload):
    case_id: str
    priority: float
    severity: int
    categories: list[str]
    distinct_reporters: int
    signals: dict[str, Any] = Field(default_factory=dict)


@event_type("ReportClaimed", category=REPORT)
class ReportClaimed(EventPayload):
    case_id: str
    reviewer_id: str
    expires_at: datetime
    renewal: bool = False


@event_type("ReportClaimReleased", category=REPORT)
class ReportClaimReleased(EventPayload):
    case_id: str
    reviewer_id: str


@event_type("ReportActioned", category=REPORT)
class ReportActioned(EventPayload):
    case_id: str
    reviewer_id: str
    action_ids: list[str]


@event_type("ReportDismissed", category=REPORT)
class ReportDismissed(EventPayload):
    case_id: str
    reviewer_id: str
    reasons: str


@event_type("EnforcementActionTaken", category=ENFORCEMENT, version=2)
class EnforcementActionTaken(EventPayload):
    action_id: str
    puid: str
    kind: str
    target_kind: str
    target_id: str
    affected_user_id: str
    case_id: str | None = None
    statement_category: str
    ground: str
    strike: bool = False
    ends_at: datetime | None = None
    label_text: str | None = None
    automated_detection: bool
    automated_decision: str
    source_type: str
    decided_by: str
    participants: list[str] = Field(default_factory=list)
    notifier_ids: list[str] = Field(default_factory=list)
    triggered_by: list[str] = Field(default_factory=list)
    evidence: dict[str, Any] = Field(default_factory=dict)
    statement: dict[str, Any]


@upcaster("EnforcementActionTaken", from_version=1)
def _action_v1_to_v2(payload: dict[str, Any]) -> dict[str, Any]:
    # v2: the Transparency Database's categories and keywords of 2025-02-26; v1 statements
    # carry values it refuses now (statement_of_reasons.upgrade_statement maps them).
    if not isinstance(payload.get("statement"), dict):
        # Every v1 event this domain wrote has a statement; a foreign or hand-written one
        # without it is left as it is rather than make its whole stream unreadable.
        return payload
    statement = upgrade_statement(payload["statement"])
    return {**payload, "statement_category": statement["category"], "statement": statement}


@event_type("EnforcementReversed", category=ENFORCEMENT)
class EnforcementReversed(EventPayload):
    action_id: str
    kind: str
    target_kind: str
    target_id: str
    affected_user_id: str
    reason: str
    appeal_id: str | None = None
    cascaded_from: str | None = None
    reversed_by: str


@event_type("AppealFiled", category=APPEAL)
class AppealFiled(EventPayload):
    personal_data: ClassVar[PersonalData | None] = PersonalData(
        subject="appellant_id", fields=("statement",)
    )

    appeal_id: str
    decision_id: str
    decision_kind: str
    appellant_id: str
    appellant_role: str
    statement: str
    rights_holder_id: str | None = None
    rights_holder_due_at: datetime | None = None


@event_type("AppealAssigned", category=APPEAL)
class AppealAssigned(EventPayload):
    appeal_id: str
    reviewer_id: str


@event_type("RightsHolderResponded", category=APPEAL)
class RightsHolderResponded(EventPayload):
    appeal_id: str
    response: str


@event_type("AppealDecided", category=APPEAL)
class AppealDecided(EventPayload):
    appeal_id: str
    decision_id: str
    decision_kind: str
    outcome: str
    reasons: str
    decided_by: str


@event_type("UserNotified", category=INBOX)
class UserNotified(EventPayload):
    notification_id: str
    recipient_id: str
    kind: str
    subject: str
    body: str
    refs: dict[str, str] = Field(default_factory=dict)


@event_type("NotificationRead", category=INBOX)
class NotificationRead(EventPayload):
    notification_id: str
