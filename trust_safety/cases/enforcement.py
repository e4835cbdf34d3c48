"""Enforcement: what can be done to an asset or an account, the strike ladder, and the statement
of reasons every action carries.

Asset actions: remove, restrict (demoted out of Recent/Featured and closed to remixing), label,
age-restrict. Account actions: temporary suspension, ban. Any asset action may add a strike; the
ladder turns accumulated live strikes into a suspension and then a ban. A ladder consequence
records the strikes that triggered it, so reversing one of those strikes on appeal also lifts
what it caused.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from trust_safety.cases import facts as ft
from trust_safety.cases.errors import AlreadyReversed, InvalidEnforcement
from trust_safety.cases.facts import Fact, ensure_utc, parse_instant
from contracts.enforcement import ACCOUNT_ACTIONS, ActionKind, TargetKind
from contracts.statement_of_reasons import (
    AutomatedDecision,
    Category,
    ContentType,
    DecisionAccount,
    DecisionGround,
    DecisionProvision,
    DecisionVisibility,
    Keyword,
    SourceType,
    StatementOfReasons,
)

PUID_PREFIX = "clearframe-sor-"
MAX_SUSPENSION = timedelta(days=365)



_VISIBILITY: Mapping[ActionKind, tuple[DecisionVisibility, ...]] = {
    ActionKind.REMOVE_ASSET: (DecisionVisibility.CONTENT_REMOVED,),
    ActionKind.RESTRICT_ASSET: (
        DecisionVisibility.CONTENT_DEMOTED,
        DecisionVisibility.CONTENT_INTERACTION_RESTRICTED,
    ),
    ActionKind.LABEL_ASSET: (DecisionVisibility.CONTENT_LABELLED,),
    ActionKind.AGE_RESTRICT_ASSET: (DecisionVisibility.CONTENT_AGE_RESTRICTED,),
}


class Evidence(BaseModel):
    """What the decision rested on; shown again to whoever reviews an appeal."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rule_id: str | None = Field(default=None, max_length=200)
    rule_version: str | None = Field(default=None, max_length=100)
    classifier_scores: dict[str, float] = Field(default_factory=dict)
    matched_optout_id: str | None = Field(default=None, max_length=200)
    optout_rights_holder_id: str | None = Field(default=None, max_length=200)
    matched_cameo_id: str | None = Field(default=None, max_length=200)
    reviewer_ids: tuple[str, ...] = ()
    notes: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _consistent(self) -> Evidence:
        for name, score in self.classifier_scores.items():
            if not 0.0 <= score <= 1.0:
                raise ValueError(f"classifier score {name}={score} is outside [0, 1]")
        if (self.matched_optout_id is None) != (self.optout_rights_holder_id is None):
            raise ValueError("matched_optout_id and optout_rights_holder_id go together")
        if self.rule_version is not None and self.rule_id is None:
            raise ValueError("rule_version needs rule_id")
        return self


class EnforcementDecision(BaseModel):
    """A decision to act, as a reviewer (or an automated rule) states it."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    kind: ActionKind
    target_id: str = Field(min_length=1, max_length=200)
    affected_user_id: str = Field(min_length=1, max_length=200)
    case_id: str | None = None
    category: Category
    category_specification: tuple[Keyword, ...] = ()
    ground: DecisionGround
    # Illegal content: the law relied on. Incompatible content: the clause of our terms.
    ground_reference: str = Field(min_length=3, max_length=500)
    ground_explanation: str = Field(min_length=10, max_length=2000)
    facts: str = Field(min_length=10, max_length=5000)
    source_type: SourceType
    source_identity: str | None = Field(default=None, max_length=500)
    automated_detection: bool
    automated_decision: AutomatedDecision
    strike: bool = False
    duration_days: int | None = Field(default=None, ge=1, le=MAX_SUSPENSION.days)
    label_text: str | None = Field(default=None, max_length=280)
    territorial_scope: tuple[str, ...] = ()
    content_date: date | None = None
    evidence: Evidence = Field(default_factory=Evidence)

    @model_validator(mode="after")
    def _kind_specific(self) -> EnforcementDecision:
        if self.kind is ActionKind.SUSPEND_ACCOUNT and self.duration_days is None:
            raise ValueError("a suspension is temporary: duration_days is required")
        if self.kind is not ActionKind.SUSPEND_ACCOUNT and self.duration_days is not None:
            raise ValueError("duration_days only applies to suspend_account")
        if self.kind is ActionKind.LABEL_ASSET and not self.label_text:
            raise ValueError("label_asset needs label_text, the label viewers will see")
        if self.kind is not ActionKind.LABEL_ASSET and self.label_text:
            raise ValueError("label_text only applies to label_asset")
        if self.kind in ACCOUNT_ACTIONS and self.strike:
            raise ValueError("strikes accompany asset actions; account actions are their result")
        if self.source_type is SourceType.VOLUNTARY and self.case_id:
            raise ValueError("a decision on a reported case is not own-initiative")
        if self.source_type is not SourceType.VOLUNTARY and not self.case_id:
            raise ValueError("a decision on a notice must name its case_id")
        return self

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> EnforcementDecision:
        try:
            return cls.model_validate(dict(data))
        except ValidationError as exc:
            errors = [
                {"field": ".".join(str(p) for p in err["loc"]) or "decision", "msg": err["msg"]}
                for err in exc.errors()
            ]
            raise InvalidEnforcement(
                "enforcement rejected: " + "; ".join(f"{e['field']}: {e['msg']}" for e in errors),
                errors=errors,
            ) from None

    def ends_at(self, decided_at: datetime) -> datetime | None:
        if self.duration_days is None:
            return None
        return ensure_utc(decided_at) + timedelta(days=self.duration_days)


def puid_for(action_id: str) -> str:
    """The statement's platform unique identifier: one per action, never reused."""
    if not action_id or any(c.isspace() for c in action_id):
        raise InvalidEnforcement("action_id must be a non-empty token", action_id=action_id)
    return f"{PUID_PREFIX}{action_id}"


