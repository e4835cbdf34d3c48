"""Contract: the SQL ledger (projection) answers exactly as the in-memory reference ledger.

Random consent histories are appended to the event store and, with the times the store gave
them, folded into the in-memory ledger; then every person's decision and the whole record
(people, audience, liveness, history) must agree.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from contracts.ports import FOLLOW_GRAPH
from core.events import Actor
from tests.trust_safety.consent.follows import InMemoryFollowGraph
from tests.trust_safety.consent.foreign_events import emit
from tests.utils import drain
from trust_safety.consent import commands
from trust_safety.consent.errors import CameoAlreadyRetired
from trust_safety.consent.facts import Audience, LivenessResult
from trust_safety.consent.ledger import (
    DecisionReason,
    RecordedFact,
    decide_cameo_use,
)
from trust_safety.consent.memory import InMemoryConsentLedger
from trust_safety.consent.service import cameo_stream
from trust_safety.consent.store import load_record

OWNERS = ["ada", "bo"]
PEOPLE = ["ada", "bo", "cy", "dee", "eve"]
PROVIDER = "idv-vendor"  # a liveness provider's principal


def enrolment(memory, cameo_id, owner):
    return commands.enrol_cameo(
        memory.get(cameo_id),
        owner,
        capture_kind="video",
        model_versions={"embedding": "dlib_face_recognition_resnet_model_v1"},
        scores={"frames": 4.0, "pose_range": 0.1, "age_median": 35.0},
    )


def append(services, memory, cameo_id, fact, actor_id):
    recorded = services.store.append(
        cameo_stream(cameo_id), [fact], expected_version=None, actor=Actor(id=actor_id, role="user")
    )[-1]
    memory.record(RecordedFact(fact, recorded.occurred_at, actor_id))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sql_ledger_equals_reference_ledger(services, seed):
    rng = random.Random(seed)
    graph = InMemoryFollowGraph()
    memory = InMemoryConsentLedger(graph)
    start = datetime.now(UTC)
    for owner in OWNERS:
        fact = commands.register_cameo(
            memory,
            cameo_id=f"cam-{owner}",
            owner_id=owner,
            handle=f"{owner}_cam",
            display_name=owner,
            audience=rng.choice(list(Audience)),
        )
        append(services, memory, fact.cameo_id, fact, owner)
        append(services, memory, fact.cameo_id, enrolment(memory, fact.cameo_id, owner), owner)
    outcomes: set[DecisionReason] = set()
    for step in range(40):
        if step % 10 == 9:
            compare(services, memory, start, outcomes)
        owner = rng.choice(OWNERS)
        cameo_id = f"cam-{owner}"
        record = memory.get(cameo_id)
        person = rng.choice([p for p in PEOPLE if p != owner])
        action = rng.choice(
            [
                "grant",
                "grant_expiring",
                "revoke",
                "audience",
                "follow",
                "unfollow",
                "liveness",
                "enrol",
                "retire",
            ]
        )
        try:
            if action == "grant":
                fact = commands.grant_cameo_consent(record, owner, person, now=start)
            elif action == "grant_expiring":
                fact = commands.grant_cameo_consent(
                    record,
                    owner,
                    person,
                    now=start,
                    expires_at=start + timedelta(minutes=rng.choice([5, 120])),
                )
            elif action == "revoke":
                fact = commands.revoke_cameo_consent(record, owner, person)
            elif action == "audience":
                fact = commands.change_cameo_audience(record, owner, rng.choice(list(Audience)))
            elif action == "liveness":
                fact = commands.record_liveness_check(
                    record,
                    PROVIDER,
                    liveness_reference=f"idv-{rng.random()}",
                    # mostly passes: a failed verdict stays until a provider passes it
                    liveness_result=rng.choice([*LivenessResult, *[LivenessResult.PASSED] * 3]),
                    liveness_checked_at=start,
                )
                append(services, memory, cameo_id, fact, PROVIDER)
                continue
            elif action == "enrol":
                fact = enrolment(memory, cameo_id, owner)
            elif action == "retire" and step > 30:  # late, so most rules get exercised first
                fact = commands.retire_cameo(record, owner)
            else:
                follower, followee = rng.choice([(person, owner), (owner, person)])
                kind = "UserUnfollowed" if action == "unfollow" else "UserFollowed"
                emit(services, "feed", follower, kind, follower_id=follower, followee_id=followee)
                (graph.unfollow if action == "unfollow" else graph.follow)(follower, followee)
                continue
        except CameoAlreadyRetired:
            continue
        append(services, memory, cameo_id, fact, owner)
    compare(services, memory, start, outcomes)
    # The histories must exercise more than one rule, or the comparison proves little.
    assert len(outcomes) >= 3


def compare(services, memory, start, outcomes):
    drain(services, ["consent-ledger", "feed"])
    # the follows the SQL side decides with are the feed's, asked through its port
    sql_graph = services.port(FOLLOW_GRAPH)
    with services.read_sessions() as s:
        for owner in OWNERS:
            cameo_id = f"cam-{owner}"
            stored = load_record(s, cameo_id, history=True)
            reference = memory.get(cameo_id)
            assert stored is not None and reference is not None
            assert stored.people == reference.people
            assert (stored.audience, stored.retired_at, stored.liveness_result, stored.version) == (
                reference.audience,
                reference.retired_at,
                reference.liveness_result,
                reference.version,
            )
            assert (stored.liveness_source, stored.enrolled_at) == (
                reference.liveness_source,
                reference.enrolled_at,
            )
            assert stored.history == reference.history
            for at in (start, start + timedelta(hours=1)):
                for person in PEOPLE:
                    expected = memory.decide(cameo_id, person, at)
                    assert decide_cameo_use(stored, person, at, sql_graph) == expected
                    outcomes.add(expected.reason)
