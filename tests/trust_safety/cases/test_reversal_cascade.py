"""Reversing a strike on appeal lifts what the ladder took because of it, read from the log.

The cascade must not depend on the actions read model: a ban taken a moment ago, not yet
projected, still rests on the strike and must fall with it.
"""

from __future__ import annotations

from datetime import timedelta

from contracts.enforcement import EnforcementActionTaken, EnforcementReversed
from core.auth import Principal, Role
from core.events import stream_id
from core.services import Services
from tests.trust_safety.cases.builders import decision
from tests.trust_safety.cases.foreign import generation_of, publish
from tests.utils import drain, make_principal
from trust_safety.cases.appeals import decide_appeal, file_appeal
from trust_safety.cases.enforcement import act_on_own_initiative
from trust_safety.cases.events import AppealOutcome
from trust_safety.cases.models import ActionRow
from trust_safety.cases.policy import CasesPolicy, LadderPolicy

# One strike suspends, two ban: the ban of the second strike also rests on the first.
POLICY = CasesPolicy(
    ladder=LadderPolicy(
        suspend_at_strikes=1, ban_at_strikes=2, suspension_durations=(timedelta(days=7),)
    )
)


def _principal(services: Services, role: Role) -> Principal:
    pid, _ = make_principal(services, role.value)
    return Principal(pid, pid, {role})


def _strike(services: Services, reviewer: Principal, owner: str, asset: str) -> tuple[str, str]:
    taken = act_on_own_initiative(
        services,
        reviewer,
        decision(
            case_id=None,
            source_type="SOURCE_VOLUNTARY",
            target_id=asset,
            affected_user_id=owner,
            strike=True,
        ),
        POLICY,
    )
    (consequence,) = taken.ladder_action_ids
    return taken.action_id, consequence


def test_the_cascade_reverses_a_ban_whose_strike_was_reversed_while_the_read_model_lags(
    services: Services,
) -> None:
    owner = _principal(services, Role.user)
    first, second = _principal(services, Role.reviewer), _principal(services, Role.reviewer)
    for asset in ("a-1", "a-2"):
        publish(services, asset, owner.id)
    drain(services, ["cases-assets"])

    strike_1, suspension = _strike(services, first, owner.id, "a-1")
    drain(services, ["cases-actions"])  # the ladder counts strike 1 when strike 2 comes
    strike_2, ban = _strike(services, first, owner.id, "a-2")
    # the actions read model has not seen the ban: nothing drains it from here on
    with services.read_sessions() as s:
        assert s.get(ActionRow, ban) is None
    taken = services.store.read_stream(stream_id("enforcement", ban))[0]
    assert taken.payload_as(EnforcementActionTaken).triggered_by == [strike_1, strike_2]

    appeal = file_appeal(services, owner, strike_1, "That video is not mine to begin with.")
    assert appeal.reviewer_id == second.id
    result = decide_appeal(
        services,
        second,
        appeal.appeal_id,
        AppealOutcome.REVERSED,
        "The strike rested on a misidentified upload; it is lifted.",
    )

    assert set(result.reversed_action_ids) == {strike_1, suspension, ban}
    reversal = services.store.read_stream(stream_id("enforcement", ban))[-1]
    lifted = reversal.payload_as(EnforcementReversed)
    assert lifted.cascaded_from == strike_1 and lifted.appeal_id == appeal.appeal_id
    # the second strike stands on its own
    assert len(services.store.read_stream(stream_id("enforcement", strike_2))) == 1


def test_an_asset_action_and_its_reversal_carry_the_generation(services: Services) -> None:
    owner = _principal(services, Role.user)
    first, second = _principal(services, Role.reviewer), _principal(services, Role.reviewer)
    publish(services, "a-1", owner.id)
    drain(services, ["cases-assets"])
    strike, suspension = _strike(services, first, owner.id, "a-1")

    appeal = file_appeal(services, owner, strike, "That video is not mine to begin with.")
    decide_appeal(
        services, second, appeal.appeal_id, AppealOutcome.REVERSED, "Misidentified upload, lifted."
    )

    taken, reversed_ = services.store.read_stream(stream_id("enforcement", strike))
    assert taken.payload_as(EnforcementActionTaken).generation_id == generation_of("a-1")
    assert reversed_.payload_as(EnforcementReversed).generation_id == generation_of("a-1")
    account = services.store.read_stream(stream_id("enforcement", suspension))[0]
    assert account.payload_as(EnforcementActionTaken).generation_id is None