def build_statement(
    action_id: str, decision: EnforcementDecision, decided_at: datetime
) -> StatementOfReasons:
    """The statement of reasons for an action, in the Transparency Database's fields."""
    decided_at = ensure_utc(decided_at)
    application = decided_at.date()
    illegal = decision.ground is DecisionGround.ILLEGAL_CONTENT
    fields: dict[str, Any] = {
        "puid": puid_for(action_id),
        "decision_ground": decision.ground,
        "category": decision.category,
        "category_specification": decision.category_specification,
        # Every asset here is generated by a model, so it is synthetic media as well as video.
        "content_type": (ContentType.SYNTHETIC_MEDIA, ContentType.VIDEO),
        "content_date": decision.content_date or application,
        "application_date": application,
        "decision_facts": decision.facts,
        "source_type": decision.source_type,
        "source_identity": decision.source_identity,
        "automated_detection": decision.automated_detection,
        "automated_decision": decision.automated_decision,
        "territorial_scope": decision.territorial_scope,
        "account_type": "ACCOUNT_TYPE_PRIVATE",
    }
    if illegal:
        fields["illegal_content_legal_ground"] = decision.ground_reference
        fields["illegal_content_explanation"] = decision.ground_explanation
    else:
        fields["incompatible_content_ground"] = decision.ground_reference
        fields["incompatible_content_explanation"] = decision.ground_explanation
        fields["incompatible_content_illegal"] = "No"
    if decision.kind in _VISIBILITY:
        fields["decision_visibility"] = _VISIBILITY[decision.kind]
    elif decision.kind is ActionKind.SUSPEND_ACCOUNT:
        fields["decision_account"] = DecisionAccount.SUSPENDED
        fields["decision_provision"] = DecisionProvision.TOTAL_SUSPENSION
        end = decision.ends_at(decided_at)
        assert end is not None  # guaranteed by EnforcementDecision validation
        fields["end_date_account_restriction"] = end.date()
        fields["end_date_service_restriction"] = end.date()
    else:
        fields["decision_account"] = DecisionAccount.TERMINATED
        fields["decision_provision"] = DecisionProvision.TOTAL_TERMINATION
    if fields["content_date"] > application:
        raise InvalidEnforcement("content_date lies after the decision", action_id=action_id)
    return StatementOfReasons.parse(fields)


# -- the ladder ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LadderPolicy:
    strike_ttl: timedelta = timedelta(days=90)
    suspend_at_strikes: int = 3
    ban_at_strikes: int = 5
    suspension_durations: Sequence[timedelta] = (timedelta(days=7), timedelta(days=30))
    # A suspension beyond the listed durations escalates to a ban.
    zero_tolerance: frozenset[Category] = frozenset({Category.PROTECTION_OF_MINORS})

    def __post_init__(self) -> None:
        if not 1 <= self.suspend_at_strikes < self.ban_at_strikes:
            raise ValueError("need 1 <= suspend_at_strikes < ban_at_strikes")
        if not self.suspension_durations:
            raise ValueError("need at least one suspension duration")
        if any(d <= timedelta(0) or d > MAX_SUSPENSION for d in self.suspension_durations):
            raise ValueError("suspension durations must be positive and at most a year")
        if self.strike_ttl <= timedelta(0):
            raise ValueError("strike_ttl must be positive")


@dataclass(slots=True)
class ActionRecord:
    action_id: str
    kind: ActionKind
    taken_at: datetime
    category: Category
    ground: DecisionGround
    strike: bool = False
    ends_at: datetime | None = None
    triggered_by: tuple[str, ...] = ()
    reversed_at: datetime | None = None

    def in_force(self, now: datetime) -> bool:
        if self.reversed_at is not None:
            return False
        return self.ends_at is None or now < self.ends_at


