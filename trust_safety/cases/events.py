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
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from core.events import EventPayload, PersonalData, event_type

REPORT = "report"
APPEAL = "appeal"
INBOX = "inbox"


class DecisionKind(StrEnum):
    ENFORCEMENT = "enforcement"  # an action was taken; the affected user may appeal
    DISMISSAL = "dismissal"  # a notice was turned down; the notifier may appeal


class AppealOutcome(StrEnum):
    UPHELD = "upheld"  # the original decision stands
    REVERSED = "reversed"  # the original decision is undone


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
