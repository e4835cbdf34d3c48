"""The admin API for principals and tokens: the CLI's functions behind admin-only routes."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from core.identity import principal_stream
from core.services import Services
from tests.utils import make_principal


def _events(services: Services, principal_id: str) -> list[tuple[str, str]]:
    stream = principal_stream(principal_id)
    return [(e.type, e.actor.id) for e in services.store.read_stream(stream)]


def test_an_admin_creates_a_principal_issues_and_revokes_a_token(
    client: TestClient, services: Services
) -> None:
    admin_id, admin = make_principal(services, "admin", name="Ada Admin")

    created = client.post(
        "/v1/admin/principals", json={"name": " Rita Reviewer ", "roles": ["reviewer", "user"]},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    pid = body["principal_id"]
    assert body["name"] == "Rita Reviewer" and body["roles"] == ["reviewer", "user"]
    assert body["tokens"] == [] and body["disabled"] is False

    issued = client.post(f"/v1/admin/principals/{pid}/tokens", json={"label": "laptop"},
                         headers=admin)
    assert issued.status_code == 201, issued.text
    assert issued.headers["cache-control"] == "no-store"
    secret, token_id = issued.json()["token"], issued.json()["token_id"]
    rita = {"Authorization": f"Bearer {secret}"}
    assert client.get("/v1/cases/queue", headers=rita).status_code == 200

    listing = client.get("/v1/admin/principals", headers=admin)
    assert listing.status_code == 200
    people = {p["principal_id"]: p for p in listing.json()["principals"]}
    assert people[admin_id]["roles"] == ["admin"]
    (token,) = people[pid]["tokens"]
    assert token["token_id"] == token_id and token["label"] == "laptop"
    assert token["revoked"] is False and token["revoked_at"] is None
    assert len(token["hash_prefix"]) == 8
    assert secret not in listing.text  # never the secret, nor the full hash
    assert set(token) == {"token_id", "label", "hash_prefix", "created_at", "revoked_at",
                          "revoked"}

    assert client.delete(f"/v1/admin/tokens/{token_id}", headers=admin).status_code == 204
    stopped = client.get("/v1/cases/queue", headers=rita)
    assert stopped.status_code == 401 and stopped.json()["code"] == "unauthenticated"
    again = client.delete(f"/v1/admin/tokens/{token_id}", headers=admin)
    assert again.status_code == 204  # harmless, and no second event
    listed = client.get("/v1/admin/principals", headers=admin).json()["principals"]
    (revoked,) = next(p for p in listed if p["principal_id"] == pid)["tokens"]
    assert revoked["revoked"] is True and revoked["revoked_at"]

    # each change is an identity event, recorded as the admin who asked
    assert _events(services, pid) == [
        ("PrincipalCreated", admin_id),
        ("TokenIssued", admin_id),
        ("TokenRevoked", admin_id),
    ]


def test_roles_are_changed_exactly_once(client: TestClient, services: Services) -> None:
    admin_id, admin = make_principal(services, "admin")
    pid, headers = make_principal(services, "user")
    assert client.get("/v1/cases/queue", headers=headers).status_code == 403

    r = client.put(f"/v1/admin/principals/{pid}/roles", json={"roles": ["reviewer"]},
                   headers=admin)
    assert r.status_code == 200, r.text
    assert r.json() == {"principal_id": pid, "roles": ["reviewer"], "changed": True}
    assert client.get("/v1/cases/queue", headers=headers).status_code == 200
    same = client.put(f"/v1/admin/principals/{pid}/roles", json={"roles": ["reviewer"]},
                      headers=admin)
    assert same.json()["changed"] is False
    assert [t for t, _ in _events(services, pid)].count("RoleChanged") == 1


def test_only_admins_may(client: TestClient, services: Services) -> None:
    pid, reviewer = make_principal(services, "reviewer", "investigator")
    calls: list[tuple[str, str, Any]] = [
        ("GET", "/v1/admin/principals", None),
        ("POST", "/v1/admin/principals", {"name": "Mallory", "roles": ["admin"]}),
        ("POST", f"/v1/admin/principals/{pid}/tokens", {}),
        ("PUT", f"/v1/admin/principals/{pid}/roles", {"roles": ["admin"]}),
        ("DELETE", "/v1/admin/tokens/00000000-0000-0000-0000-000000000000", None),
    ]
    for method, path, body in calls:
        r = client.request(method, path, json=body, headers=reviewer)
        assert r.status_code == 403 and r.json()["code"] == "forbidden", (method, path)
        assert client.request(method, path, json=body).status_code == 401, (method, path)
    assert [t for t, _ in _events(services, pid)] == ["PrincipalCreated", "AgeAssured",
                                                      "TokenIssued"]


def test_unknown_ids_are_404(client: TestClient, services: Services) -> None:
    _, admin = make_principal(services, "admin")
    for method, path, body in [
        ("POST", "/v1/admin/principals/p_nobody/tokens", {"label": "x"}),
        ("PUT", "/v1/admin/principals/p_nobody/roles", {"roles": ["user"]}),
        ("DELETE", "/v1/admin/tokens/00000000-0000-0000-0000-000000000000", None),
        ("DELETE", "/v1/admin/tokens/not-a-uuid", None),
    ]:
        r = client.request(method, path, json=body, headers=admin)
        assert r.status_code == 404 and r.json()["code"] == "not_found", (method, path, r.text)


def test_bad_input_is_422(client: TestClient, services: Services) -> None:
    admin_id, admin = make_principal(services, "admin")
    bad = [
        ("POST", "/v1/admin/principals", {"name": "", "roles": ["user"]}),
        ("POST", "/v1/admin/principals", {"name": "   ", "roles": ["user"]}),
        ("POST", "/v1/admin/principals", {"name": "Zed", "roles": []}),
        ("POST", "/v1/admin/principals", {"name": "Zed", "roles": ["emperor"]}),
        ("POST", "/v1/admin/principals", {"name": "Zed", "roles": ["user"], "extra": 1}),
        ("POST", "/v1/admin/principals",
         {"name": "Zed", "roles": ["user"], "principal_id": "has space"}),
        ("POST", "/v1/admin/principals", {"name": "Zed", "roles": ["user"],
                                          "principal_id": admin_id}),  # exists already
        ("POST", f"/v1/admin/principals/{admin_id}/tokens", {"label": "x" * 201}),
        ("PUT", f"/v1/admin/principals/{admin_id}/roles", {"roles": ["nope"]}),
        ("POST", "/v1/admin/principals/has%20space/tokens", {}),
    ]
    for method, path, body in bad:
        r = client.request(method, path, json=body, headers=admin)
        assert r.status_code == 422, (method, path, body, r.text)
        assert r.json()["code"] == "validation_failed"
    names = [p["name"] for p in client.get("/v1/admin/principals", headers=admin).json()[
        "principals"]]
    assert names == ["Test person"]
