"""Three answers that were wrong (issue 14), each pinned by a test that failed before:

- a case fetched right after ``/cases/next`` showed ``claimed_by: null``;
- a report on an asset that does not exist was accepted;
- the creator got no notice when a cameo owner removed their video.
"""

from __future__ import annotations

from typing import Any

from core.events import Actor
from core.services import Services
from tests.trust_safety.cases.foreign import publish
from tests.utils import contract_events as ce
from tests.utils import drain, make_principal
from trust_safety.cases.registration import PROJECTIONS

REPORT = {
    "category": "harassment",
    "explanation": "Mocks a real person in a degrading scene",
    "good_faith": True,
}


def report(client: Any, headers: dict[str, str], kind: str, target: str) -> Any:
    return client.post(
        "/v1/reports", headers=headers, json={**REPORT, "target": {"kind": kind, "id": target}}
    )


def test_a_case_claimed_by_next_shows_its_claim_at_once(client: Any, services: Services) -> None:
    owner, _ = make_principal(services, "user")
    _, uh = make_principal(services, "user")
    reviewer, rh = make_principal(services, "reviewer")
    _, other = make_principal(services, "reviewer")
    publish(services, "vid-c", owner)
    drain(services, list(PROJECTIONS))
    assert report(client, uh, "asset", "vid-c").status_code == 201
    drain(services, list(PROJECTIONS))

    grant = client.post("/v1/cases/next", headers=rh)
    assert grant.status_code == 200, grant.text
    case_id = grant.json()["case_id"]
    # no projection has run since the claim: the case's own stream answers
    case = client.get(f"/v1/cases/{case_id}", headers=rh)
    assert case.status_code == 200, case.text
    assert case.json()["claimed_by"] == reviewer
    assert case.json()["claim_expires_at"] == grant.json()["expires_at"]
    # and the case is no longer another reviewer's to open
    assert client.get(f"/v1/cases/{case_id}", headers=other).status_code == 404
    assert client.get(f"/v1/cases/{case_id}", headers=uh).status_code == 403
    released = client.post(f"/v1/cases/{case_id}/release", headers=rh)
    assert released.status_code == 204
    assert client.get(f"/v1/cases/{case_id}", headers=rh).json()["claimed_by"] is None


def test_a_report_on_an_asset_that_does_not_exist_is_404(client: Any, services: Services) -> None:
    owner, _ = make_principal(services, "user")
    _, uh = make_principal(services, "user")
    publish(services, "vid-real", owner)
    drain(services, list(PROJECTIONS))
    missing = report(client, uh, "asset", "vid-ghost")
    assert missing.status_code == 404, missing.text
    assert missing.json()["code"] == "unknown_target" and "vid-ghost" in missing.json()["detail"]
    assert report(client, uh, "asset", "vid-real").status_code == 201
    # an account report names its account directly
    assert report(client, uh, "account", owner).status_code == 201
    drain(services, list(PROJECTIONS))
    mine = client.get("/v1/reports/mine", headers=uh).json()["reports"]
    assert sorted(r["target"]["id"] for r in mine) == sorted(["vid-real", owner])


def test_the_creator_is_told_when_a_cameo_owner_removes_their_video(
    client: Any, services: Services
) -> None:
    creator, ch = make_principal(services, "user", name="Creator")
    owner, oh = make_principal(services, "user", name="Cameo owner")
    ce.append(services, ce.generation_requested("g-cam", creator, cameo_ids=["cam-1"]))
    ce.append(services, ce.generation_requested("g-own", owner, cameo_ids=["cam-1"]))
    as_owner = Actor(id=owner, role="user")
    ce.append(services, ce.appearance_removed("cam-1", "g-cam"), actor=as_owner)
    # the owner taking themselves out of their own video tells nobody
    ce.append(services, ce.appearance_removed("cam-1", "g-own"), actor=as_owner)
    drain(services, ["cases-appearance-notices", "cases-inbox"])

    [note] = client.get("/v1/inbox", headers=ch).json()["notifications"]
    assert note["kind"] == "appearance_removed"
    assert note["refs"] == {"generation_id": "g-cam", "cameo_id": "cam-1"}
    assert "g-cam" in note["subject"] and "not a finding against you" in note["body"]
    assert client.get("/v1/inbox", headers=oh).json()["notifications"] == []
    # a redelivered removal tells the creator once
    drain(services, ["cases-appearance-notices", "cases-inbox"])
    assert len(client.get("/v1/inbox", headers=ch).json()["notifications"]) == 1
