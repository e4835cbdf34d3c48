"""The generation gate end to end on the embedded default (SQLite + SQL-tail log), with the
real prompt pipeline (MiniLM from the wheel) and the real upload classifiers."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from contracts.generation import AssetPublished
from core.events import stream_id
from tests.trust_safety.generation.gate_calls import GATE, events, request
from tests.trust_safety.uploads.media_factory import encode, gradient, photo
from tests.utils import drain, make_principal
from tests.utils.enrolment import register_cameo
from trust_safety.moderation.blocklist import load_default_blocklist
from trust_safety.optout.public import TEXT_EMBEDDER as OPTOUT_EMBEDDER

SHIPPED_BLOCKLIST = load_default_blocklist().version
NOW = datetime.now(UTC)


def state(client: Any, headers: dict[str, str], generation_id: str) -> dict[str, Any]:
    response = client.get(f"/v1/generations/{generation_id}", headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_request_moderate_poll_approve_and_refuse(client: Any, services: Any, people: Any) -> None:
    _, ada = people["ada"]
    ok = request(
        client,
        ada,
        prompt="a red fox trotting through fresh snow",
        duration_s=8,
        resolution="1080p",
        aspect_ratio="9:16",
        seed=7,
    )
    bad = request(client, ada, prompt="a man being d3c4p1t4t3d, blood everywhere")
    assert state(client, ada, ok)["status"] == "requested"  # polled before the gate ran
    drain(services, GATE)

    approved = state(client, ada, ok)
    assert approved["status"] == "approved"
    assert (approved["width"], approved["height"], approved["duration_s"]) == (1080, 1920, 8.0)
    assert [e.type for e in events(services, ok)] == [
        "GenerationRequested",
        "PromptModerated",
        "GenerationApproved",
    ]

    refused = state(client, ada, bad)
    assert refused["status"] == "refused" and refused["reason_category"] == "violence_gore"
    body = json.dumps(refused)
    assert "decapitated" not in body and "evidence" not in body
    outcome = events(services, bad)[-1]
    assert outcome.type == "GenerationRefused" and outcome.payload["stage"] == "prompt"
    assert outcome.payload["reason"].startswith("The prompt asks for graphic violence")


def test_users_see_only_their_own_and_reviewers_see_evidence(
    client: Any, services: Any, people: Any
) -> None:
    _, ada = people["ada"]
    _, bo = people["bo"]
    _, rev = people["rev"]
    gid = request(client, ada, prompt="a swastika flag over a crowd")
    drain(services, GATE)
    assert client.get(f"/v1/generations/{gid}", headers=bo).status_code == 404
    assert client.get("/v1/generations", headers=bo).json()["items"] == []
    assert [
        i["generation_id"] for i in client.get("/v1/generations", headers=ada).json()["items"]
    ] == [gid]
    assert state(client, rev, gid)["reason_category"] == "hate_symbols"
    assert client.get(f"/v1/generations/{gid}/moderation", headers=ada).status_code == 403
    record = client.get(f"/v1/generations/{gid}/moderation", headers=rev).json()["decision"]
    assert record["stage"] == "prompt"
    evidence = record["prompt_decision"]["evidence"]
    assert any(e["kind"] == "blocklist_term" and e["ref"] == "swastika" for e in evidence)
    assert record["prompt_decision"]["data_versions"]["blocklist"] == str(SHIPPED_BLOCKLIST)
    assert client.get("/v1/generations").status_code == 401


def test_living_artist_rewrite_reaches_the_generator(
    client: Any, services: Any, people: Any
) -> None:
    _, ada = people["ada"]
    gid = request(client, ada, prompt="a quiet harbour in the style of Greg Rutkowski")
    drain(services, GATE)
    assert state(client, ada, gid)["prompt_rewritten"] is True
    approval = events(services, gid)[-1]
    assert approval.type == "GenerationApproved"
    assert "rutkowski" not in approval.payload["prompt"].lower()
    assert "painterly fantasy" in approval.payload["prompt"]


def test_private_names_and_opted_out_brands_are_rewritten_with_before_and_after(
    client: Any, services: Any, people: Any
) -> None:
    ada_id, ada = people["ada"]
    _, holder = people["holder"]
    _, rev = people["rev"]
    filed = client.post(
        "/v1/optouts",
        headers=holder,
        json={
            "rights_holder_name": "Fizzco Drinks",
            "terms": {"brands": [{"name": "Fizzco", "generic": "cola"}]},
            "scopes": ["prompts"],
            "territories": ["*"],
        },
    )
    assert filed.status_code == 201, filed.text
    optout_id = filed.json()["optout_id"]
    drain(services)
    listed = client.get(f"/v1/optouts/{optout_id}", headers=holder).json()
    assert listed["terms"]["brands"] == [{"name": "Fizzco", "aliases": [], "generic": "cola"}]
    # Ada's own cameo carries her name: naming herself is not a private stranger.
    from tests.utils.enrolment import enrol_cameo

    enrol_cameo(services, ada_id, "ada_l", display_name="Ada Kowalczyk")
    drain(services)
    prompt = "Tomasz Nowakowski and Ada Kowalczyk sharing a Fizzco on a beach"
    gid = request(client, ada, prompt=prompt)
    drain(services, GATE)
    assert state(client, ada, gid)["prompt_rewritten"] is True
    approval = events(services, gid)[-1]
    assert approval.type == "GenerationApproved"
    assert approval.payload["prompt"] == "A person and Ada Kowalczyk sharing a cola on a beach"
    decision = client.get(f"/v1/generations/{gid}/moderation", headers=rev).json()["decision"]
    steps = decision["prompt_decision"]["rewrites"]
    assert [s["kind"] for s in steps] == ["private_person", "brand_generic"]
    assert steps[0]["before"] == prompt and steps[1]["before"] == steps[0]["after"]
    assert steps[1]["after"] == approval.payload["prompt"]
    assert steps[1]["refs"] == [f"brand:{optout_id}"]
    # A rewrite blocked nothing: the brand holder's blocked count stays 0.
    drain(services)
    assert client.get(f"/v1/optouts/{optout_id}", headers=holder).json()["blocked_requests"] == 0


@pytest.mark.parametrize(
    "body",
    [
        {"prompt": "a cat", "duration_s": 21},
        {"prompt": "a cat", "resolution": "4k"},
        {"prompt": "a cat", "kind": "image_to_video"},
        {"prompt": "a cat", "kind": "extend"},
        {"prompt": "a cat", "upload_id": "u1"},
        {"prompt": "", "duration_s": 3},
        {"prompt": "a cat", "seed": -1},
        {"prompt": "a cat", "cameo_ids": ["a", "b", "c", "d", "e"]},
        {"prompt": "a cat", "surprise": True},
        {"prompt": "a cat", "territory": "XX"},
        {"prompt": "a cat", "territory": "UK"},
    ],
)
def test_bad_requests_are_refused_before_anything_is_appended(
    client: Any, services: Any, people: Any, body: dict[str, Any]
) -> None:
    _, ada = people["ada"]
    response = client.post("/v1/generations", headers=ada, json=body)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_failed"
    assert client.get("/v1/generations", headers=ada).json()["items"] == []


def test_admin_list_edits_are_events_and_decisions_record_the_version(
    client: Any, services: Any, people: Any
) -> None:
    _, ada = people["ada"]
    _, admin = people["admin"]
    assert (
        client.post(
            "/v1/moderation/blocklist/illegal_activity/terms", headers=ada, json={"term": "zorblax"}
        ).status_code
        == 403
    )
    added = client.post(
        "/v1/moderation/blocklist/illegal_activity/terms",
        headers=admin,
        json={"term": "Zorblax", "expected_version": SHIPPED_BLOCKLIST},
    )
    assert added.status_code == 201 and added.json() == {"version": SHIPPED_BLOCKLIST + 1}
    stale = client.post(
        "/v1/moderation/blocklist/sexual/terms",
        headers=admin,
        json={"term": "quuxfoo", "expected_version": SHIPPED_BLOCKLIST},
    )
    assert stale.status_code == 409
    assert (
        client.post(
            "/v1/moderation/blocklist/spam/terms", headers=admin, json={"term": "abc"}
        ).status_code
        == 422
    )
    gid = request(client, ada, prompt="a jar of z o r b l a x jam on a kitchen table")
    drain(services, GATE)
    assert state(client, ada, gid)["reason_category"] == "illegal_activity"
    decided = events(services, gid)[1].payload["prompt_decision"]
    assert decided["data_versions"]["blocklist"] == str(SHIPPED_BLOCKLIST + 1)
    assert "zorblax" in json.dumps(
        client.get("/v1/moderation/lists", headers=admin).json()["blocklist"]
    )
    assert client.get("/v1/moderation/lists", headers=ada).status_code == 403

    removed = client.delete(
        f"/v1/moderation/blocklist/illegal_activity/terms/zorblax?expected_version={SHIPPED_BLOCKLIST + 1}",
        headers=admin,
    )
    assert removed.status_code == 200 and removed.json() == {"version": SHIPPED_BLOCKLIST + 2}
    again = request(client, ada, prompt="a jar of z o r b l a x jam on a kitchen table")
    drain(services, GATE)
    assert state(client, ada, again)["status"] == "approved"

    figure = client.put(
        "/v1/moderation/public-figures/pf-jane-quasar",
        headers=admin,
        json={"name": "Jane Quasarine", "aliases": ["JQ Quasarine"]},
    )
    assert figure.status_code == 200
    gid = request(client, ada, prompt="Jane Quasarine riding a tram")
    drain(services, GATE)
    assert state(client, ada, gid)["reason_category"] == "public_figures"
    bad_figure = client.put(
        "/v1/moderation/public-figures/Bad Id", headers=admin, json={"name": "X Y"}
    )
    assert bad_figure.status_code == 422
    assert (
        client.delete("/v1/moderation/public-figures/pf-jane-quasar", headers=admin).status_code
        == 200
    )
    kinds = [e.type for e in services.store.read_stream("modlist-blocklist")]
    assert kinds == ["BlocklistTermAdded", "BlocklistTermRemoved"]


def test_image_to_video_needs_the_requesters_own_approved_upload(
    client: Any, services: Any, people: Any
) -> None:
    _, ada = people["ada"]
    _, bo = people["bo"]
    landscape = client.post(
        "/v1/uploads",
        headers=ada,
        files={"file": ("x.jpg", encode(gradient(320, 240), ".png"), "image/jpeg")},
    )
    assert landscape.status_code == 201, landscape.text
    upload = landscape.json()
    assert upload["outcome"] == "approved" and upload["media_type"] == "image/png"
    assert client.get(f"/v1/uploads/{upload['upload_id']}", headers=bo).status_code == 404

    face = client.post(
        "/v1/uploads",
        headers=ada,
        # a real person's photo (tests/data/faces) that is no cameo of ada's
        files={"file": ("me.png", encode(photo("rose_leslie_2.jpg", 400)), "image/png")},
    )
    assert face.json()["outcome"] == "refused" and face.json()["reason_category"] == "real_person"
    not_media = client.post(
        "/v1/uploads",
        headers=ada,
        files={"file": ("a.png", b"%PDF-1.7 not an image at all", "image/png")},
    )
    assert not_media.status_code == 415

    gid = request(
        client,
        ada,
        kind="image_to_video",
        prompt="the hills slowly come alive",
        upload_id=upload["upload_id"],
    )
    drain(services, GATE)
    assert state(client, ada, gid)["status"] == "approved"
    stolen = client.post(
        "/v1/generations",
        headers=bo,
        json={"kind": "image_to_video", "prompt": "x y z", "upload_id": upload["upload_id"]},
    )
    assert stolen.status_code == 404
    refused_upload = client.post(
        "/v1/generations",
        headers=ada,
        json={"kind": "image_to_video", "prompt": "a wave", "upload_id": face.json()["upload_id"]},
    )
    assert refused_upload.status_code == 403


def test_extend_and_remix_keep_lineage_and_check_the_source(
    client: Any, services: Any, people: Any
) -> None:
    _, ada = people["ada"]
    _, bo = people["bo"]
    source = request(client, ada, prompt="a paper boat on a pond")
    drain(services, GATE)
    extended = request(
        client,
        ada,
        kind="extend",
        prompt="the boat drifts under a bridge",
        source_generation_id=source,
    )
    foreign_extend = request(
        client, bo, kind="extend", prompt="the boat sinks", source_generation_id=source
    )
    foreign_remix = request(
        client, bo, kind="remix", prompt="the boat in space", source_generation_id=source
    )
    drain(services, GATE)
    assert state(client, ada, extended)["status"] == "approved"
    assert state(client, ada, extended)["extends"] == source
    assert state(client, bo, foreign_extend)["reason_category"] == "source_unavailable"
    # Not published, so not remixable by someone else.
    assert state(client, bo, foreign_remix)["reason_category"] == "source_unavailable"
    services.store.append(
        stream_id("provenance", source),
        [_published(source)],
        expected_version=None,
        actor=services_actor(),
    )
    remix = request(
        client, bo, kind="remix", prompt="the boat in space", source_generation_id=source
    )
    drain(services, GATE)
    assert state(client, bo, remix)["status"] == "approved"
    assert events(services, remix)[-1].payload["remix_of"] == [source]


def _published(generation_id: str) -> Any:
    """The provenance domain's AssetPublished, as its signing worker appends it."""
    return AssetPublished(
        generation_id=generation_id,
        asset_id="asset-1",
        download_blob_address="blob://x",
        tier="free",
    )


