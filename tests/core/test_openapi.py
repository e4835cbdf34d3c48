"""The OpenAPI document tells the truth: response models, problem+json errors, declared ids
and bounds, and 405 with ``Allow``."""

from __future__ import annotations

import typing
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.testclient import TestClient
from pydantic import BaseModel

from core.access import route_roles
from core.app import create_app
from core.auth import Role
from core.openapi import (
    ID_PATTERN,
    MAX_POSITION,
    PROBLEM_MEDIA_TYPE,
    BinaryResponse,
    api_routes,
)
from core.services import Services

EVERY_ROLE = frozenset(r.value for r in Role)
METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture
def app(services: Services) -> FastAPI:
    return create_app(services)


@pytest.fixture
def schema(app: FastAPI) -> dict[str, Any]:
    return app.openapi()


def _operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, op)
        for path, ops in schema["paths"].items()
        for method, op in ops.items()
        if method in METHODS
    ]


def _routes(app: FastAPI) -> list[Any]:
    return [r for r in api_routes(app) if r.include_in_schema]


def test_every_route_has_a_response_model(app: FastAPI) -> None:
    def modelled(route: Any) -> bool:
        models = typing.get_args(route.response_model) or (route.response_model,)
        return all(isinstance(m, type) and issubclass(m, BaseModel) for m in models)

    def streams_a_file(route: Any) -> bool:
        # a file, or bytes of a media type the route declares (a JPEG frame)
        cls = getattr(route.response_class, "value", route.response_class)
        if not isinstance(cls, type):
            return False
        return issubclass(cls, (FileResponse, BinaryResponse))

    bare = [
        f"{sorted(r.methods)} {r.path}"
        for r in _routes(app)
        if not (modelled(r) or r.status_code == 204 or streams_a_file(r))
    ]
    assert bare == [], f"routes without a response model: {bare}"


def test_success_bodies_have_a_schema(schema: dict[str, Any]) -> None:
    missing = []
    for path, method, op in _operations(schema):
        for status, response in op["responses"].items():
            if not status.startswith("2") or status == "204":
                continue
            for media_type, body in response.get("content", {}).items():
                if media_type == "application/json" and not body.get("schema"):
                    missing.append(f"{method.upper()} {path} {status}")
    assert missing == []


def test_errors_are_declared_as_problem_json(schema: dict[str, Any]) -> None:
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    problem = schema["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "code", "detail"}
    wrong = []
    for path, method, op in _operations(schema):
        for status, response in op["responses"].items():
            if status[0] not in "45" or (path, status) == ("/readyz", "503"):
                continue
            content = response.get("content", {})
            ref = content.get(PROBLEM_MEDIA_TYPE, {}).get("schema", {}).get("$ref", "")
            if list(content) != [PROBLEM_MEDIA_TYPE] or not ref.endswith("/Problem"):
                wrong.append(f"{method.upper()} {path} {status}: {list(content)}")
    assert wrong == []


def test_each_route_declares_the_errors_its_shape_implies(app: FastAPI) -> None:
    """401/503 with a token, 403 when not every role may call it, 422 with any input, 400
    and 413 with a body."""
    schema = app.openapi()
    wrong = []
    for route in _routes(app):
        roles = route_roles(route.dependant) or frozenset()
        params = route.dependant.path_params + route.dependant.query_params
        for method in route.methods:
            declared = set(schema["paths"][route.path_format][method.lower()]["responses"])
            wanted = set()
            if roles != {"public"}:
                wanted |= {"401", "503"}
                if not roles >= EVERY_ROLE:
                    wanted.add("403")
            if params or route.body_field is not None:
                wanted.add("422")
            if route.body_field is not None:
                wanted |= {"400", "413"}  # 400: a body that cannot be parsed at all
            if wanted - declared:
                wrong.append(f"{method} {route.path}: missing {sorted(wanted - declared)}")
    assert wrong == []


def test_id_path_parameters_declare_their_pattern(schema: dict[str, Any]) -> None:
    undeclared = []
    for path, method, op in _operations(schema):
        for param in op.get("parameters", []):
            if param["in"] != "path":
                continue
            declared = param["schema"]
            if param["name"].endswith("_id") and declared.get("pattern") != ID_PATTERN:
                undeclared.append(f"{method.upper()} {path} {param['name']}")
            if not {"pattern", "maxLength", "enum", "$ref"} & set(declared):
                undeclared.append(f"{method.upper()} {path} {param['name']} (unbounded)")
    assert undeclared == []


def test_integer_parameters_declare_their_bounds(schema: dict[str, Any]) -> None:
    def integers(s: dict[str, Any]) -> list[dict[str, Any]]:
        if s.get("type") == "integer":
            return [s]
        return [i for alt in s.get("anyOf", []) for i in integers(alt)]

    unbounded = []
    for path, method, op in _operations(schema):
        for param in op.get("parameters", []):
            for s in integers(param["schema"]):
                if "minimum" not in s or "maximum" not in s:
                    unbounded.append(f"{method.upper()} {path} {param['name']}")
    assert unbounded == []


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_huge_integers_are_refused_not_overflowed(make_services: Any, backend: str) -> None:
    from tests.utils import make_principal

    services = make_services(backend)
    _, user = make_principal(services, "user")
    _, admin = make_principal(services, "admin")
    with TestClient(create_app(services), raise_server_exceptions=False) as client:
        r = client.get("/v1/generations", params={"offset": MAX_POSITION + 1}, headers=user)
        assert r.status_code == 422, r.text
        assert r.headers["content-type"] == PROBLEM_MEDIA_TYPE
        statements = "/v1/transparency/statements"
        r = client.get(statements, params={"after_position": 10**20}, headers=admin)
        assert r.status_code == 422 and r.json()["code"] == "validation_failed", r.text
        # the largest declared values are served: the database holds them
        r = client.get("/v1/generations", params={"offset": MAX_POSITION}, headers=user)
        assert r.status_code == 200 and r.json() == {"items": []}, r.text
        r = client.get(statements, params={"after_position": MAX_POSITION}, headers=admin)
        assert r.status_code == 200, r.text


def test_a_wrong_method_gets_405_with_allow(client: TestClient) -> None:
    r = client.put("/healthz")
    assert r.status_code == 405 and r.headers["allow"] == "GET"
    assert r.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert r.json()["code"] == "method_not_allowed"
    # several routes share the path: Allow names them all
    r = client.delete("/v1/generations")
    assert r.status_code == 405 and r.headers["allow"] == "GET, POST", r.headers


def test_authenticated_routes_declare_the_bearer_scheme(schema: dict[str, Any]) -> None:
    assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert "security" not in schema["paths"]["/healthz"]["get"]
    # the public ones: health checks, and signing in to the console (it takes the token)
    public = {"GET /healthz", "GET /readyz", "POST /console/session"}
    unsecured = [
        f"{m.upper()} {p}"
        for p, m, op in _operations(schema)
        if f"{m.upper()} {p}" not in public and op.get("security") != [{"bearer": []}]
    ]
    assert unsecured == []
    assert all("security" not in schema["paths"][p][m.split()[0].lower()] for m in public
               for p in [m.split()[1]])
