"""The cases domain end to end over HTTP on the embedded default (SQLite, SQL-tail log)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from core.replay import replay_check
from core.services import Services
from tests.trust_safety.cases.foreign import publish
from tests.utils import drain, make_principal
from trust_safety.cases.registration import PROJECTIONS

CONSUMERS = [*PROJECTIONS, "asset-directory", "asset-visibility", "feed"]

REMOVE = {
    "kind": "remove_asset",
    "category": "STATEMENT_CATEGORY_CYBER_VIOLENCE",
    "ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT",
    "ground_reference": "Terms of Service 4.2 (likeness)",
    "ground_explanation": "Uses the likeness of a real person without their consent.",
    "facts": "The face at 0:03 matches a person who did not consent to appear.",
}
REASONS = "On review the person shown is a consenting cameo; the removal was a mistake."


def run(services: Services) -> None:
    drain(services, CONSUMERS)


def report(client: Any, headers: dict[str, str], asset: str, category: str = "hate_speech") -> Any:
    return client.post(
        "/v1/reports",
        headers=headers,
        json={
            "target": {"kind": "asset", "id": asset},
            "category": category,
            "explanation": "Shows a real person in a degrading scene",
            "good_faith": True,
        },
    )


def recent_ids(client: Any, headers: dict[str, str]) -> list[str]:
    r = client.get("/v1/feed/recent", headers=headers)
    assert r.status_code == 200, r.text
    return [i["asset_id"] for i in r.json()["items"]]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def services(request: pytest.FixtureRequest, make_services: Callable[..., Services]) -> Services:
    """The embedded default, and the production database (same code, chosen by settings)."""
    return make_services(request.param)


@pytest.fixture
def people(services: Services) -> dict[str, tuple[str, dict[str, str]]]:
    return {
        "owner": make_principal(services, "user", name="Owner"),
        "reporter": make_principal(services, "user", name="Reporter"),
        "other": make_principal(services, "user", name="Other"),
        "rev_a": make_principal(services, "reviewer", name="Reviewer A"),
        "rev_b": make_principal(services, "reviewer", name="Reviewer B"),
        "admin": make_principal(services, "admin", name="Admin"),
        "holder": make_principal(services, "rights_holder", name="Studio"),
    }


def test_report_claim_remove_appeal_reverse(
    client: Any, services: Services, people: dict[str, tuple[str, dict[str, str]]]
) -> None:
    owner, oh = people["owner"]
    reporter, rh = people["reporter"]
    rev_a, ah = people["rev_a"]
    rev_b, bh = people["rev_b"]
    _, adm = people["admin"]
    publish(services, "vid-1", owner)
    publish(services, "vid-2", owner, remix_of="vid-1")
    run(services)
    assert recent_ids(client, rh) == ["vid-2", "vid-1"]

    filed = report(client, rh, "vid-1")
    assert filed.status_code == 201, filed.text
    case_id = filed.json()["case_id"]
    # a second report on the same asset joins the same case
    again = report(client, people["other"][1], "vid-1", "harassment")
    assert again.json()["case_id"] == case_id
    # a report without good faith is refused with a machine-readable error
    bad = client.post(
        "/v1/reports",
        headers=rh,
        json={
            "target": {"kind": "asset", "id": "vid-1"},
            "category": "spam",
            "explanation": "spam spam spam spam",
            "good_faith": False,
        },
    )
    assert bad.status_code == 422
    run(services)

    assert client.get("/v1/cases/queue", headers=rh).status_code == 403
    queue = client.get("/v1/cases/queue", headers=ah).json()["cases"]
    assert [c["case_id"] for c in queue] == [case_id]
    assert queue[0]["report_count"] == 2

    claim = client.post(f"/v1/cases/{case_id}/claim", headers=ah)
    assert claim.status_code == 200, claim.text
    lost = client.post(f"/v1/cases/{case_id}/claim", headers=bh)
    assert lost.status_code == 409 and lost.json()["code"] == "claim_held"
    run(services)
    # the other reviewer neither sees the claimed case in the queue nor can open it
    assert client.get("/v1/cases/queue", headers=bh).json()["cases"] == []
    assert client.get(f"/v1/cases/{case_id}", headers=bh).status_code == 404
    assert client.get(f"/v1/cases/{case_id}", headers=adm).status_code == 200
    # acting needs the claim
    assert client.post(f"/v1/cases/{case_id}/actions", headers=bh, json=REMOVE).status_code == 409

    acted = client.post(f"/v1/cases/{case_id}/actions", headers=ah, json={**REMOVE, "strike": True})
    assert acted.status_code == 201, acted.text
    action_id, puid = acted.json()["action_id"], acted.json()["puid"]
    run(services)

    # gone from every feed, lineage of the remix marks the parent unavailable
    assert recent_ids(client, rh) == ["vid-2"]
    lineage = client.get("/v1/feed/assets/vid-2/lineage", headers=rh).json()
    assert lineage["depth"] == 1 and lineage["ancestors"] == [
        {"generation_id": "gen-vid-1", "asset_id": "vid-1", "available": False}
    ]
    # the owner is told what, why and how to appeal; the reporters learn the outcome
    inbox = client.get("/v1/inbox", headers=oh).json()["notifications"]
    assert inbox[0]["kind"] == "enforcement" and puid in inbox[0]["body"]
    assert "appeal this decision" in inbox[0]["body"]
    told = client.get("/v1/inbox", headers=rh).json()["notifications"][0]
    assert told["kind"] == "report_outcome" and told["refs"]["decision_id"] == action_id
    assert told["refs"]["report_id"] == filed.json()["report_id"]  # only the reporter's own
    mine = client.get("/v1/enforcement/mine", headers=oh).json()["actions"]
    assert mine[0]["statement_of_reasons"]["puid"] == puid
    assert "evidence" not in mine[0]
    assert (
        client.get(f"/v1/enforcement/actions/{action_id}", headers=people["other"][1]).json()[
            "action_id"
        ]
        == action_id
    )  # the second notifier may see it
    stranger = make_principal(services, "user")[1]
    assert client.get(f"/v1/enforcement/actions/{action_id}", headers=stranger).status_code == 404
    # a reviewer with no part in the decision (and no appeal on it yet) does not see it
    assert client.get(f"/v1/enforcement/actions/{action_id}", headers=bh).status_code == 404
    assert "evidence" in client.get(f"/v1/enforcement/actions/{action_id}", headers=ah).json()

    appeal = client.post(
        "/v1/appeals", headers=oh, json={"decision_id": action_id, "statement": "It is me."}
    )
    assert appeal.status_code == 201, appeal.text
    appeal_id = appeal.json()["appeal_id"]
    assert appeal.json()["assigned"] is True
    run(services)
    # assigned to the reviewer who took no part in the decision, who now sees its evidence
    assert "evidence" in client.get(f"/v1/enforcement/actions/{action_id}", headers=bh).json()
    assert [
        a["appeal_id"] for a in client.get("/v1/appeals/queue", headers=bh).json()["appeals"]
    ] == [appeal_id]
    assert client.get("/v1/appeals/queue", headers=ah).json()["appeals"] == []
    view = client.get(f"/v1/appeals/{appeal_id}", headers=bh).json()
    evidence = view["original_decision"]["evidence"]
    assert evidence["reviewer_ids"] == [rev_a]
    assert view["original_decision"]["decided_by"] == rev_a
    assert (
        "evidence"
        not in client.get(f"/v1/appeals/{appeal_id}", headers=oh).json()["original_decision"]
    )
    assert client.get(f"/v1/appeals/{appeal_id}", headers=rh).status_code == 404
    # the original reviewer cannot decide it; reasons are required
    assert (
        client.post(
            f"/v1/appeals/{appeal_id}/decide",
            headers=ah,
            json={"outcome": "reversed", "reasons": REASONS},
        ).status_code
        == 409
    )
    short = client.post(
        f"/v1/appeals/{appeal_id}/decide", headers=bh, json={"outcome": "reversed", "reasons": "ok"}
    )
    assert short.status_code == 422 and short.json()["code"] == "reasons_required"

    decided = client.post(
        f"/v1/appeals/{appeal_id}/decide",
        headers=bh,
        json={"outcome": "reversed", "reasons": REASONS},
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["reversed_action_ids"] == [action_id]
    run(services)
    assert recent_ids(client, rh) == ["vid-2", "vid-1"]
    assert client.get("/v1/feed/assets/vid-2/lineage", headers=rh).json()["ancestors"][0][
        "available"
    ]
    kinds = [n["kind"] for n in client.get("/v1/inbox", headers=oh).json()["notifications"]]
    assert kinds[:2] == ["enforcement_reversed", "appeal_decided"] or kinds[:2] == [
        "appeal_decided",
        "enforcement_reversed",
    ]

    # the statement export carries the action exactly once, in the Database's shape
    export = client.get("/v1/transparency/statements", headers=adm).json()
    assert [s["puid"] for s in export["statements"]] == [puid]
    assert export["statements"][0]["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_REMOVED"]
    assert export["statements"][0]["source_type"] == "SOURCE_ARTICLE_16"
    again_export = client.get("/v1/transparency/statements", headers=adm).json()
    assert again_export == export
    assert (
        client.get(
            "/v1/transparency/statements",
            headers=adm,
            params={"after_position": export["next_after_position"]},
        ).json()["statements"]
        == []
    )
    assert client.get("/v1/transparency/statements", headers=ah).status_code == 403

    numbers = client.get(
        "/v1/transparency/report",
        headers=rh,
        params={"start": "2000-01-01T00:00:00Z", "end": "2100-01-01T00:00:00Z"},
    ).json()
    assert numbers["reports_received"] == 2
    assert numbers["actions_taken"] == 1
    assert numbers["appeals_filed"] == 1 and numbers["appeals_reversed"] == 1
    assert numbers["actions_by_category"] == {
        "STATEMENT_CATEGORY_CYBER_VIOLENCE": {"automated": 0, "human": 1}
    }
    assert numbers["median_time_to_decision_s"] >= 0

    # every read model equals its rebuild from the log
    assert replay_check(services, PROJECTIONS, progress=False, out=lambda _: None) == []


def test_dismissal_notifier_appeal_reopens_the_case(
    client: Any, services: Services, people: dict[str, tuple[str, dict[str, str]]]
) -> None:
    owner, oh = people["owner"]
    _, rh = people["reporter"]
    _, ah = people["rev_a"]
    _, bh = people["rev_b"]
    publish(services, "vid-9", owner)
    run(services)
    case_id = report(client, rh, "vid-9").json()["case_id"]
    run(services)
    assert client.post("/v1/cases/next", headers=ah).json()["case_id"] == case_id
    run(services)
    assert client.post("/v1/cases/next", headers=bh).json() == {"case_id": None}
    assert (
        client.post(
            f"/v1/cases/{case_id}/dismiss",
            headers=ah,
            json={"reasons": "Satire of a public figure, allowed."},
        ).status_code
        == 204
    )
    run(services)
    assert client.get("/v1/cases/queue", headers=ah).json()["cases"] == []
    outcome = client.get("/v1/reports/mine", headers=rh).json()["reports"][0]
    assert outcome["outcome"] == "dismissed"
    # the owner cannot appeal a dismissal (nothing was done to them); the notifier can
    assert (
        client.post(
            "/v1/appeals", headers=oh, json={"decision_id": case_id, "statement": "x"}
        ).status_code
        == 403
    )
    filed = client.post(
        "/v1/appeals", headers=rh, json={"decision_id": case_id, "statement": "It is not satire."}
    )
    assert filed.status_code == 201, filed.text
    appeal_id = filed.json()["appeal_id"]
    # caught on the appeal's own stream, before any projection has run
    dup = client.post(
        "/v1/appeals", headers=rh, json={"decision_id": case_id, "statement": "again"}
    )
    assert dup.status_code == 409 and dup.json()["code"] == "appeal_already_open"
    run(services)
    result = client.post(
        f"/v1/appeals/{appeal_id}/decide",
        headers=bh,
        json={"outcome": "reversed", "reasons": REASONS},
    ).json()
    assert result["reopened_case_id"] == case_id
    run(services)
    queue = client.get("/v1/cases/queue", headers=bh).json()["cases"]
    assert [c["case_id"] for c in queue] == [case_id]
    # a new report on the same asset joins the reopened case rather than a new one
    assert report(client, people["other"][1], "vid-9").json()["case_id"] == case_id


def test_optout_appeal_waits_for_the_rights_holder(
    client: Any, services: Services, people: dict[str, tuple[str, dict[str, str]]]
) -> None:
    owner, oh = people["owner"]
    holder, hh = people["holder"]
    _, ah = people["rev_a"]
    _, bh = people["rev_b"]
    publish(services, "vid-5", owner)
    run(services)
    action = client.post(
        "/v1/enforcement/actions",
        headers=ah,
        json={
            **REMOVE,
            "category": "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS",
            "target_id": "vid-5",
            "affected_user_id": owner,
            "source_type": "SOURCE_VOLUNTARY",
            "automated_detection": True,
            "automated_decision": "AUTOMATED_DECISION_FULLY",
            "evidence": {
                "rule_id": "optout-output-match",
                "rule_version": "3",
                "classifier_scores": {"character_match": 0.93},
                "matched_optout_id": "optout-77",
                "optout_rights_holder_id": holder,
            },
        },
    )
    assert action.status_code == 201, action.text
    action_id = action.json()["action_id"]
    run(services)
    filed = client.post(
        "/v1/appeals", headers=oh, json={"decision_id": action_id, "statement": "My own character."}
    )
    assert filed.status_code == 201 and filed.json()["rights_holder_due_at"]
    appeal_id = filed.json()["appeal_id"]
    run(services)
    invite = client.get("/v1/inbox", headers=hh).json()["notifications"]
    assert invite[0]["kind"] == "rights_holder_invited"
    reviewer_headers = bh if client.get("/v1/appeals/queue", headers=bh).json()["appeals"] else ah
    blocked = client.post(
        f"/v1/appeals/{appeal_id}/decide",
        headers=reviewer_headers,
        json={"outcome": "upheld", "reasons": REASONS},
    )
    assert blocked.status_code == 409 and blocked.json()["code"] == "awaiting_rights_holder"
    assert (
        client.post(
            f"/v1/appeals/{appeal_id}/respond", headers=oh, json={"response": "mine"}
        ).status_code
        == 403
    )
    assert (
        client.post(
            f"/v1/appeals/{appeal_id}/respond",
            headers=hh,
            json={"response": "Registered character, see filing 42."},
        ).status_code
        == 204
    )
    run(services)
    view = client.get(f"/v1/appeals/{appeal_id}", headers=hh).json()
    assert view["rights_holder_responded"] is True
    done = client.post(
        f"/v1/appeals/{appeal_id}/decide",
        headers=reviewer_headers,
        json={"outcome": "upheld", "reasons": REASONS},
    )
    assert done.status_code == 200, done.text
    run(services)
    assert client.get("/v1/appeals/mine", headers=oh).json()["appeals"][0]["outcome"] == "upheld"
    numbers = client.get(
        "/v1/transparency/report",
        headers=oh,
        params={"start": "2000-01-01T00:00:00Z", "end": "2100-01-01T00:00:00Z"},
    ).json()
    assert numbers["actions_by_category"] == {
        "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS": {"automated": 1, "human": 0}
    }
    assert numbers["own_initiative_actions"] == 1


def test_strikes_suspend_the_account_and_a_reversal_lifts_it(
    client: Any, services: Services, people: dict[str, tuple[str, dict[str, str]]]
) -> None:
    owner, oh = people["owner"]
    _, rh = people["reporter"]
    _, ah = people["rev_a"]
    _, bh = people["rev_b"]
    for i in range(4):
        publish(services, f"s-{i}", owner)
    run(services)
    action_ids = []
    for i in range(3):
        case_id = report(client, rh, f"s-{i}").json()["case_id"]
        assert client.post(f"/v1/cases/{case_id}/claim", headers=ah).status_code == 200
        r = client.post(f"/v1/cases/{case_id}/actions", headers=ah, json={**REMOVE, "strike": True})
        assert r.status_code == 201, r.text
        action_ids.append(r.json()["action_id"])
        run(services)
    ladder = r.json()["ladder_action_ids"]
    assert len(ladder) == 1
    assert recent_ids(client, rh) == []  # s-3 is hidden too: its owner is suspended
    mine = {
        a["action_id"]: a for a in client.get("/v1/enforcement/mine", headers=oh).json()["actions"]
    }
    assert mine[ladder[0]]["kind"] == "suspend_account"
    assert (
        mine[ladder[0]]["statement_of_reasons"]["decision_account"] == "DECISION_ACCOUNT_SUSPENDED"
    )
    appeal_id = client.post(
        "/v1/appeals", headers=oh, json={"decision_id": action_ids[1], "statement": "Not me."}
    ).json()["appeal_id"]
    run(services)
    result = client.post(
        f"/v1/appeals/{appeal_id}/decide",
        headers=bh,
        json={"outcome": "reversed", "reasons": REASONS},
    ).json()
    assert result["reversed_action_ids"] == [action_ids[1], ladder[0]]
    run(services)
    assert recent_ids(client, rh) == ["s-3", "s-1"]


def test_users_see_only_their_own_inbox(
    client: Any, services: Services, people: dict[str, tuple[str, dict[str, str]]]
) -> None:
    owner, oh = people["owner"]
    _, rh = people["reporter"]
    _, ah = people["rev_a"]
    publish(services, "vid-3", owner)
    run(services)
    case_id = report(client, rh, "vid-3").json()["case_id"]
    client.post(f"/v1/cases/{case_id}/claim", headers=ah)
    client.post(f"/v1/cases/{case_id}/actions", headers=ah, json=REMOVE)
    run(services)
    note = client.get("/v1/inbox", headers=oh).json()["notifications"][0]
    assert client.post(f"/v1/inbox/{note['notification_id']}/read", headers=rh).status_code == 404
    assert client.post(f"/v1/inbox/{note['notification_id']}/read", headers=oh).status_code == 204
    run(services)
    assert (
        client.get("/v1/inbox", headers=oh, params={"unread_only": True}).json()["notifications"]
        == []
    )
    assert (
        client.get("/v1/inbox", headers=rh).json()["notifications"][0]["kind"] == "report_outcome"
    )
    assert client.get("/v1/reports/mine", headers=oh).json()["reports"] == []
    # the case is decided: a new report on the same asset opens the next case for it
    assert case_id.endswith(":1")
    assert report(client, rh, "vid-3").json()["case_id"] == case_id[:-1] + "2"


def test_racing_reviewers_get_exactly_one_claim(
    services: Services, people: dict[str, tuple[str, dict[str, str]]]
) -> None:
    import threading

    from core.auth import Principal, Role
    from trust_safety.cases.claims import claim_case
    from trust_safety.cases.notices import ReportSubmission
    from trust_safety.cases.reports import file_report

    owner, _ = people["owner"]
    publish(services, "vid-r", owner)
    run(services)
    reporter = Principal(people["reporter"][0], "reporter", {Role.user})
    filed = file_report(
        services,
        reporter,
        ReportSubmission.parse(
            {
                "target": {"kind": "asset", "id": "vid-r"},
                "category": "violence",
                "explanation": "graphic violence at the start",
                "good_faith": True,
            }
        ),
    )
    reviewers = [
        Principal(f"rev-{i}", f"rev-{i}", {Role.reviewer}) for i in range(6)
    ]
    barrier = threading.Barrier(len(reviewers))
    outcomes: list[str] = []

    def race(reviewer: Principal) -> None:
        barrier.wait()
        try:
            claim_case(services, reviewer, filed.case_id)
            outcomes.append("won")
        except Exception as exc:  # each loser must get a typed conflict, nothing else
            outcomes.append(getattr(exc, "code", repr(exc)))

    threads = [threading.Thread(target=race, args=(r,)) for r in reviewers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("won") == 1
    assert set(outcomes) - {"won"} <= {"claim_held", "concurrency_conflict"}


def test_a_case_shows_its_history_and_the_cases_related_by_target_and_account(
    client: Any, services: Services, people: dict[str, tuple[str, dict[str, str]]]
) -> None:
    owner, _ = people["owner"]
    reporter, rh = people["reporter"]
    rev_a, ah = people["rev_a"]
    for asset in ("h-1", "h-2", "h-3"):
        publish(services, asset, owner)
    run(services)
    first = report(client, rh, "h-1").json()["case_id"]
    client.post(f"/v1/cases/{first}/claim", headers=ah)
    assert client.post(f"/v1/cases/{first}/actions", headers=ah, json=REMOVE).status_code == 201
    run(services)
    second = report(client, rh, "h-2").json()["case_id"]
    client.post(f"/v1/cases/{second}/claim", headers=ah)
    assert client.post(f"/v1/cases/{second}/actions", headers=ah, json=REMOVE).status_code == 201
    unrelated = report(client, people["other"][1], "h-3").json()["case_id"]
    run(services)

    detail = client.get(f"/v1/cases/{first}", headers=ah).json()
    types = [e["type"] for e in detail["history"]]
    assert types[0] == "ReportFiled" and "ReportClaimed" in types and types[-1] == "ReportActioned"
    claimed = next(e for e in detail["history"] if e["type"] == "ReportClaimed")
    assert claimed["actor_id"] == rev_a and claimed["facts"]["reviewer_id"] == rev_a
    filed = detail["history"][0]
    assert filed["actor_id"] == reporter and "explanation" not in filed["facts"]
    # the other case whose action fell on the same account, not the one nobody acted on yet
    related = [c["case_id"] for c in detail["related"]]
    assert second in related and unrelated not in related and first not in related
