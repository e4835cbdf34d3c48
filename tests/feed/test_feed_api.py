"""Feed endpoints over HTTP on the embedded default."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from core.services import Services
from tests.trust_safety.cases.foreign import enforce_removal, generation_of, publish
from tests.utils import contract_events as ce
from tests.utils import drain, make_principal


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def services(request: pytest.FixtureRequest, make_services: Callable[..., Services]) -> Services:
    """The embedded default, and the production database (same code, chosen by settings)."""
    return make_services(request.param)


def ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [i["asset_id"] for i in response.json()["items"]]


def verdict(category: str, score: float | None, threshold: float = 0.5) -> dict[str, Any]:
    return {
        "category": category,
        "status": "evaluated" if score is not None else "not_evaluated",
        "outcome": "pass" if score is None or score < threshold else "block",
        "max_score": score,
        "threshold": threshold,
        "evaluated_by": ["nudenet", "dlib"] if score is not None else [],
        "reason": "below_threshold",
        "worst_frame_s": 0.5,
    }


CLEAN = [verdict("sexual", 0.03), verdict("minors", 0.0), verdict("likeness", 0.0)]


def moderate(services: Services, asset_id: str, verdicts: list[dict[str, Any]]) -> None:
    """Output moderation's record of the asset's render, as the output domain writes it."""
    moderated = ce.output_moderated(
        generation_of(asset_id), verdicts=verdicts, policy_version="output-2026-12-1"
    )
    ce.append(services, moderated)


def test_follow_feature_and_pipeline_removal(client: Any, services: Services) -> None:
    alice, ah = make_principal(services, "user", name="Alice")
    bob, bh = make_principal(services, "user", name="Bob")
    _, adm = make_principal(services, "admin")
    moderate(services, "a1", CLEAN)
    publish(services, "a1", alice)
    publish(services, "b1", bob)
    publish(services, "b2", bob, remix_of="a1")
    drain(services, ["feed"])

    assert client.post("/v1/feed/follows", headers=ah, json={"followee_id": bob}).status_code == 204
    again = client.post("/v1/feed/follows", headers=ah, json={"followee_id": bob})
    assert again.status_code == 409 and again.json()["code"] == "already_following"
    assert (
        client.post("/v1/feed/follows", headers=ah, json={"followee_id": alice}).status_code == 422
    )
    assert (
        client.post("/v1/feed/follows", headers=ah, json={"followee_id": "ghost"}).status_code
        == 422
    )
    drain(services, ["feed"])
    assert ids(client.get("/v1/feed/following", headers=ah)) == ["b2", "b1"]
    assert ids(client.get("/v1/feed/following", headers=bh)) == []

    # curation is an operator's act
    assert client.post("/v1/feed/featured", headers=ah, json={"asset_id": "a1"}).status_code == 403
    assert client.post("/v1/feed/featured", headers=adm, json={"asset_id": "a1"}).status_code == 204
    assert (
        client.post("/v1/feed/featured", headers=adm, json={"asset_id": "nope"}).status_code == 404
    )
    drain(services, ["feed"])
    assert ids(client.get("/v1/feed/featured", headers=bh)) == ["a1"]

    page = client.get("/v1/feed/recent", headers=bh, params={"limit": 2}).json()
    assert [i["asset_id"] for i in page["items"]] == ["b2", "b1"]
    rest = client.get("/v1/feed/recent", headers=bh, params={"limit": 2, **page["next"]})
    assert ids(rest) == ["a1"]
    assert (
        client.get("/v1/feed/recent", headers=bh, params={"before_asset_id": "b1"}).status_code
        == 422
    )

    lineage = client.get("/v1/feed/assets/b2/lineage", headers=bh).json()
    parent = {"generation_id": "gen-a1", "asset_id": "a1", "available": True}
    assert lineage == {
        "asset_id": "b2",
        "parents": [parent],
        "depth": 1,
        "ancestors": [parent],
        "remixes": [],
    }
    assert client.get("/v1/feed/assets/a1/lineage", headers=bh).json()["remixes"] == ["b2"]

    # a removal and its reversal reach the feed as the asset's visibility
    enforce_removal(services, "a1")
    drain(services, ["asset-visibility", "feed"])
    assert ids(client.get("/v1/feed/featured", headers=bh)) == []
    assert client.get("/v1/feed/assets/a1/lineage", headers=bh).status_code == 404
    enforce_removal(services, "a1", restore=True)
    drain(services, ["asset-visibility", "feed"])
    assert ids(client.get("/v1/feed/featured", headers=bh)) == ["a1"]

    assert client.delete(f"/v1/feed/follows/{bob}", headers=ah).status_code == 204
    assert client.delete(f"/v1/feed/follows/{bob}", headers=ah).status_code == 422
    assert client.delete("/v1/feed/featured/a1", headers=adm).status_code == 204
    drain(services, ["feed"])
    assert ids(client.get("/v1/feed/following", headers=ah)) == []
    assert ids(client.get("/v1/feed/featured", headers=ah)) == []
    assert client.get("/v1/feed/recent").status_code == 401


def test_featuring_is_held_to_the_featured_policy(client: Any, services: Services) -> None:
    """Published (it passed the output policy) is not enough to be featured: the scores must
    pass the stricter, versioned Featured policy, and a refusal names what failed."""
    owner, oh = make_principal(services, "user")
    _, adm = make_principal(services, "admin")
    # 0.35 passes the output policy's 0.5 for sexual content but not Featured's 0.2
    moderate(services, "edgy", [verdict("sexual", 0.35), *CLEAN[1:]])
    # nothing evaluated minors: the output policy let it through, Featured wants it looked at
    moderate(services, "unseen", [CLEAN[0], verdict("minors", None), CLEAN[2]])
    moderate(services, "calm", CLEAN)
    for asset in ("edgy", "unseen", "calm", "unmoderated"):
        publish(services, asset, owner)
    drain(services, ["feed"])

    refused = client.post("/v1/feed/featured", headers=adm, json={"asset_id": "edgy"})
    assert refused.status_code == 409, refused.text
    body = refused.json()
    assert body["code"] == "featured_policy_failed"
    assert body["policy_version"] == "featured-2026-12-1"
    assert body["failed"] == [
        {"category": "sexual", "score": 0.35, "threshold": 0.2, "reason": "above_threshold"}
    ]
    unseen = client.post("/v1/feed/featured", headers=adm, json={"asset_id": "unseen"}).json()
    assert [(f["category"], f["reason"]) for f in unseen["failed"]] == [("minors", "not_evaluated")]
    bare = client.post("/v1/feed/featured", headers=adm, json={"asset_id": "unmoderated"})
    assert bare.status_code == 409 and bare.json()["failed"][0]["reason"] == "not_moderated"

    assert (
        client.post("/v1/feed/featured", headers=oh, json={"asset_id": "calm"}).status_code == 403
    )
    assert client.post("/v1/feed/featured", json={"asset_id": "calm"}).status_code == 401
    bad = client.post("/v1/feed/featured", headers=adm, json={"asset_id": "calm", "x": 1})
    assert bad.status_code == 422
    assert (
        client.post("/v1/feed/featured", headers=adm, json={"asset_id": "calm"}).status_code == 204
    )
    drain(services, ["feed"])
    assert ids(client.get("/v1/feed/featured", headers=oh)) == ["calm"]
    # the featuring records the policy it was checked under
    [featured] = [e for e in services.store.read_all() if e.type == "AssetFeatured"]
    assert featured.payload["policy_version"] == "featured-2026-12-1"