def services_actor() -> Any:
    from core.events import SYSTEM_ACTOR

    return SYSTEM_ACTOR


def test_cameo_consent_and_ip_optouts_refuse_with_their_own_reasons(
    client: Any, services: Any, people: Any
) -> None:
    ada_id, ada = people["ada"]
    _, bo = people["bo"]
    _, holder = people["holder"]
    cameo_id = register_cameo(client, ada, "ada_cam")  # from a real capture
    filing = client.post(
        "/v1/optouts",
        headers=holder,
        json={
            "rights_holder_name": "Comet Studios",
            "terms": {"characters": ["Captain Comet"]},
            "scopes": ["prompts"],
            "territories": ["*"],
        },
    )
    assert filing.status_code == 201, filing.text
    drain(services)  # the consent ledger and the opt-out registry catch up
    mine = request(client, ada, prompt="me walking a dog", cameo_ids=[cameo_id])
    theirs = request(client, bo, prompt="a walk in the park", cameo_ids=[cameo_id])
    ip = request(client, bo, prompt="C4ptain Comet saves the day")
    drain(services, GATE)
    assert state(client, ada, mine)["status"] == "approved"
    assert events(services, mine)[-1].payload["cameo_ids"] == [cameo_id]
    assert state(client, bo, theirs)["reason_category"] == "cameo_consent"
    assert state(client, bo, ip)["reason_category"] == "ip"
    refusal = events(services, ip)[-1].payload
    assert refusal["optout_ids"] == [filing.json()["optout_id"]]
    assert ada_id  # the owner is the ledger's business; here only the outcome matters


