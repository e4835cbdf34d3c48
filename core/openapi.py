"""The OpenAPI document tells the truth about what the API answers.

- Every error a route can give is declared (``responses=problems(...)``) with the
  ``application/problem+json`` body that :mod:`core.errors` and the handlers in
  :mod:`core.app` emit (:class:`Problem`).
- Authenticated routes declare the bearer scheme; public ones (health checks) declare none.
- A wrong method gets 405 with ``Allow`` naming every method the path has.

Response bodies are the ``...Public`` models each domain keeps next to its router: what goes
out is a separate type from what is stored, so an internal field cannot leak by accident.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import FastAPI, Path, Request
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

PROBLEM_MEDIA_TYPE = "application/problem+json"

# The key of a stream id (core.events.STREAM_ID_PATTERN): every id the API hands out fits it,
# and a command on an id that does not is refused before it reaches the store.
ID_PATTERN = r"^[A-Za-z0-9_.:@-]{1,200}$"


# What the SQL columns behind integer parameters hold (PostgreSQL and SQLite alike): log
# positions and offsets are BIGINT, stream versions INTEGER. Larger values are refused (422)
# before a query could overflow.
MAX_POSITION = 2**63 - 1
MAX_VERSION = 2**31 - 1


def id_path(description: str = "") -> Any:
    """``Path(...)`` for an id: its pattern is declared, so it is part of the contract."""
    return Path(pattern=ID_PATTERN, description=description or None)


def _rfc3339(value: Any) -> Any:
    """Stored times are UTC; SQLite hands them back naive, and a naive ISO string is not
    RFC 3339. Aware values pass unchanged."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return value
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=UTC).isoformat()
    return value


# An RFC 3339 timestamp as the API writes it (``datetime.isoformat()`` of an aware UTC time).
Timestamp = Annotated[
    str, BeforeValidator(_rfc3339), Field(json_schema_extra={"format": "date-time"})
]


class ValidationIssue(BaseModel):
    """One thing wrong with the input: where (``loc`` in the request when it did not parse,
    or the dotted ``field`` a domain rule refused) and why (``msg``)."""

    model_config = ConfigDict(extra="allow")

    msg: str
    loc: list[str | int] = Field(default_factory=list, examples=[["body", "prompt"]])
    field: str = Field(default="", examples=["territorial_scope"])
    type: str = Field(default="", examples=["string_too_short"])


class Problem(BaseModel):
    """Problem details (RFC 9457) of every error answer; ``code`` is stable and machine-readable.

    Some errors add fields (``errors`` for input that did not validate, ``reason`` for some
    conflicts); clients must ignore the ones they do not know.
    """

    model_config = ConfigDict(extra="allow")

    type: str = Field(examples=["https://clearframe.dev/problems/not_found"])
    title: str
    status: int = Field(ge=400, le=599)
    code: str = Field(examples=["not_found"])
    detail: str
    errors: list[ValidationIssue] = Field(
        default_factory=list, description="where the input did not validate (422 only)"
    )


class HealthPublic(BaseModel):
    status: str = Field(examples=["ok"])


class ReadinessPublic(BaseModel):
    """``ready`` is false (and the status 503) when a dependency check failed."""

    model_config = ConfigDict(extra="allow")

    ready: bool
    checks: dict[str, str] = Field(description="each dependency: ok, or what is wrong")
    relay: dict[str, int | float | str | None] | None = Field(
        default=None, description="the outbox relay's lag, with a broker configured"
    )


READINESS_RESPONSES: dict[int | str, dict[str, Any]] = {
    503: {"model": ReadinessPublic, "description": "A dependency is down (see ``checks``)."}
}


