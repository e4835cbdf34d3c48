"""The strike ladder: accumulated live strikes become a suspension, then a ban.

Any asset action may add a strike. A ladder consequence records the strikes that triggered it
(``EnforcementActionTaken.triggered_by``), so reversing one of those strikes on appeal also
lifts what it caused. :class:`AccountStanding` folds a user's actions; it is exact when folded
from the actions' own streams, as the enforcement commands do.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from contracts.enforcement import ActionKind, EnforcementActionTaken, EnforcementReversed
from contracts.statement_of_reasons import Category, DecisionGround
from core.events import require_utc
from trust_safety.cases.errors import AlreadyReversed, InvalidEnforcement
from trust_safety.cases.policy import LadderPolicy
from trust_safety.cases.recorded import Fact, parse_instant

__all__ = ["LadderPolicy"]


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
        if (
            event.type == EnforcementActionTaken.event_type_name
            and p.get("affected_user_id") == self.user_id
        ):
            self.actions[str(p["action_id"])] = ActionRecord(
                action_id=str(p["action_id"]),
                kind=ActionKind(p["kind"]),
                taken_at=require_utc(event.occurred_at),
                category=Category(p["statement_category"]),
                ground=DecisionGround(p["ground"]),
                strike=bool(p.get("strike", False)),
                ends_at=parse_instant(p["ends_at"]) if p.get("ends_at") else None,
                triggered_by=tuple(p.get("triggered_by", ())),
            )
        elif event.type == EnforcementReversed.event_type_name:
            record = self.actions.get(str(p["action_id"]))
            if record is not None and record.reversed_at is None:
                record.reversed_at = require_utc(event.occurred_at)

    def live_strikes(self, now: datetime, policy: LadderPolicy) -> list[ActionRecord]:
        horizon = require_utc(now) - policy.strike_ttl
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
    now = require_utc(now)
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
        if event.type == EnforcementActionTaken.event_type_name:
            user = str(event.payload["affected_user_id"])
            out.setdefault(user, AccountStanding(user)).apply(event)
        elif event.type == EnforcementReversed.event_type_name:
            for standing in out.values():
                standing.apply(event)
    return out
