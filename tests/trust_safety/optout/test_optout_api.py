"""The opt-out registry end to end: the embedded default (SQLite + SQL-tail log) and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from contracts.ports import PICKUP_POLICY, PickupAnswer, PickupRequest
from core.replay import replay_check
from tests.trust_safety.consent.foreign_events import emit, generation_flow
from tests.utils import drain, make_principal
from trust_safety.moderation.categories import Category
from trust_safety.moderation.normalise import normalise
from trust_safety.moderation.stages import ModerationContext
from trust_safety.optout.public import TEXT_EMBEDDER as OPTOUT_EMBEDDER
from trust_safety.optout.public import optout_stage, training_exclusions
from trust_safety.optout.registration import PROJECTIONS

REGISTRY = ["optout-registry"]
FILING = {
    "rights_holder_name": "Comet Studios",
    "terms": {
        "characters": ["Captain Comet"],
        "aliases": ["Komet Kid"],
        "misspellings": ["Captian Comet"],
    },
    "scopes": ["prompts", "training"],
    "territories": ["US", "GB"],
}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def services(request, make_services):
    """The embedded default (SQLite), and the same scenarios on PostgreSQL."""
    return make_services(request.param)


@pytest.fixture
def holders(services):
    services.override(OPTOUT_EMBEDDER, None)  # lexical matching; MiniLM is tested apart
    return (
        make_principal(services, "rights_holder", name="Comet Studios"),
        make_principal(services, "rights_holder", name="Other Studio"),
    )


def file(client, headers, body=FILING) -> str:
    response = client.post("/v1/optouts", headers=headers, json=body)
    assert response.status_code == 201, response.text
    return response.json()["optout_id"]


def test_file_amend_withdraw_with_role_and_ownership_checks(client, services, holders):
    (holder, h), (_, other_h) = holders
    _, user_h = make_principal(services, "user")
    assert client.post("/v1/optouts", headers=user_h, json=FILING).status_code == 403
    optout_id = file(client, h)
    # The holder can amend before the projection caught up (ownership is read from the stream).
    amended = client.patch(f"/v1/optouts/{optout_id}", headers=h, json={"territories": ["*"]})
    assert amended.status_code == 200 and amended.json()["stream_version"] == 2
    drain(services, REGISTRY)
    mine = client.get("/v1/optouts", headers=h).json()["optouts"]
    assert [(o["optout_id"], o["territories"], o["status"]) for o in mine] == [
        (optout_id, ["*"], "active")
    ]
    assert client.get("/v1/optouts", headers=other_h).json()["optouts"] == []
    for call in (
        lambda: client.get(f"/v1/optouts/{optout_id}", headers=other_h),
        lambda: client.patch(
            f"/v1/optouts/{optout_id}", headers=other_h, json={"scopes": ["prompts"]}
        ),
        lambda: client.post(f"/v1/optouts/{optout_id}/withdraw", headers=other_h, json={}),
    ):
        assert call().status_code == 404
    bad = client.patch(f"/v1/optouts/{optout_id}", headers=h, json={"territories": ["UK"]})
    assert bad.status_code == 422 and bad.json()["code"] == "optout.invalid_input"
    assert (
        client.post(
            f"/v1/optouts/{optout_id}/withdraw", headers=h, json={"reason": "licensed"}
        ).status_code
        == 200
    )
    again = client.post(f"/v1/optouts/{optout_id}/withdraw", headers=h, json={})
    assert again.status_code == 409
    drain(services, REGISTRY)
    assert client.get(f"/v1/optouts/{optout_id}", headers=h).json()["status"] == "withdrawn"


def test_stage_matches_and_blocked_counts_come_from_refusals(client, services, holders):
    (holder, h), (_, other_h) = holders
    comet = file(client, h)
    other = file(
        client,
        other_h,
        {**FILING, "rights_holder_name": "Other", "terms": {"characters": ["Nebula Knightress"]}},
    )
    drain(services, REGISTRY)
    stage = optout_stage(services)
    result = stage.evaluate(normalise("c4pt4in c o m e t flying"), ModerationContext())
    assert result.scores == {Category.IP: 1.0}
    assert [e.ref for e in result.evidence] == [f"optout:{comet}"]
    # Refusals cite opt-outs in ``optout_ids``; each generation counts once per opt-out.
    emit(
        services,
        "generation",
        "g-1",
        "GenerationRefused",
        generation_id="g-1",
        reason_category="ip",
        optout_ids=[comet],
    )
    emit(
        services,
        "generation",
        "g-2",
        "GenerationRefused",
        generation_id="g-2",
        reason_category="ip",
        optout_ids=[comet, other],
    )
    emit(
        services,
        "generation",
        "g-2",
        "GenerationRefused",
        generation_id="g-2",
        reason_category="ip",
        optout_ids=[comet],
    )  # a repeat for the same request
    emit(
        services,
        "generation",
        "g-3",
        "GenerationRefused",
        generation_id="g-3",
        reason_category="sexual",
        optout_ids=["oo_never_filed"],
    )
    drain(services, REGISTRY)
    mine = client.get("/v1/optouts", headers=h).json()["optouts"]
    assert [(o["optout_id"], o["blocked_requests"]) for o in mine] == [(comet, 2)]
    theirs = client.get(f"/v1/optouts/{other}", headers=other_h).json()
    assert theirs["blocked_requests"] == 1
    assert [r.optout_id for r in training_exclusions(services)] == sorted([comet, other])
    assert replay_check(services, PROJECTIONS, progress=False, out=lambda _: None) == []


def test_optout_filed_after_approval_stops_the_job_at_pickup(client, services, holders):
    (_, h), _ = holders
    _, user_h = make_principal(services, "user")
    generation_flow(services, "g-7", "u-1", [], prompt="captain comet saves the day")
    now = datetime.now(UTC)
    before = recheck(
        services,
        generation_id="g-7",
        requester_id="u-1",
        prompt="captain comet saves the day",
        cameo_ids=[],
        at=now,
    )
    assert before.allowed is True
    optout_id = file(client, h)
    drain(services, REGISTRY)
    after = recheck(
        services,
        generation_id="g-7",
        requester_id="u-1",
        prompt="captain comet saves the day",
        cameo_ids=[],
        at=now,
    )
    assert after == PickupAnswer(
        False,
        "opted_out",
        {"optout_ids": [optout_id], "registry_position": after.details["registry_position"]},
    )
    # The request came from a territory the opt-out does not cover: no refusal.
    emit(
        services,
        "generation",
        "g-8",
        "GenerationRequested",
        generation_id="g-8",
        requester_id="u-1",
        prompt="captain comet",
        territory="FR",
    )
    fr = recheck(
        services,
        generation_id="g-8",
        requester_id="u-1",
        prompt="captain comet",
        cameo_ids=[],
        at=now,
    )
    assert fr.allowed is True


def recheck(services: Any, **request: Any) -> PickupAnswer:
    """The pick-up re-check, asked the way the generator asks it: through its port."""
    return services.port(PICKUP_POLICY).recheck(PickupRequest(**request))


def test_admins_list_every_optout_and_withdraw_needs_no_body(client, services, holders):
    (holder, h), (_, other_h) = holders
    mine = file(client, h)
    theirs = file(client, other_h, {**FILING, "terms": {"characters": ["Nebula Knightress"]}})
    drain(services, REGISTRY)
    _, admin_h = make_principal(services, "admin")
    listed = client.get("/v1/optouts", headers=admin_h).json()["optouts"]
    assert sorted(o["optout_id"] for o in listed) == sorted([mine, theirs])
    assert [o["optout_id"] for o in client.get("/v1/optouts", headers=h).json()["optouts"]] == [
        mine
    ]
    # No body at all (the reason is optional), and an explicit reason, both withdraw.
    bare = client.post(f"/v1/optouts/{mine}/withdraw", headers=h)
    assert bare.status_code == 200, bare.text
    assert bare.json()["stream_version"] == 2
    reasoned = client.post(
        f"/v1/optouts/{theirs}/withdraw", headers=other_h, json={"reason": "licensed"}
    )
    assert reasoned.status_code == 200
    bad = client.post(f"/v1/optouts/{theirs}/withdraw", headers=other_h, json={"why": 1})
    assert bad.status_code in (409, 422)
    stranger = client.post(f"/v1/optouts/{theirs}/withdraw", headers=h)
    assert stranger.status_code == 404
    operation = client.get("/openapi.json").json()["paths"]["/v1/optouts/{optout_id}/withdraw"]
    assert operation["post"]["requestBody"].get("required", False) is False


def test_filing_refuses_made_up_territories(client, holders):
    (_, h), _ = holders
    for made_up in (["XX"], ["UK"], ["US", "ZZ"]):
        refused = client.post("/v1/optouts", headers=h, json={**FILING, "territories": made_up})
        assert refused.status_code == 422, refused.text


def test_the_holders_stats_name_the_matched_term_never_the_request(client, services, holders):
    (_, h), _ = holders
    optout_id = file(client, h)
    drain(services, REGISTRY)
    requester, _ = make_principal(services, "user")
    for generation_id, prompt in (
        ("g-a", "captian comet rescues a kitten"),
        ("g-b", "the komet kid at the fair"),
        ("g-c", "a quiet lake at dawn"),
    ):
        emit(
            services,
            "generation",
            generation_id,
            "GenerationRequested",
            generation_id=generation_id,
            requester_id=requester,
            prompt=prompt,
        )
    drain(services, ["prompt-moderation", *REGISTRY])
    stats = client.get(f"/v1/optouts/{optout_id}/stats", headers=h)
    assert stats.status_code == 200, stats.text
    body = stats.json()
    assert (body["blocked_requests"], body["blocked_outputs"]) == (2, 0)
    assert [(d["prompts"], d["outputs"]) for d in body["by_day"]] == [(2, 0)]
    assert [(m["kind"], m["value"], m["prompts"]) for m in body["matched"]] == [
        ("term", "Captian Comet", 1),
        ("term", "Komet Kid", 1),
    ]
    for leak in (requester, "g-a", "kitten", "fair"):
        assert leak not in stats.text
    assert replay_check(services, PROJECTIONS, progress=False, out=lambda _: None) == []
