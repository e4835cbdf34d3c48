"""The same feed and cases code on PostgreSQL + Kafka: removal and reversal travel through the
outbox relay and the brokers' partitions (one per stream key) to the projections."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from core.auth import Principal, Role
from core.events import utcnow
from core.services import Services
from feed import queries
from feed.errors import UnknownAsset
from tests.trust_safety.cases.builders import decision
from tests.trust_safety.cases.foreign import publish
from tests.utils import drain
from trust_safety.cases.appeals import decide_appeal, file_appeal
from trust_safety.cases.enforcement import act_on_own_initiative
from trust_safety.cases.events import AppealOutcome

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

# the feed follows the visibility the assets domain decides from the enforcement events
CONSUMERS = ["feed", "asset-directory", "asset-visibility"]


def visible(services: Services, asset_id: str) -> bool:
    with services.sessions() as s:
        try:
            queries.lineage(s, asset_id, utcnow())
        except UnknownAsset:
            return False
        return True


def test_removal_and_reversal_over_kafka(
    make_services: Callable[..., Services], kafka_settings: dict[str, Any]
) -> None:
    from core.auth import create_principal

    services = make_services("postgres", **kafka_settings)
    create_principal(services.sessions, "Reviewer B", ["reviewer"], "rev-b")
    publish(services, "asset-1", "user-owner")
    publish(services, "asset-2", "user-owner", remix_of="asset-1")
    runners = drain(services, CONSUMERS)
    assert visible(services, "asset-1")

    reviewer = Principal("rev-a", "rev-a", {Role.reviewer})
    owner = Principal("user-owner", "user-owner", {Role.user})
    taken = act_on_own_initiative(
        services, reviewer, decision(case_id=None, source_type="SOURCE_VOLUNTARY")
    )
    drain(services, built=runners)
    assert not visible(services, "asset-1") and visible(services, "asset-2")

    appeal = file_appeal(services, owner, taken.action_id, "It is my own face.")
    assert appeal.reviewer_id == "rev-b"
    decider = Principal("rev-b", "rev-b", {Role.reviewer})
    decide_appeal(
        services,
        decider,
        appeal.appeal_id,
        AppealOutcome.REVERSED,
        "The person shown is the account owner, who consented.",
    )
    drain(services, built=runners)
    assert visible(services, "asset-1")
    for r in runners:
        r.close()