@dataclass(slots=True)
class AccountStanding:
    """One user's enforcement history, folded from EnforcementActionTaken/Reversed."""

    user_id: str
    actions: dict[str, ActionRecord] = field(default_factory=dict)

    def apply(self, event: Fact) -> None:
        p = event.payload
        if event.type == ft.ENFORCEMENT_ACTION_TAKEN and p.get("affected_user_id") == self.user_id:
            self.actions[str(p["action_id"])] = ActionRecord(
                action_id=str(p["action_id"]),
                kind=ActionKind(p["kind"]),
                taken_at=ensure_utc(event.occurred_at),
                category=Category(p["statement_category"]),
                ground=DecisionGround(p["ground"]),
                strike=bool(p.get("strike", False)),
                ends_at=parse_instant(p["ends_at"]) if p.get("ends_at") else None,
                triggered_by=tuple(p.get("triggered_by", ())),
            )
        elif event.type == ft.ENFORCEMENT_REVERSED:
            record = self.actions.get(str(p["action_id"]))
            if record is not None and record.reversed_at is None:
                record.reversed_at = ensure_utc(event.occurred_at)

    def live_strikes(self, now: datetime, policy: LadderPolicy) -> list[ActionRecord]:
        horizon = ensure_utc(now) - policy.strike_ttl
        return sorted(
            (
                a
                for a in self.actions.values()
                if a.strike and a.reversed_at is None and a.taken_at > horizon
            ),
            key=lambda a: (a.taken_at, a.action_id),
        )

    def suspended_until(self, now: datetime) -> datetime | None:
        ends = [
            a.ends_at
            for a in self.actions.values()
            if a.kind is ActionKind.SUSPEND_ACCOUNT and a.ends_at and a.in_force(now)
        ]
        return max(ends) if ends else None

    def banned(self) -> bool:
        return any(
            a.kind is ActionKind.BAN_ACCOUNT and a.reversed_at is None
            for a in self.actions.values()
        )

    def suspensions_served(self) -> int:
        """Suspensions that stand (not reversed), in force or already over."""
        return sum(
            1
            for a in self.actions.values()
            if a.kind is ActionKind.SUSPEND_ACCOUNT and a.reversed_at is None
        )

    def consequences_of(self, action_id: str) -> list[str]:
        """Standing actions the ladder took because of ``action_id``: reversing it lifts them."""
        return sorted(
            a.action_id
            for a in self.actions.values()
            if action_id in a.triggered_by and a.reversed_at is None
        )

    def require_reversible(self, action_id: str) -> ActionRecord:
        record = self.actions.get(action_id)
        if record is None:
            raise InvalidEnforcement(
                f"action {action_id!r} is not an action on {self.user_id!r}", action_id=action_id
            )
        if record.reversed_at is not None:
            raise AlreadyReversed(f"action {action_id!r} was already reversed", action_id=action_id)
        return record


@dataclass(frozen=True, slots=True)
class LadderConsequence:
    kind: ActionKind
    duration: timedelta | None
    triggered_by: tuple[str, ...]
    reason: str


def ladder_consequence(
    standing: AccountStanding, now: datetime, policy: LadderPolicy = LadderPolicy()
) -> LadderConsequence | None:
    """What the account earns now, given its live strikes; None if nothing more is due.

    Call it after the strike's action is folded in. Strikes that already triggered a standing
    consequence are not counted again, so one bad week yields one suspension, not three.
    """
    now = ensure_utc(now)
    if standing.banned():
        return None
    strikes = standing.live_strikes(now, policy)
    spent = {
        sid for a in standing.actions.values() if a.reversed_at is None for sid in a.triggered_by
    }
    zero = [s for s in strikes if s.category in policy.zero_tolerance and s.action_id not in spent]
    if any(s.ground is DecisionGround.ILLEGAL_CONTENT for s in zero):
        trigger = tuple(s.action_id for s in zero)
        return LadderConsequence(
            ActionKind.BAN_ACCOUNT, None, trigger, "zero-tolerance category, illegal content"
        )
    ids = tuple(s.action_id for s in strikes)
    if len(strikes) >= policy.ban_at_strikes and not set(ids) <= spent:
        return LadderConsequence(ActionKind.BAN_ACCOUNT, None, ids, f"{len(strikes)} live strikes")
    fresh = tuple(s.action_id for s in strikes if s.action_id not in spent)
    if len(strikes) >= policy.suspend_at_strikes and fresh:
        served = standing.suspensions_served()
        if served >= len(policy.suspension_durations):
            return LadderConsequence(
                ActionKind.BAN_ACCOUNT,
                None,
                ids,
                f"suspension number {served + 1} escalates to a ban",
            )
        return LadderConsequence(
            ActionKind.SUSPEND_ACCOUNT,
            policy.suspension_durations[served],
            ids,
            f"{len(strikes)} live strikes",
        )
    return None


def standings(events: Iterable[Fact]) -> dict[str, AccountStanding]:
    """Every affected user's standing, folded from the log."""
    out: dict[str, AccountStanding] = {}
    for event in events:
        if event.type == ft.ENFORCEMENT_ACTION_TAKEN:
            user = str(event.payload["affected_user_id"])
            out.setdefault(user, AccountStanding(user)).apply(event)
        elif event.type == ft.ENFORCEMENT_REVERSED:
            for standing in out.values():
                standing.apply(event)
    return out
