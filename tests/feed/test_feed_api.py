"""Feed endpoints over HTTP on the embedded default."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from core.services import Services
from tests.trust_safety.cases.foreign import enforce_removal, publish
from tests.utils import drain, make_principal


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def services(request: pytest.FixtureRequest, make_services: Callable[..., Services]) -> Services:
    """The embedded default, and the production database (same code, chosen by settings)."""
    return make_services(request.param)


def ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [i["asset_id"] for i in response.json()["items"]]


def test_follow_feature_and_pipeline_removal(client: Any, services: Services) -> None:
    alice, ah = make_principal(services, "user", name="Alice")
    bob, bh = make_principal(services, "user", name="Bob")
    _, adm = make_principal(services, "admin")
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
