from __future__ import annotations

from datetime import timedelta

import pytest

from contracts.enforcement import ActionKind, EnforcementActionTaken, EnforcementReversed
from tests.trust_safety.cases.builders import action_payload, at, decision, fact
from trust_safety.cases.errors import AlreadyReversed, InvalidEnforcement
from trust_safety.cases.ladder import (
    AccountStanding,
    LadderConsequence,
    ladder_consequence,
    standings,
)
from trust_safety.cases.policy import LadderPolicy


def strike(standing: AccountStanding, action_id: str, minute: float, **overrides: object) -> None:
    d = decision(strike=True, target_id=f"asset-{action_id}", **overrides)
    standing.apply(
        fact(EnforcementActionTaken, at(minute), **action_payload(action_id, d, at(minute)))
    )


def take(
    standing: AccountStanding, action_id: str, minute: float, consequence: LadderConsequence
) -> None:
    extra = {"duration_days": consequence.duration.days} if consequence.duration else {}
    d = decision(kind=consequence.kind.value, target_id="user-owner", strike=False, **extra)
    standing.apply(
        fact(
            EnforcementActionTaken,
            at(minute),
            **action_payload(action_id, d, at(minute), triggered_by=list(consequence.triggered_by)),
        )
    )


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        ({"kind": "suspend_account"}, "duration_days is required"),
        ({"duration_days": 3}, "only applies to suspend_account"),
        ({"kind": "label_asset"}, "needs label_text"),
        ({"label_text": "x"}, "only applies to label_asset"),
        ({"kind": "ban_account", "strike": True}, "strikes accompany asset actions"),
        ({"source_type": "SOURCE_VOLUNTARY"}, "not own-initiative"),
        ({"case_id": None}, "must name its case_id"),
        ({"facts": "short"}, "facts"),
        ({"kind": "delete_user"}, "kind"),
        ({"duration_days": 400, "kind": "suspend_account"}, "duration_days"),
    ],
)
def test_decision_validation(overrides: dict[str, object], needle: str) -> None:
    with pytest.raises(InvalidEnforcement) as err:
        decision(**overrides)
    assert needle in err.value.detail


def test_action_kinds_know_their_target() -> None:
    assert ActionKind.BAN_ACCOUNT.target_kind.value == "account"
    assert ActionKind.LABEL_ASSET.target_kind.value == "asset"


def test_ladder_suspends_then_escalates_then_bans() -> None:
    policy = LadderPolicy()
    s = AccountStanding("user-owner")
    strike(s, "s1", 0)
    assert ladder_consequence(s, at(0), policy) is None
    strike(s, "s2", 10)
    assert ladder_consequence(s, at(10), policy) is None
    strike(s, "s3", 20)
    first = ladder_consequence(s, at(20), policy)
    assert first is not None and first.kind is ActionKind.SUSPEND_ACCOUNT
    assert first.duration == timedelta(days=7) and first.triggered_by == ("s1", "s2", "s3")
    take(s, "susp1", 20, first)
    assert s.suspended_until(at(21)) == at(20) + timedelta(days=7)
    # the same strikes do not earn a second suspension
    assert ladder_consequence(s, at(21), policy) is None
    strike(s, "s4", 30)
    second = ladder_consequence(s, at(30), policy)
    assert second is not None and second.kind is ActionKind.SUSPEND_ACCOUNT
    assert second.duration == timedelta(days=30)
    take(s, "susp2", 30, second)
    strike(s, "s5", 40)
    ban = ladder_consequence(s, at(40), policy)
    assert ban is not None and ban.kind is ActionKind.BAN_ACCOUNT
    take(s, "ban1", 40, ban)
    assert s.banned()
    assert ladder_consequence(s, at(41), policy) is None


def test_strikes_expire() -> None:
    policy = LadderPolicy(strike_ttl=timedelta(days=30))
    s = AccountStanding("user-owner")
    strike(s, "s1", 0)
    strike(s, "s2", 0)
    strike(s, "s3", 60 * 24 * 31)
    assert [a.action_id for a in s.live_strikes(at(days=31), policy)] == ["s3"]
    assert ladder_consequence(s, at(days=31), policy) is None


def test_zero_tolerance_category_bans_on_first_illegal_strike() -> None:
    s = AccountStanding("user-owner")
    strike(
        s,
        "s1",
        0,
        category="STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
        ground="DECISION_GROUND_ILLEGAL_CONTENT",
    )
    c = ladder_consequence(s, at(0))
    assert c is not None and c.kind is ActionKind.BAN_ACCOUNT and c.triggered_by == ("s1",)


def test_reversing_a_strike_lifts_what_it_triggered() -> None:
    s = AccountStanding("user-owner")
    for i, m in enumerate((0, 1, 2), start=1):
        strike(s, f"s{i}", m)
    c = ladder_consequence(s, at(2))
    assert c is not None
    take(s, "susp1", 2, c)
    assert s.consequences_of("s2") == ["susp1"]
    s.apply(fact(EnforcementReversed, at(5), action_id="s2"))
    s.apply(fact(EnforcementReversed, at(5), action_id="susp1"))
    assert s.suspended_until(at(6)) is None
    assert [a.action_id for a in s.live_strikes(at(6), LadderPolicy())] == ["s1", "s3"]
    with pytest.raises(AlreadyReversed):
        s.require_reversible("s2")
    with pytest.raises(InvalidEnforcement):
        s.require_reversible("never")


def test_suspension_ends_by_itself() -> None:
    s = AccountStanding("user-owner")
    d = decision(kind="suspend_account", duration_days=2, target_id="user-owner")
    s.apply(fact(EnforcementActionTaken, at(0), **action_payload("susp", d, at(0))))
    assert s.suspended_until(at(days=1)) == at(days=2)
    assert s.suspended_until(at(days=2)) is None


def test_policy_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        LadderPolicy(suspend_at_strikes=5, ban_at_strikes=5)
    with pytest.raises(ValueError):
        LadderPolicy(suspension_durations=())


def test_standings_fold_all_users() -> None:
    d1 = decision(strike=True, affected_user_id="u1")
    d2 = decision(strike=True, affected_user_id="u2", target_id="asset-2")
    events = [
        fact(EnforcementActionTaken, at(0), **action_payload("a1", d1, at(0))),
        fact(EnforcementActionTaken, at(1), **action_payload("a2", d2, at(1))),
        fact(EnforcementReversed, at(2), action_id="a1"),
    ]
    result = standings(events)
    assert result["u1"].live_strikes(at(3), LadderPolicy()) == []
    assert len(result["u2"].live_strikes(at(3), LadderPolicy())) == 1
