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


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("send 'Authorization: Bearer <token>'")
    return token.strip()


def require_roles(*roles: Role) -> Callable[..., Principal]:
    """The dependency every route uses to state who may call it (admins always may)."""
    if not roles:
        raise ValueError("state at least one role")
    allowed = set(roles) | {Role.admin}

    def dependency(request: Request) -> Principal:
        services = request.app.state.services
        principal = authenticate(services.sessions, services.settings, _bearer(request))
        if not principal.has(*allowed):
            raise Forbidden(f"requires one of the roles {sorted(r.value for r in allowed)}")
        request.state.principal = principal
        return principal

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