@pytest.mark.postgres
def test_gate_flow_on_postgresql(make_services: Any) -> None:
    from fastapi.testclient import TestClient

    from core.app import create_app

    services = make_services("postgres")
    services.override(OPTOUT_EMBEDDER, None)
    _, ada = make_principal(services, "user", name="ada")
    with TestClient(create_app(services)) as client:
        ok = request(client, ada, prompt="a lighthouse beam sweeping over fog")
        bad = request(client, ada, prompt="a p0rn scene")
        drain(services, GATE)
        assert state(client, ada, ok)["status"] == "approved"
        assert state(client, ada, bad)["reason_category"] == "sexual"
        assert [
            i["generation_id"] for i in client.get("/v1/generations", headers=ada).json()["items"]
        ] == [bad, ok]


def test_rebuilt_request_read_model_equals_the_live_one(
    client: Any, services: Any, people: Any
) -> None:
    from core.replay import replay_check
    from trust_safety.generation.registration import PROJECTIONS

    _, ada = people["ada"]
    request(client, ada, prompt="a hot air balloon over vineyards")
    request(client, ada, prompt="a nude woman on a bed")
    drain(services, GATE)
    assert replay_check(services, PROJECTIONS, progress=False, out=lambda _: None) == []


def test_a_redelivered_request_is_not_decided_twice(
    client: Any, services: Any, people: Any
) -> None:
    from trust_safety.generation.gate import PromptModeration

    _, ada = people["ada"]
    gid = request(client, ada, prompt="a snail racing a leaf")
    drain(services, GATE)
    requested = events(services, gid)[0]
    assert PromptModeration(services).handle(requested) == ()
    assert [e.type for e in events(services, gid)].count("PromptModerated") == 1


