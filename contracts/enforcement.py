"""Enforcement as other domains see it: what was done, to what, and its reversal.

Stream ``enforcement-<action_id>``, written by the cases domain only. An action on an asset
carries the asset's ``generation_id``, so a consumer keyed by generation (the asset
visibility decision, the consent ledger) never waits for another domain's read model to
learn it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import Field

from contracts.assets import HoldKind
from contracts.statement_of_reasons import upgrade_statement
from core.events import EventPayload, event_type, upcaster

ENFORCEMENT = "enforcement"


class TargetKind(StrEnum):
    ASSET = "asset"
    ACCOUNT = "account"


class ActionKind(StrEnum):
    REMOVE_ASSET = "remove_asset"
    RESTRICT_ASSET = "restrict_asset"
    LABEL_ASSET = "label_asset"
    AGE_RESTRICT_ASSET = "age_restrict_asset"
    # Output moderation's automated block of a render before anyone saw it; no hold of its
    # own (the output hold keeps the render down), lifted by ``OutputReleased``.
    BLOCK_OUTPUT = "block_output"
    SUSPEND_ACCOUNT = "suspend_account"
    BAN_ACCOUNT = "ban_account"

    @property
    def target_kind(self) -> TargetKind:
        return TargetKind.ACCOUNT if self in ACCOUNT_ACTIONS else TargetKind.ASSET

    @property
    def hold_kind(self) -> HoldKind | None:
        """How an action on an asset changes its visibility (None for account actions)."""
        return ASSET_ACTION_HOLDS.get(self)


ACCOUNT_ACTIONS: frozenset[ActionKind] = frozenset(
    {ActionKind.SUSPEND_ACCOUNT, ActionKind.BAN_ACCOUNT}
)
ASSET_ACTION_HOLDS: Mapping[ActionKind, HoldKind] = {
    ActionKind.REMOVE_ASSET: HoldKind.REMOVED,
    ActionKind.RESTRICT_ASSET: HoldKind.RESTRICTED,
    ActionKind.AGE_RESTRICT_ASSET: HoldKind.AGE_RESTRICTED,
    ActionKind.LABEL_ASSET: HoldKind.LABELLED,
}


@event_type("EnforcementActionTaken", category=ENFORCEMENT, version=2)
class EnforcementActionTaken(EventPayload):
    action_id: str
    puid: str
    kind: ActionKind
    target_kind: TargetKind
    target_id: str
    # the asset's generation (asset targets; None on events written before it was carried)
    generation_id: str | None = None
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
    kind: ActionKind
    target_kind: TargetKind
    target_id: str
    generation_id: str | None = None  # as on the action it reverses
    affected_user_id: str
    reason: str
    appeal_id: str | None = None
    cascaded_from: str | None = None
    reversed_by: str