_WHY = {
    400: "The request cannot be processed as sent.",
    401: "No valid API token: missing, malformed, unknown or revoked, or its principal disabled.",
    403: "The caller's roles do not allow this.",
    404: "No such record, or none the caller may see (the two are not told apart).",
    409: "The command conflicts with the current state (or another writer got there first).",
    413: "The request body is over the limit.",
    415: "The media type, or the file's content, cannot be handled.",
    422: "The input did not validate.",
    429: "Too many requests; wait and retry.",
    503: "A dependency (database, broker, model) is unavailable for now; retry later.",
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entries for the error statuses a route can answer, as problem+json."""
    unknown = sorted(set(statuses) - set(_WHY))
    if unknown:
        raise ValueError(f"no description for statuses {unknown}")
    declared: dict[int | str, dict[str, Any]] = {
        s: {"model": Problem, "description": _WHY[s]} for s in statuses
    }
    if 503 in declared:
        declared[503]["headers"] = {
            "Retry-After": {
                "description": "seconds to wait (a database briefly unavailable)",
                "schema": {"type": "integer", "minimum": 0},
            }
        }
    return declared


# Every route that needs a token can answer these: no or a bad token, the wrong role, and the
# database (which checks the token) unavailable for now.
AUTHENTICATED = problems(401, 403, 503)


def api_routes(app: FastAPI) -> list[Any]:
    """Every API route of ``app`` as served: its full path, methods, dependant and responses.

    Newer FastAPI keeps included routers as branches (``app.routes`` lists the branches, not
    their routes); their effective routes carry the prefix and the router's responses.
    """
    from fastapi import routing

    iter_contexts = getattr(routing, "iter_route_contexts", None)
    if iter_contexts is None:  # older FastAPI flattens included routers into app.routes
        return [r for r in app.routes if isinstance(r, APIRoute)]
    return [c for c in iter_contexts(app.routes) if isinstance(c.original_route, APIRoute)]


def install_openapi(app: FastAPI) -> None:
    """Wire the truthful document and the 405 answer into ``app`` (after its routes)."""
    base_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = base_openapi()
            _declare_problems(schema)
            _declare_bearer(schema, app)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.add_exception_handler(405, _method_not_allowed(app))


def _declare_problems(schema: dict[str, Any]) -> None:
    """FastAPI puts a response model under the route's media type; errors are problem+json."""
    ref = "#/components/schemas/Problem"
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                body = content.get("application/json")
                if status[:1] in "45" and body and body.get("schema", {}).get("$ref") == ref:
                    content[PROBLEM_MEDIA_TYPE] = content.pop("application/json")


def _declare_bearer(schema: dict[str, Any], app: FastAPI) -> None:
    from core.access import route_roles

    schema.setdefault("components", {}).setdefault("securitySchemes", {})["bearer"] = {
        "type": "http",
        "scheme": "bearer",
        "description": "an API token (`clearframe principal create --with-token`, `token issue`)",
    }
    for route in api_routes(app):
        if not route.include_in_schema:
            continue
        roles = route_roles(route.dependant)
        if roles is None or roles == {"public"}:
            continue
        operations = schema["paths"].get(route.path_format, {})
        for method in route.methods:
            operation = operations.get(method.lower())
            if operation is not None:
                operation["security"] = [{"bearer": []}]
                roles_text = ", ".join(sorted(roles))
                operation.setdefault("description", "")
                operation["description"] = (
                    f"{operation['description']}\n\nRoles: {roles_text}.".lstrip()
                )


def _method_not_allowed(app: FastAPI) -> Callable[[Request, Exception], Any]:
    """405 with ``Allow``: every method of every route on the path, not only the first one's."""

    async def handler(request: Request, exc: Exception) -> JSONResponse:
        allowed: set[str] = set()
        for route in [*app.routes, *api_routes(app)]:
            match, _ = route.matches(request.scope)
            methods = getattr(route, "methods", None)
            if match != Match.NONE and methods:
                allowed |= set(methods)
        if not allowed and isinstance(exc, StarletteHTTPException) and exc.headers:
            allowed = {m.strip() for m in exc.headers.get("Allow", "").split(",") if m.strip()}
        body = {
            "type": "https://clearframe.dev/problems/method_not_allowed",
            "title": "Method Not Allowed",
            "status": 405,
            "code": "method_not_allowed",
            "detail": f"{request.method} is not allowed here; use {', '.join(sorted(allowed))}",
        }
        return JSONResponse(
            body,
            status_code=405,
            media_type=PROBLEM_MEDIA_TYPE,
            headers={"Allow": ", ".join(sorted(allowed))},
        )

    return handler


class BinaryResponse(Response):
    """Bytes of a media type each route declares in its 200 ``content`` (a JPEG frame), like
    a ``FileResponse`` without a file: no class-wide media type, so the route's problem
    responses stay ``application/problem+json`` in the OpenAPI document."""

    media_type = None