def test_a_public_figure_passes_only_with_consent_through_their_linked_cameo(
    client: Any, services: Any, people: Any
) -> None:
    _, ada = people["ada"]
    _, bo = people["bo"]
    _, admin = people["admin"]
    # Ada is the public figure "Keanu Reeves" here: her verified cameo is linked to the figure.
    cameo_id = register_cameo(client, ada, "keanu")  # from a real capture
    linked = client.post(
        f"/v1/cameos/{cameo_id}/public-figure",
        headers=admin,
        json={"public_figure_id": "pf-keanu-reeves"},
    )
    assert linked.status_code in (200, 201), linked.text
    drain(services)
    own = request(client, ada, prompt="Keanu Reeves feeding ducks")
    other = request(client, bo, prompt="Keanu Reeves feeding ducks")
    drain(services, GATE)
    assert state(client, ada, own)["status"] == "approved"
    assert events(services, own)[-1].payload["cameo_ids"] == [cameo_id]
    assert state(client, bo, other)["reason_category"] == "public_figures"


def test_image_to_video_refuses_a_video_upload_and_incomplete_requests_are_refused(
    client: Any, services: Any, people: Any
) -> None:
    from tests.trust_safety.uploads.media_factory import mp4

    ada_id, ada = people["ada"]
    clip = client.post(
        "/v1/uploads",
        headers=ada,
        files={"file": ("c.mp4", mp4([gradient(160, 120)] * 6, fps=3), "video/mp4")},
    )
    assert clip.status_code == 201 and clip.json()["outcome"] == "approved", clip.text
    response = client.post(
        "/v1/generations",
        headers=ada,
        json={"kind": "image_to_video", "prompt": "a wave", "upload_id": clip.json()["upload_id"]},
    )
    assert response.status_code == 422

    # An event built by hand without a prompt cannot be judged: refused, never approved.
    from core.events import Actor
    from tests.trust_safety.consent.foreign_events import foreign

    services.store.append(
        stream_id("generation", "handmade"),
        [
            foreign(
                "GenerationRequested", "generation", generation_id="handmade", requester_id=ada_id
            )
        ],
        expected_version=0,
        actor=Actor(id=ada_id, role="user"),
    )
    drain(services, GATE)
    assert state(client, ada, "handmade")["reason_category"] == "invalid_request"
