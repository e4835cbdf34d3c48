"""Small factories for cases-domain test data (real domain objects, no mocks)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from core.events import EventPayload
from trust_safety.cases.enforcement import EnforcementDecision
from trust_safety.cases.recorded import RecordedFact

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def at(minutes: float = 0, *, days: float = 0) -> datetime:
    return T0 + timedelta(minutes=minutes, days=days)


def fact(type_: str | type[EventPayload], when: datetime, **payload: Any) -> RecordedFact:
    name = type_ if isinstance(type_, str) else type_.event_type_name
    return RecordedFact(type=name, occurred_at=when, payload=payload)


def statement_fields(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "puid": "clearframe-sor-a1",
        "decision_visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED"],
        "decision_ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT",
        "incompatible_content_ground": "Terms of Service section 4.2 (likeness)",
        "incompatible_content_explanation": "The video shows a real person without consent.",
        "content_type": ["CONTENT_TYPE_VIDEO", "CONTENT_TYPE_SYNTHETIC_MEDIA"],
        "content_date": "2026-03-01",
        "application_date": "2026-03-02",
        "category": "STATEMENT_CATEGORY_CYBER_VIOLENCE",
        "decision_facts": "A reviewer matched the face to a cameo whose consent was revoked.",
        "source_type": "SOURCE_ARTICLE_16",
        "automated_detection": True,
        "automated_decision": "AUTOMATED_DECISION_PARTIALLY",
    }
    base.update(overrides)
    return base


def decision(**overrides: Any) -> EnforcementDecision:
    base: dict[str, Any] = {
        "kind": "remove_asset",
        "target_id": "asset-1",
        "affected_user_id": "user-owner",
        "case_id": "case-1",
        "category": "STATEMENT_CATEGORY_CYBER_VIOLENCE",
        "ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT",
        "ground_reference": "Terms of Service 4.2",
        "ground_explanation": "Likeness of a real person used without their consent.",
        "facts": "The face matches cameo c-9 whose consent was revoked on 1 March.",
        "source_type": "SOURCE_ARTICLE_16",
        "automated_detection": True,
        "automated_decision": "AUTOMATED_DECISION_NOT_AUTOMATED",
    }
    base.update(overrides)
    return EnforcementDecision.parse(base)


def action_payload(
    action_id: str, d: EnforcementDecision, when: datetime, **extra: Any
) -> Mapping[str, Any]:
    """The EnforcementActionTaken payload fields the folds read."""
    ends = d.ends_at(when)
    payload: dict[str, Any] = {
        "action_id": action_id,
        "kind": d.kind.value,
        "target_id": d.target_id,
        "affected_user_id": d.affected_user_id,
        "case_id": d.case_id,
        "statement_category": d.category.value,
        "ground": d.ground.value,
        "strike": d.strike,
        "ends_at": ends.isoformat() if ends else None,
        "automated_detection": d.automated_detection,
        "automated_decision": d.automated_decision.value,
        "source_type": d.source_type.value,
        "label_text": d.label_text,
    }
    payload.update(extra)
    return payload
