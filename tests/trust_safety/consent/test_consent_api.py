"""The consent ledger end to end: the embedded default (SQLite + SQL-tail log) and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from contracts.ports import PICKUP_POLICY, PickupAnswer, PickupRequest
from core.events import stream_id
from core.replay import replay_check
from feed.projection import FeedProjection
from tests.trust_safety.consent.foreign_events import emit, generation_flow
from tests.utils import contract_events as ce
from tests.utils import drain, make_principal
from tests.utils.enrolment import capture_files, live_frames, register_cameo
from trust_safety.consent.public import check_request_consent, likeness_consent
from trust_safety.consent.registration import PROJECTIONS
from trust_safety.optout.public import TEXT_EMBEDDER as OPTOUT_EMBEDDER

LEDGER = ["consent-ledger"]
NOW = datetime.now(UTC)


def register(client, headers, handle: str, audience: str = "approved_people") -> str:
    """Through ``POST /v1/cameos`` with a real liveness capture (tests/utils/enrolment.py)."""
    return register_cameo(client, headers, handle, audience=audience)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def services(request, make_services):
    """The embedded default (SQLite), and the same scenarios on PostgreSQL."""
    return make_services(request.param)


@pytest.fixture
def people(services):
    return {name: make_principal(services, "user", name=name) for name in ("ada", "bo", "cy")}


def test_register_grant_revoke_and_history(client, services, people):
    (ada, ada_h), (bo, bo_h), _ = people["ada"], people["bo"], people["cy"]
    cameo = register(client, ada_h, "ada")
    # Ownership is read from the stream, so the owner can act before the projection runs.
    assert (
        client.post(
            f"/v1/cameos/{cameo}/grants", headers=ada_h, json={"grantee_id": bo}
        ).status_code
        == 201
    )
    drain(services, LEDGER)
    listed = client.get("/v1/cameos", headers=ada_h).json()["cameos"]
    assert [c["cameo_id"] for c in listed] == [cameo] and listed[0]["approved_people"] == [bo]
    assert client.get(f"/v1/cameos/{cameo}/may-i-use", headers=bo_h).json() == {
        "cameo_id": cameo,
        "allowed": True,
        "reason": "approved_person",
    }
    # Another user neither sees nor changes the cameo: 404, so ids cannot be probed.
    assert client.get(f"/v1/cameos/{cameo}", headers=bo_h).status_code == 404
    assert client.get("/v1/cameos", headers=bo_h).json()["cameos"] == []
    assert (
        client.post(f"/v1/cameos/{cameo}/grants", headers=bo_h, json={"grantee_id": bo}).status_code
        == 404
    )
    assert client.delete(f"/v1/cameos/{cameo}/grants/{bo}", headers=ada_h).status_code == 200
    drain(services, LEDGER)
    denied = client.get(f"/v1/cameos/{cameo}/may-i-use", headers=bo_h).json()
    assert denied["allowed"] is False and denied["reason"] == "consent_revoked"
    history = client.get(f"/v1/cameos/{cameo}/history", headers=ada_h).json()["history"]
    assert [(h["action"], h["actor_id"], h["subject_id"]) for h in history] == [
        ("registered", ada, None),
        ("enrolled", ada, None),
        ("granted", ada, bo),
        ("revoked", ada, bo),
    ]


def test_bad_input_gets_problem_json(client, people):
    _, ada_h = people["ada"]
    form = {"handle": "no spaces!", "display_name": "X"}
    bad = client.post(
        "/v1/cameos", headers=ada_h, data=form, files=capture_files(live_frames("kit"))
    )
    assert bad.status_code == 422 and bad.json()["code"] == "consent.invalid_input"
    # the caller's own liveness claim is no longer a way in
    claimed = client.post(
        "/v1/cameos",
        headers=ada_h,
        json={
            "handle": "good_one",
            "display_name": "X",
            "liveness_reference": "r",
            "liveness_result": "passed",
            "liveness_checked_at": NOW.isoformat(),
        },
    )
    assert claimed.status_code == 422
    empty = client.post(
        "/v1/cameos", headers=ada_h, data={"handle": "good_one", "display_name": "X"}
    )
    assert empty.status_code == 422 and empty.json()["code"] == "enrolment_capture_invalid"
    cameo = register(client, ada_h, "ada")
    past = client.post(
        f"/v1/cameos/{cameo}/grants",
        headers=ada_h,
        json={"grantee_id": "bo", "expires_at": (NOW - timedelta(days=1)).isoformat()},
    )
    assert past.status_code == 422
    assert client.get("/v1/cameos/cam_missing/history", headers=ada_h).status_code == 404
    assert client.get("/v1/cameos").status_code == 401


def test_appearances_listed_for_owner_and_removed_everywhere(client, services, people):
    (_ada, ada_h), (bo, bo_h) = people["ada"], people["bo"]
    cameo = register(client, ada_h, "ada", audience="everyone")
    drain(services, LEDGER)
    generation_flow(services, "g-1", bo, [cameo], publish_asset="asset-1")
    generation_flow(services, "g-2", bo, [cameo])  # a draft, not published
    drain(services, LEDGER)
    seen = client.get(f"/v1/cameos/{cameo}/appearances", headers=ada_h).json()["appearances"]
    assert {(a["generation_id"], a["creator_id"], a["status"]) for a in seen} == {
        ("g-1", bo, "published"),
        ("g-2", bo, "draft"),
    }
    assert client.get(f"/v1/cameos/{cameo}/appearances", headers=bo_h).status_code == 404
    removed = client.post(
        f"/v1/cameos/{cameo}/appearances/g-1/remove",
        headers=ada_h,
        json={"reason": "I never agreed to this one"},
    )
    assert removed.status_code == 202
    # The removal is an event on the cameo's stream: reverse search and the feed react to it.
    last = services.store.read_stream(stream_id("consent", cameo))[-1]
    assert last.type == "CameoAppearanceRemoved" and last.payload["generation_id"] == "g-1"
    drain(services, LEDGER)
    seen = client.get(f"/v1/cameos/{cameo}/appearances", headers=ada_h).json()["appearances"]
    assert {a["generation_id"]: a["status"] for a in seen} == {"g-1": "removed", "g-2": "draft"}
    again = client.post(f"/v1/cameos/{cameo}/appearances/g-1/remove", headers=ada_h, json={})
    assert again.status_code == 404
    # An enforcement removal of the other asset elsewhere is reflected too.
    emit(
        services,
        "provenance",
        "g-2",
        "AssetPublished",
        generation_id="g-2",
        asset_id="asset-2",
        download_blob_address="blob://y",
        tier="free",
    )
    action = ce.action_taken("act-2", "remove_asset", "asset-2", generation_id="g-2")
    ce.append(services, action)
    drain(services, ["asset-visibility", *LEDGER])
    seen = client.get(f"/v1/cameos/{cameo}/appearances", headers=ada_h).json()["appearances"]
    assert {a["generation_id"]: a["status"] for a in seen} == {"g-1": "removed", "g-2": "removed"}
    # An appeal upheld brings the video back, in the ledger as everywhere else.
    ce.append(services, ce.reversed_(action))
    drain(services, ["asset-visibility", *LEDGER])
    seen = client.get(f"/v1/cameos/{cameo}/appearances", headers=ada_h).json()["appearances"]
    assert {a["generation_id"]: a["status"] for a in seen} == {"g-1": "removed", "g-2": "published"}
    assert replay_check(services, PROJECTIONS, progress=False, out=lambda _: None) == []


def test_revocation_before_pickup_cancels_the_job(client, services, people):
    (_ada, ada_h), (bo, _) = people["ada"], people["bo"]
    services.override(OPTOUT_EMBEDDER, None)  # lexical opt-out matching is enough here
    cameo = register(client, ada_h, "ada")
    client.post(f"/v1/cameos/{cameo}/grants", headers=ada_h, json={"grantee_id": bo})
    drain(services, LEDGER)
    at_request = check_request_consent(services, principal_id=bo, prompt="@ada surfing", at=NOW)
    assert at_request.allowed and at_request.cameo_ids == (cameo,)
    ok = recheck(
        services,
        generation_id="g-9",
        requester_id=bo,
        prompt="@ada surfing",
        cameo_ids=[cameo],
        at=NOW,
    )
    assert ok.allowed is True
    client.delete(f"/v1/cameos/{cameo}/grants/{bo}", headers=ada_h)
    # No drain: the pick-up check folds the cameo's stream, so it sees the revocation at once.
    refused = recheck(
        services,
        generation_id="g-9",
        requester_id=bo,
        prompt="@ada surfing",
        cameo_ids=[cameo],
        at=NOW,
    )
    assert refused.allowed is False and refused.reason == "consent_revoked"
    assert refused.details["consent_reasons"] == ["consent_revoked"]


def test_mutual_follows_and_public_figures(client, services, people):
    (ada, ada_h), (bo, bo_h), (cy, _) = people["ada"], people["bo"], people["cy"]
    admin, admin_h = make_principal(services, "admin", name="operator")
    cameo = register(client, ada_h, "ada", audience="mutual_follows")
    emit(services, "feed", bo, "UserFollowed", follower_id=bo, followee_id=ada)
    emit(services, "feed", ada, "UserFollowed", follower_id=ada, followee_id=bo)
    emit(services, "feed", cy, "UserFollowed", follower_id=cy, followee_id=ada)
    # the feed owns the follow graph the mutual-follows audience asks
    drain(services, [*LEDGER, "feed"])
    assert client.get(f"/v1/cameos/{cameo}/may-i-use", headers=bo_h).json()["allowed"] is True
    emit(services, "feed", ada, "UserUnfollowed", follower_id=ada, followee_id=bo)
    drain(services, [*LEDGER, "feed"])
    assert client.get(f"/v1/cameos/{cameo}/may-i-use", headers=bo_h).json()["reason"] == (
        "not_mutual_follow"
    )
    # Only an operator links a cameo to a public figure.
    link = {"public_figure_id": "pf-ada"}
    assert (
        client.post(f"/v1/cameos/{cameo}/public-figure", headers=ada_h, json=link).status_code
        == 403
    )
    assert (
        client.post(f"/v1/cameos/{cameo}/public-figure", headers=admin_h, json=link).status_code
        == 200
    )
    drain(services, LEDGER)
    consent = likeness_consent(services)
    assert consent(ada, "pf-ada") is True and consent(cy, "pf-ada") is False
    result = check_request_consent(
        services,
        principal_id=cy,
        prompt="a speech",
        at=NOW,
        public_figure_ids=["pf-ada", "pf-nobody"],
    )
    assert [d.decision.reason.value for d in result.denied] == [
        "not_mutual_follow",
        "public_figure_without_cameo",
    ]
    rebuilt = {**PROJECTIONS, "feed": lambda services: FeedProjection()}
    assert replay_check(services, rebuilt, progress=False, out=lambda _: None) == []


def recheck(services: Any, **request: Any) -> PickupAnswer:
    """The pick-up re-check, asked the way the generator asks it: through its port."""
    return services.port(PICKUP_POLICY).recheck(PickupRequest(**request))


def test_a_publication_heard_before_its_approval_is_still_published(client, services, people):
    """The provenance and generation streams travel on different topics: the ledger may hear
    AssetPublished before GenerationApproved (here the store holds them in that order)."""
    (_ada, ada_h), (bo, _bo_h) = people["ada"], people["bo"]
    cameo = register(client, ada_h, "ada", audience="everyone")
    drain(services, LEDGER)
    ce.append(services, ce.asset_published("g-early", "asset-early"))
    drain(services, LEDGER)
    before = client.get(f"/v1/cameos/{cameo}/appearances", headers=ada_h).json()
    assert before["appearances"] == []
    generation_flow(services, "g-early", bo, [cameo])
    drain(services, LEDGER)
    seen = client.get(f"/v1/cameos/{cameo}/appearances", headers=ada_h).json()["appearances"]
    assert [(a["generation_id"], a["status"]) for a in seen] == [("g-early", "published")]


def test_a_grant_names_an_account_that_exists(client, services, people):
    (_ada, ada_h), (bo, _) = people["ada"], people["bo"]
    cameo = register(client, ada_h, "ada")
    version = services.store.stream_version(stream_id("consent", cameo))
    nobody = client.post(
        f"/v1/cameos/{cameo}/grants", headers=ada_h, json={"grantee_id": "p_never_created"}
    )
    assert nobody.status_code == 404 and nobody.json()["code"] == "consent.grantee_not_found"
    odd = client.post(f"/v1/cameos/{cameo}/grants", headers=ada_h, json={"grantee_id": "a b/c"})
    assert odd.status_code == 422
    assert services.store.stream_version(stream_id("consent", cameo)) == version  # no grant
    ok = client.post(f"/v1/cameos/{cameo}/grants", headers=ada_h, json={"grantee_id": bo})
    assert ok.status_code == 201


@pytest.mark.parametrize("failure_first", [False, True])
def test_a_generation_that_failed_is_listed_as_failed_not_as_a_draft(
    client, services, people, failure_first
):
    (_ada, ada_h), (bo, _) = people["ada"], people["bo"]
    cameo = register(client, ada_h, "ada", audience="everyone")
    drain(services, LEDGER)
    failed = ce.generation_failed("g-revoked", reason="consent_revoked", error="revoked")
    if failure_first:  # the render stream's topic may be heard first
        ce.append(services, failed)
        drain(services, LEDGER)
    generation_flow(services, "g-revoked", bo, [cameo])
    generation_flow(services, "g-draft", bo, [cameo])
    if not failure_first:
        drain(services, LEDGER)
        ce.append(services, failed)
    drain(services, LEDGER)
    seen = client.get(f"/v1/cameos/{cameo}/appearances", headers=ada_h).json()["appearances"]
    assert sorted((a["generation_id"], a["status"]) for a in seen) == [
        ("g-draft", "draft"),
        ("g-revoked", "failed"),
    ]
    assert replay_check(services, PROJECTIONS, progress=False, out=lambda _: None) == []
