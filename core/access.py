"""The FastAPI side of authentication: the dependency every route states its roles with.

Kept apart from core/auth.py (principals, tokens, authentication) so that commands which only
manage principals and tokens do not import FastAPI.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request

from core.auth import Principal, Role, authenticate
from core.errors import Forbidden, Unauthenticated

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CsrfFailed(Forbidden):
    code = "csrf_failed"


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("send 'Authorization: Bearer <token>'")
    return token.strip()


def same_origin(request: Request) -> bool:
    """Whether the browser says the request comes from a page of this origin. Browsers send
    ``Origin`` on every cross-origin request and on same-origin POSTs; a request without it
    (a non-browser client) is judged by the CSRF token alone."""
    origin = request.headers.get("origin")
    if origin is None:
        return request.headers.get("sec-fetch-site", "same-origin") in ("same-origin", "none")
    host = request.headers.get("host", "")
    return origin.split("://", 1)[-1] == host


def authenticate_request(request: Request) -> Principal:
    """The caller: an API token in ``Authorization``, else a console session cookie. A
    cookie-borne request that changes state must carry the session's CSRF token and come from
    this origin (core/browser_sessions.py says why)."""
    from core.browser_sessions import (
        CSRF_HEADER,
        SESSION_COOKIE,
        authenticate_session,
        csrf_matches,
    )

    services = request.app.state.services
    if "authorization" in request.headers:
        return authenticate(services.sessions, services.settings, _bearer(request))
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        raise Unauthenticated(
            "send 'Authorization: Bearer <token>', or sign in to the console at /console"
        )
    principal, session_id = authenticate_session(services.sessions, services.settings, secret)
    if request.method not in SAFE_METHODS:
        if not same_origin(request):
            raise CsrfFailed("this request came from another site; it was not carried out")
        if not csrf_matches(services.settings, secret, request.headers.get(CSRF_HEADER)):
            raise CsrfFailed(
                f"the form's security token is missing or stale ({CSRF_HEADER}); "
                "reload the page and try again"
            )
    request.state.session_id = session_id
    return principal


def authorize(request: Request, allowed: frozenset[Role]) -> Principal:
    """The one role rule of the API and the console: the caller holds one of ``allowed``."""
    principal = authenticate_request(request)
    if not principal.has(*allowed):
        raise Forbidden(f"requires one of the roles {sorted(r.value for r in allowed)}")
    request.state.principal = principal
    return principal


def require_roles(*roles: Role) -> Callable[..., Principal]:
    """The dependency every route uses to state who may call it (admins always may)."""
    if not roles:
        raise ValueError("state at least one role")
    allowed = frozenset(roles) | {Role.admin}

    def dependency(request: Request) -> Principal:
        return authorize(request, allowed)

    dependency.__clearframe_roles__ = frozenset(allowed)  # type: ignore[attr-defined]
    return dependency


def public_route() -> Callable[..., None]:
    """The explicit statement that a route needs no authentication (health checks)."""

    def dependency() -> None:
        return None

    dependency.__clearframe_roles__ = frozenset({"public"})  # type: ignore[attr-defined]
    return dependency


def route_roles(dependant: Any) -> frozenset[str] | None:
    """The roles a route declared through its dependencies, if any (used by a test)."""
    for dep in getattr(dependant, "dependencies", []):
        roles = getattr(dep.call, "__clearframe_roles__", None)
        if roles is not None:
            return frozenset(str(r) for r in roles)
        nested = route_roles(dep)
        if nested is not None:
            return nested
    return None


# Annotated aliases keep route signatures short.
AnyUser = Annotated[Principal, Depends(require_roles(*Role))]
Admin = Annotated[Principal, Depends(require_roles(Role.admin))]
Reviewer = Annotated[Principal, Depends(require_roles(Role.reviewer))]
Investigator = Annotated[Principal, Depends(require_roles(Role.investigator))]
RightsHolder = Annotated[Principal, Depends(require_roles(Role.rights_holder))]
