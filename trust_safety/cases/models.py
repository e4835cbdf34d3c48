"""Read-model tables of the cases domain (written only by its projections)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base
from core.privacy import personal_column
from core.store import JsonType


class CaseRow(Base):
    __tablename__ = "cases_cases"

    case_id: Mapped[str] = mapped_column(String(260), primary_key=True)
    target_kind: Mapped[str] = mapped_column(String(16), nullable=False)
    target_id: Mapped[str] = mapped_column(String(200), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    priority: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    first_filed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    categories: Mapped[list[str]] = mapped_column(JsonType, nullable=False, default=list)
    reporter_ids: Mapped[list[str]] = mapped_column(JsonType, nullable=False, default=list)
    report_ids: Mapped[list[str]] = mapped_column(JsonType, nullable=False, default=list)
    trusted_flagger: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    signals: Mapped[dict[str, Any]] = mapped_column(JsonType, nullable=False, default=dict)
    claim_reviewer_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    claim_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    participants: Mapped[list[str]] = mapped_column(JsonType, nullable=False, default=list)
    action_ids: Mapped[list[str]] = mapped_column(JsonType, nullable=False, default=list)

    __table_args__ = (
        Index("ix_cases_cases_status_priority", "status", "priority"),
        Index("ix_cases_cases_target", "target_kind", "target_id"),
    )


class ReportRow(Base):
    __tablename__ = "cases_reports"

    report_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(260), nullable=False, index=True)
    reporter_id: Mapped[str] = mapped_column(String(128), nullable=False, index=True)
    trusted_flagger: Mapped[bool] = mapped_column(Boolean, nullable=False)
    target_kind: Mapped[str] = mapped_column(String(16), nullable=False)
    target_id: Mapped[str] = mapped_column(String(200), nullable=False)
    category: Mapped[str] = mapped_column(String(64), nullable=False)
    explanation: Mapped[str] = mapped_column(
        Text, nullable=False, info=personal_column("reporter_id")
    )
    at_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    filed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    outcome: Mapped[str | None] = mapped_column(String(20), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ActionRow(Base):
    __tablename__ = "cases_actions"

    action_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    puid: Mapped[str] = mapped_column(String(500), nullable=False, unique=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    target_kind: Mapped[str] = mapped_column(String(16), nullable=False)
    target_id: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    affected_user_id: Mapped[str] = mapped_column(String(128), nullable=False, index=True)
    case_id: Mapped[str | None] = mapped_column(String(260), nullable=True, index=True)
    category: Mapped[str] = mapped_column(String(100), nullable=False)
    ground: Mapped[str] = mapped_column(String(64), nullable=False)
    strike: Mapped[bool] = mapped_column(Boolean, nullable=False)
    ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    taken_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    automated_decision: Mapped[str] = mapped_column(String(64), nullable=False)
    decided_by: Mapped[str] = mapped_column(String(128), nullable=False)
    participants: Mapped[list[str]] = mapped_column(JsonType, nullable=False, default=list)
    notifier_ids: Mapped[list[str]] = mapped_column(JsonType, nullable=False, default=list)
    triggered_by: Mapped[list[str]] = mapped_column(JsonType, nullable=False, default=list)
    evidence: Mapped[dict[str, Any]] = mapped_column(JsonType, nullable=False, default=dict)
    statement: Mapped[dict[str, Any]] = mapped_column(JsonType, nullable=False)
    reversed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reversal_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    reversal_appeal_id: Mapped[str | None] = mapped_column(String(64), nullable=True)


class AppealRow(Base):
    __tablename__ = "cases_appeals"

    appeal_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    decision_id: Mapped[str] = mapped_column(String(260), nullable=False, index=True)
    decision_kind: Mapped[str] = mapped_column(String(20), nullable=False)
    appellant_id: Mapped[str] = mapped_column(String(128), nullable=False, index=True)
    appellant_role: Mapped[str] = mapped_column(String(20), nullable=False)
    statement: Mapped[str] = mapped_column(
        Text, nullable=False, info=personal_column("appellant_id")
    )
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    reviewer_id: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)
    filed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    assigned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    rights_holder_id: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)
    rights_holder_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    rights_holder_response: Mapped[str | None] = mapped_column(Text, nullable=True)
    rights_holder_responded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str | None] = mapped_column(String(20), nullable=True)
    reasons: Mapped[str | None] = mapped_column(Text, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class NotificationRow(Base):
    __tablename__ = "cases_notifications"

    notification_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    recipient_id: Mapped[str] = mapped_column(String(128), nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    subject: Mapped[str] = mapped_column(String(500), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    refs: Mapped[dict[str, str]] = mapped_column(JsonType, nullable=False, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_cases_notifications_recipient", "recipient_id", "created_at"),)


class AssetFactsRow(Base):
    """What the cases domain knows about a generated asset from the generation stream: whose
    it is (the person an action on it affects) and what output moderation scored (evidence
    and a triage signal)."""

    __tablename__ = "cases_assets"

    asset_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    generation_id: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    owner_id: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    classifier_scores: Mapped[dict[str, float]] = mapped_column(
        JsonType, nullable=False, default=dict
    )
    moderation_policy_version: Mapped[str | None] = mapped_column(String(100), nullable=True)


class GenerationScoresRow(Base):
    """Output moderation's highest score per category, by generation: it is decided before
    the asset is signed, so it waits here until ``AssetSigned`` names the asset."""

    __tablename__ = "cases_generation_scores"

    generation_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    classifier_scores: Mapped[dict[str, float]] = mapped_column(JsonType, nullable=False)
    policy_version: Mapped[str | None] = mapped_column(String(100), nullable=True)


class OutputBlockRow(Base):
    """An output that output moderation blocked: the decision's frames and scores, its
    enforcement action (what an appeal names) and its release, by generation."""

    __tablename__ = "cases_output_blocks"

    generation_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    action_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    requester_id: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)
    policy_version: Mapped[str | None] = mapped_column(String(100), nullable=True)
    blocked_categories: Mapped[list[str]] = mapped_column(JsonType, nullable=False, default=list)
    # Per category, as OutputModerated records them (outcome, max score, threshold, ...).
    verdicts: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, nullable=False, default=list)
    # Per sampled frame: index, time_s, scores {classifier: {category: score}}.
    frames: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, nullable=False, default=list)
    blocked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    released_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    release_appeal_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
