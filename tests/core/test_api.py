"""The API edge: auth, role checks on every route, problem+json, body limits, health."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, Depends
from fastapi.testclient import TestClient

from core.app import create_app
from core.auth import Role, authenticate, require_roles, revoke_token, route_roles
from core.errors import Unauthenticated
from core.openapi import api_routes
from core.services import Services
from tests.utils import make_principal


def test_every_route_states_its_roles(services: Services) -> None:
    app = create_app(services)
    routes = api_routes(app)  # the docs pages are not API routes
    # included routers' routes too (newer FastAPI lists only their branches in app.routes)
    assert len(routes) > 60, [r.path for r in routes]
    missing = []
    for route in routes:
        if route_roles(route.dependant) is None:
            missing.append(f"{sorted(route.methods)} {route.path}")
    assert missing == [], f"routes without require_roles(...): {missing}"


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "broker": "embedded (sql tail)"}


def test_readiness_waits_for_the_models_warm_up(services: Services) -> None:
    """serve warms the models in the background; until they are loaded /readyz says 503."""
    with TestClient(create_app(services)) as c:
        services.warm_up.begin(["trust_safety", "reverse_search"])
        warming = c.get("/readyz")
        assert warming.status_code == 503
        assert warming.json()["checks"]["models"] == "warming"
        services.warm_up.finished("trust_safety")
        assert c.get("/readyz").json()["models"] == {
            "trust_safety": "ready",
            "reverse_search": "warming",
        }
        services.warm_up.finished("reverse_search")
        ready = c.get("/readyz")
        assert ready.status_code == 200 and ready.json()["checks"]["models"] == "ok"
        services.warm_up.finished("reverse_search", OSError("/srv/weights missing"))
        failed = c.get("/readyz")
        assert failed.status_code == 503
        assert failed.json()["checks"]["models"] == "failed: reverse_search"
        assert "/srv" not in failed.text


def test_readiness_reports_an_unreachable_broker(make_services) -> None:  # type: ignore[no-untyped-def]
    from core.app import create_app as build

    svc = make_services("sqlite", kafka_bootstrap="127.0.0.1:1")
    with TestClient(build(svc), raise_server_exceptions=False) as c:
        r = c.get("/readyz")
    assert r.status_code == 503 and r.json()["checks"]["broker"] == "unreachable"


def _app_with_probe(services: Services) -> TestClient:
    app = create_app(services)
    router = APIRouter()

    @router.post("/probe/reviewers")
    def probe(body: dict[str, int], who=Depends(require_roles(Role.reviewer))):  # type: ignore[no-untyped-def]
        return {"who": who.id, "n": len(body)}

    app.include_router(router)
    return TestClient(app, raise_server_exceptions=False)


def test_tokens_roles_and_problem_json(services: Services) -> None:
    c = _app_with_probe(services)
    reviewer, rh = make_principal(services, "reviewer")
    _, uh = make_principal(services, "user")
    admin, ah = make_principal(services, "admin")

    r = c.post("/probe/reviewers", json={"a": 1})
    assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "unauthenticated"
    assert (
        c.post("/probe/reviewers", json={}, headers={"Authorization": "Bearer cf_nope"}).status_code
        == 401
    )
    assert (
        c.post("/probe/reviewers", json={}, headers={"Authorization": "Basic abc"}).status_code
        == 401
    )
    forbidden = c.post("/probe/reviewers", json={}, headers=uh)
    assert forbidden.status_code == 403 and forbidden.json()["code"] == "forbidden"
    assert c.post("/probe/reviewers", json={"x": 1}, headers=rh).json() == {"who": reviewer, "n": 1}
    assert c.post("/probe/reviewers", json={}, headers=ah).json()["who"] == admin  # admins pass

    bad = c.post(
        "/probe/reviewers", content=b"{not json", headers={**rh, "content-type": "application/json"}
    )
    assert bad.status_code == 422 and bad.json()["code"] == "validation_failed"
    assert c.get("/nowhere").json()["code"] == "not_found"


def test_body_size_limit(make_services) -> None:  # type: ignore[no-untyped-def]
    svc = make_services("sqlite", max_body_bytes=2048)
    c = _app_with_probe(svc)
    _, rh = make_principal(svc, "reviewer")
    big = {f"k{i}": i for i in range(400)}
    r = c.post("/probe/reviewers", json=big, headers=rh)
    assert r.status_code == 413 and r.json()["code"] == "payload_too_large"
    assert c.post("/probe/reviewers", json={"a": 1}, headers=rh).status_code == 200


def test_tokens_are_stored_hashed_and_revocable(services: Services) -> None:
    from sqlalchemy import select

    from core.auth import ApiToken, issue_token

    pid, headers = make_principal(services, "investigator")
    token = headers["Authorization"].split()[1]
    with services.sessions() as s:
        stored = s.scalars(select(ApiToken.token_hash)).all()
    assert token not in stored and all(len(h) == 64 for h in stored)
    assert authenticate(services.sessions, services.settings, token).roles == {Role.investigator}
    token_id, second = issue_token(services.sessions, services.settings, pid)
    revoke_token(services.sessions, token_id)
    with pytest.raises(Unauthenticated, match="revoked"):
        authenticate(services.sessions, services.settings, second)
    assert authenticate(services.sessions, services.settings, token).id == pid


def test_a_json_route_keeps_the_json_limit_whatever_type_the_body_declares(make_services) -> None:  # type: ignore[no-untyped-def]
    # Declaring a media type once bought a JSON route the upload limit (50 MB of JSON sent as
    # video/mp4 was read in full). The limit is the route's: only upload routes get the
    # upload limit (tests/core/test_body_limits.py covers those, over real HTTP).
    svc = make_services("sqlite", max_body_bytes=2048, max_upload_bytes=8192)
    c = _app_with_probe(svc)
    _, rh = make_principal(svc, "reviewer")
    clip = b"\x00" * 4096
    for ctype in ("video/mp4", "image/png", "application/octet-stream", "multipart/form-data"):
        r = c.post("/probe/reviewers", content=clip, headers={**rh, "content-type": ctype})
        assert r.status_code == 413, ctype
        assert r.json()["code"] == "payload_too_large"
