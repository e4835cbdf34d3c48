"""A blocked output end to end: the real generator, output moderation (a scripted classifier
in place of NudeNet), signing, the cases domain and the read models, on the embedded default.

generate -> output blocked -> status ``blocked`` + notice -> appeal -> the reviewer's queue
shows the frames and scores -> release -> signed and published; and the upheld path, which
keeps the block and its statement of reasons.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from contracts.ports import BLOB_STORE
from core.events import utcnow
from core.modules import all_projections
from core.projections import Runner, make_runner
from core.replay import replay_check
from core.services import Services
from provenance.c2pa_manifest import read_manifest
from provenance.signing import credentials
from tests.generator.helpers import (
    ScriptedSexual,
    last,
    request_and_approve,
    stream_types,
)
from tests.trust_safety.cases.transparency_db_rules import validate_statement
from tests.utils import contract_events as ce
from tests.utils import drain, make_principal, runners
from trust_safety.cases.output_blocks import block_action_id, block_appends, rights_holder_of
from trust_safety.output.classifiers import SEXUAL
from trust_safety.output.moderation import CategoryRule, OutputPolicy
from trust_safety.output.processor import OutputModeration

SMALL = {"width": 160, "height": 96, "duration_s": 1.0, "fps": 12}
CONSUMERS = [
    "generator",
    "provenance-signing",
    "asset-visibility",
    "asset-directory",
    "generation-requests",
    "generation-jobs",
    "provenance-assets",
    "cases-actions",
    "cases-appeals",
    "cases-inbox",
    "cases-assets",
    "cases-output-blocks",
    "feed",
]
STATEMENT = "This is a paper boat on a pond; nothing in it is sexual. Please look again."
RELEASE = "The frames show a paper boat; the classifier mistook the water's texture for skin."
UPHOLD = "The frames at 0.0 s and 0.5 s show explicit content; the block stands as decided."


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def services(request: pytest.FixtureRequest, make_services: Callable[..., Services]) -> Services:
    """The embedded default, and the production database (same code, chosen by settings)."""
    return make_services(request.param)


# Sexual content only, so that the block has one category (with the default policy, what
# nothing here evaluates, minors and likeness, blocks too).
POLICY = OutputPolicy(version="output-test-1", rules={SEXUAL: CategoryRule(0.5, fail_closed=True)})


def pipeline(services: Services) -> list[Runner]:
    moderation = OutputModeration(services, classifiers=[ScriptedSexual(0.97)], policy=POLICY)
    return [*runners(services, CONSUMERS), make_runner(moderation, services)]


def people(services: Services) -> dict[str, tuple[str, dict[str, str]]]:
    return {
        "maker": make_principal(services, "user", name="Maker"),
        "other": make_principal(services, "user", name="Other"),
        "rev_a": make_principal(services, "reviewer", name="Reviewer A"),
        "rev_b": make_principal(services, "reviewer", name="Reviewer B"),
        "admin": make_principal(services, "admin", name="Admin"),
    }


def blocked(client: Any, services: Services, built: list[Runner], gid: str, maker: str) -> str:
    request_and_approve(services, gid, maker, "a paper boat on a pond", seed=5, **SMALL)
    drain(services, built=built)
    return block_action_id(gid)


def appeal(client: Any, headers: dict[str, str], action_id: str) -> str:
    filed = client.post(
        "/v1/appeals", headers=headers, json={"decision_id": action_id, "statement": STATEMENT}
    )
    assert filed.status_code == 201, filed.text
    assert filed.json()["assigned"] is True
    return str(filed.json()["appeal_id"])


def assigned_reviewer(
    client: Any, who: dict[str, tuple[str, dict[str, str]]], appeal_id: str
) -> tuple[dict[str, str], dict[str, str]]:
    """The headers of the reviewer the appeal went to, and of the one it did not."""
    queue = client.get("/v1/appeals/queue", headers=who["admin"][1]).json()["appeals"]
    [mine] = [a for a in queue if a["appeal_id"] == appeal_id]
    if mine["reviewer_id"] == who["rev_a"][0]:
        return who["rev_a"][1], who["rev_b"][1]
    assert mine["reviewer_id"] == who["rev_b"][0]
    return who["rev_b"][1], who["rev_a"][1]


def test_a_blocked_output_is_appealed_reviewed_released_signed_and_published(
    client: Any, services: Services
) -> None:
    who = people(services)
    maker, mh = who["maker"]
    built = pipeline(services)
    action_id = blocked(client, services, built, "g-rel", maker)

    # Blocked is a state, with its category and what the requester can do.
    state = client.get("/v1/generations/g-rel", headers=mh).json()
    assert state["status"] == "blocked" and state["reason_category"] == SEXUAL
    assert state["review"]["decision_id"] == action_id
    assert "POST /v1/appeals" in state["review"]["how"]
    listed = client.get("/v1/generations", headers=mh).json()["items"]
    assert [g["status"] for g in listed] == ["blocked"]
    assert client.get("/v1/generations/g-rel/download", headers=mh).status_code == 409
    assert "AssetSigned" not in stream_types(services, "g-rel")

    # The requester is told, in the commit of the block, how to contest it.
    [note] = client.get("/v1/inbox", headers=mh).json()["notifications"]
    assert note["kind"] == "enforcement" and note["refs"]["action_id"] == action_id
    assert "blocked before it was shown to you" in note["subject"]
    assert f"appeal decision {action_id}" in note["body"]
    assert "automated means" in note["body"]
    action = client.get(f"/v1/enforcement/actions/{action_id}", headers=mh).json()
    assert action["kind"] == "block_output" and action["target"]["id"] == "asset-g-rel"

    # Only the requester may ask for the review; a decision that does not exist is 404.
    stranger = client.post(
        "/v1/appeals",
        headers=who["other"][1],
        json={"decision_id": action_id, "statement": STATEMENT},
    )
    assert stranger.status_code == 403, stranger.text
    ghost = {"decision_id": "f" * 32, "statement": STATEMENT}
    assert client.post("/v1/appeals", headers=mh, json=ghost).status_code == 404
    appeal_id = appeal(client, mh, action_id)
    drain(services, built=built)

    # The reviewer's queue holds the block with the frames and scores that caused it.
    rh, other_rh = assigned_reviewer(client, who, appeal_id)
    queue = client.get("/v1/output-blocks/queue", headers=rh)
    assert queue.status_code == 200, queue.text
    [item] = queue.json()["blocks"]
    assert item["action_id"] == action_id and item["generation_id"] == "g-rel"
    assert item["appeal"]["appeal_id"] == appeal_id and item["appeal"]["statement"] == STATEMENT
    assert item["blocked_categories"] == [SEXUAL]
    [sexual] = item["verdicts"]
    assert sexual["category"] == SEXUAL and sexual["max_score"] == 0.97
    # 1 s sampled at 2 fps: both frames reached the threshold
    assert [f["time_s"] for f in item["causing_frames"]] == [0.0, 0.5]
    assert all(f["scores"] == {"scripted": {SEXUAL: 0.97}} for f in item["causing_frames"])
    assert len(item["frame_scores"]) == 2
    assert client.get("/v1/output-blocks/queue", headers=other_rh).json()["blocks"] == []
    assert client.get("/v1/output-blocks/queue", headers=mh).status_code == 403
    assert client.get("/v1/output-blocks/queue").status_code == 401
    assert client.get("/v1/output-blocks/queue?limit=0", headers=rh).status_code == 422
    detail = client.get(f"/v1/output-blocks/{action_id}", headers=rh)
    assert detail.status_code == 200 and detail.json()["appeals"][0]["appeal_id"] == appeal_id
    assert client.get(f"/v1/output-blocks/{action_id}", headers=other_rh).status_code == 404
    assert client.get(f"/v1/output-blocks/{action_id}", headers=mh).status_code == 403
    assert client.get(f"/v1/output-blocks/{action_id}").status_code == 401
    assert client.get("/v1/output-blocks/nope", headers=who["admin"][1]).status_code == 404
    assert client.get(f"/v1/output-blocks/{'x' * 300}", headers=rh).status_code == 422

    # The reviewer releases it: the normal path resumes, signed and published.
    decided = client.post(
        f"/v1/appeals/{appeal_id}/decide",
        headers=rh,
        json={"outcome": "reversed", "reasons": RELEASE},
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["reversed_action_ids"] == [action_id]
    drain(services, built=built)
    types = stream_types(services, "g-rel")
    assert types[-3:] == ["OutputReleased", "AssetSigned", "AssetPublished"], types
    assert last(services, "g-rel", "OutputReleased").payload["appeal_id"] == appeal_id
    state = client.get("/v1/generations/g-rel", headers=mh).json()
    assert state["status"] == "published" and state["reason_category"] is None
    assert state["review"] is None and state["asset_id"] == "asset-g-rel"
    job = client.get("/v1/generations/g-rel/job", headers=mh).json()
    assert job["status"] == "published" and job["downloadable"] is True
    got = client.get("/v1/generations/g-rel/download", headers=mh)
    assert got.status_code == 200 and got.headers["content-type"] == "video/mp4"
    signed = last(services, "g-rel", "AssetSigned").payload
    path = services.port(BLOB_STORE).path(signed["download_blob_address"])
    assert got.content == path.read_bytes()
    assert read_manifest(path, credentials(services).trust_anchors_pem).state == "Trusted"
    recent = client.get("/v1/feed/recent", headers=who["other"][1]).json()["items"]
    assert [i["asset_id"] for i in recent] == ["asset-g-rel"]
    notes = client.get("/v1/inbox", headers=mh).json()["notifications"]
    assert {n["kind"] for n in notes} >= {"enforcement_reversed", "appeal_decided"}
    # the queue moves on once the appeal is decided
    assert client.get("/v1/output-blocks/queue", headers=rh).json()["blocks"] == []
    released = client.get(f"/v1/output-blocks/{action_id}", headers=rh).json()
    assert released["released_at"] is not None
    # the read models that show the block rebuild to the same state from the log
    names = ["cases-output-blocks", "generation-requests", "cases-actions", "cases-inbox"]
    rebuilt = {n: f for n, f in all_projections().items() if n in names}
    assert len(rebuilt) == len(names)
    assert replay_check(services, rebuilt, progress=False, out=lambda _: None) == []


def test_an_upheld_block_stays_blocked_with_its_statement_of_reasons(
    client: Any, services: Services
) -> None:
    who = people(services)
    maker, mh = who["maker"]
    built = pipeline(services)
    action_id = blocked(client, services, built, "g-up", maker)
    appeal_id = appeal(client, mh, action_id)
    drain(services, built=built)
    rh, _ = assigned_reviewer(client, who, appeal_id)
    # a person decides, with reasons
    short = client.post(
        f"/v1/appeals/{appeal_id}/decide", headers=rh, json={"outcome": "upheld", "reasons": "no"}
    )
    assert short.status_code == 422, short.text
    decided = client.post(
        f"/v1/appeals/{appeal_id}/decide", headers=rh, json={"outcome": "upheld", "reasons": UPHOLD}
    )
    assert decided.status_code == 200 and decided.json()["reversed_action_ids"] == []
    drain(services, built=built)

    assert client.get("/v1/generations/g-up", headers=mh).json()["status"] == "blocked"
    assert "AssetSigned" not in stream_types(services, "g-up")
    assert client.get("/v1/generations/g-up/download", headers=mh).status_code == 409

    # The block carries a statement of reasons like any enforcement, one the Transparency
    # Database accepts: automated detection, a fully automated decision, access disabled.
    action = client.get(f"/v1/enforcement/actions/{action_id}", headers=mh).json()
    assert action["reversed_at"] is None
    sor = action["statement_of_reasons"]
    assert sor["puid"] == action["puid"]
    assert sor["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_DISABLED"]
    assert sor["automated_detection"] == "Yes"
    assert sor["automated_decision"] == "AUTOMATED_DECISION_FULLY"
    assert sor["source_type"] == "SOURCE_VOLUNTARY"
    assert "sexual scored 0.97" in sor["decision_facts"]
    assert validate_statement(sor).accepted, validate_statement(sor).errors
    exported = client.get("/v1/transparency/statements", headers=who["admin"][1]).json()
    assert [s["puid"] for s in exported["statements"]] == [action["puid"]]
    # the reviewer sees the evidence the decision rested on
    review = client.get(f"/v1/enforcement/actions/{action_id}", headers=rh).json()
    assert review["evidence"]["rule_id"] == "output-moderation"
    assert review["evidence"]["classifier_scores"] == {SEXUAL: 0.97}
    [told] = [
        n
        for n in client.get("/v1/inbox", headers=mh).json()["notifications"]
        if n["kind"] == "appeal_decided"
    ]
    assert told["refs"]["outcome"] == "upheld" and UPHOLD in told["body"]


def test_people_cannot_take_or_fake_an_output_block(client: Any, services: Services) -> None:
    """``block_output`` is output moderation's decision; a reviewer acting on their own
    initiative is refused it with a clear 422."""
    who = people(services)
    body = {
        "kind": "block_output",
        "target_id": "asset-g-x",
        "affected_user_id": who["maker"][0],
        "category": "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
        "ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT",
        "ground_reference": "Terms of Service 5.1",
        "ground_explanation": "Explicit content is not allowed here.",
        "facts": "An explicit scene at 0:03.",
        "source_type": "SOURCE_VOLUNTARY",
        "automated_detection": False,
        "automated_decision": "AUTOMATED_DECISION_NOT_AUTOMATED",
    }
    refused = client.post("/v1/enforcement/actions", headers=who["rev_a"][1], json=body)
    assert refused.status_code == 422 and refused.json()["code"] == "invalid_enforcement"


def test_a_block_on_an_opt_out_hears_its_rights_holder_on_appeal(
    client: Any, services: Services
) -> None:
    """An output blocked for a rights holder's reference media (category ``ip``, subject
    ``optout:<id>``) names the opt-out and its holder as evidence, read from the opt-out's
    stream; the requester's appeal then invites the holder to respond, as for any decision
    that rested on an opt-out."""
    maker, mh = make_principal(services, "user")
    holder, hh = make_principal(services, "rights_holder", name="Comet Studios")
    make_principal(services, "reviewer")
    filed = client.post(
        "/v1/optouts",
        headers=hh,
        json={
            "rights_holder_name": "Comet Studios",
            "terms": {"works": ["Captain Comet Adventures"], "characters": ["Captain Comet"]},
            "scopes": ["prompts"],
            "territories": ["*"],
        },
    )
    assert filed.status_code == 201, filed.text
    optout_id = filed.json()["optout_id"]
    verdict = {
        "category": "ip",
        "outcome": "block",
        "max_score": 1.0,
        "threshold": 0.5,
        "worst_frame_s": 0.5,
        "subjects": [f"optout:{optout_id}"],
    }
    moderated = ce.output_moderated(
        "g-ip", "block", blocked_categories=["ip"], verdicts=[verdict], policy_version="output-t"
    )
    appends = block_appends(services.store, "g-ip", maker, moderated, utcnow())
    for append in appends:
        services.store.append(
            append.stream_id,
            list(append.events),
            expected_version=append.expected_version,
            actor=append.actor,
        )
    drain(services, ["cases-actions", "cases-appeals", "cases-inbox"])
    action_id = block_action_id("g-ip")
    action = client.get(f"/v1/enforcement/actions/{action_id}", headers=mh).json()
    assert action["statement_of_reasons"]["category"] == (
        "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS"
    )
    appealed = client.post(
        "/v1/appeals", headers=mh, json={"decision_id": action_id, "statement": STATEMENT}
    )
    assert appealed.status_code == 201, appealed.text
    assert appealed.json()["rights_holder_due_at"] is not None
    drain(services, ["cases-inbox"])
    invited = client.get("/v1/inbox", headers=hh).json()["notifications"]
    assert [n["kind"] for n in invited] == ["rights_holder_invited"]
    assert invited[0]["refs"]["decision_id"] == action_id
    # an opt-out id nobody filed names no holder
    assert rights_holder_of(services.store, "no-such-optout") is None
    assert rights_holder_of(services.store, optout_id) == holder
