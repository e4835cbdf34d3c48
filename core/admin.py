"""Admin routes of the core: erasing a person's personal data (docs/privacy.md), and the
principals and API tokens the ``clearframe principal`` / ``token`` commands manage.

The principal and token routes call the same functions as the CLI (core/auth.py), so the rules
(valid roles, ids, names) and the identity events they record are the CLI's; only the actor
differs: the admin who asked, not the operating-system user.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from core.auth import (
    Admin,
    PrincipalListing,
    Role,
    change_roles,
    create_principal,
    issue_token,
    list_principals,
    revoke_token,
)
from core.errors import NotFound
from core.openapi import AUTHENTICATED, ID_PATTERN, Timestamp, id_path, problems
from core.privacy import erase_personal_data

router = APIRouter(prefix="/v1/admin", tags=["admin"])


def _services(request: Request) -> Any:
    return request.app.state.services


ServicesDep = Annotated[Any, Depends(_services)]


class ErasureIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject_id: str = Field(pattern=ID_PATTERN, max_length=64, description="the principal id")
    request_ref: str | None = Field(
        default=None,
        max_length=200,
        pattern=r"^[A-Za-z0-9_.:/#@-]{1,200}$",
        description="the request's reference outside Clearframe (a ticket id), never its text",
    )


class ErasurePublic(BaseModel):
    subject_id: str
    event_id: str = Field(description="the PersonalDataErased event")
    position: int
    keys_erased: int = Field(description="key generations whose key material was deleted")
    sealed_events: int = Field(description="events whose personal fields are now unreadable")
    read_model_rows: dict[str, int] = Field(description="rows scrubbed, per table.column")
    settled: bool = Field(description="false: a projection was behind; run the erasure again")
    projections_behind: list[str]
    storage_purged: bool = Field(
        description="the database's own old copies of the key were dropped (WAL, dead rows)"
    )


@router.post(
    "/erasures",
    status_code=201,
    response_model=ErasurePublic,
    responses={**AUTHENTICATED, **problems(400, 404, 413, 422)},
)
def erase(body: ErasureIn, principal: Admin, services: ServicesDep) -> dict[str, Any]:
    """Erase a person's personal data: crypto-shred it in the event log (their key is
    deleted), scrub it from every read model and record ``PersonalDataErased``. Statements of
    reasons and transparency counts are kept. Erasing again is harmless."""
    report = erase_personal_data(
        services, body.subject_id, principal.actor(), request_ref=body.request_ref
    )
    return report.as_dict()


# ---- principals and tokens ----

PrincipalId = Annotated[str, id_path("a principal id")]
TokenId = Annotated[str, id_path("a token id (a UUID, from the principal listing)")]
Roles = Annotated[list[Role], Field(min_length=1, max_length=len(Role))]


class TokenPublic(BaseModel):
    token_id: str
    label: str
    hash_prefix: str = Field(
        description="the first characters of the token's HMAC, as recorded "
        "in its TokenIssued event; never the token"
    )
    created_at: Timestamp
    revoked_at: Timestamp | None
    revoked: bool


class PrincipalPublic(BaseModel):
    principal_id: str
    name: str
    roles: list[str]
    created_at: Timestamp
    disabled: bool
    tokens: list[TokenPublic] = Field(description="API tokens do not expire; revoke them")


class PrincipalListPublic(BaseModel):
    principals: list[PrincipalPublic]


class PrincipalIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    roles: Roles
    principal_id: str | None = Field(
        default=None, pattern=ID_PATTERN, max_length=64, description="default: generated"
    )


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    label: str = Field(default="", max_length=200, description="what the token is for")


class IssuedTokenPublic(BaseModel):
    principal_id: str
    token_id: str
    token: str = Field(description="the secret, shown this once: only its HMAC is kept")


class RolesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    roles: Roles


class RolesPublic(BaseModel):
    principal_id: str
    roles: list[str]
    changed: bool = Field(description="false: it had these roles already (no event)")


def _principal_public(p: PrincipalListing) -> dict[str, Any]:
    return {
        "principal_id": p.id,
        "name": p.name,
        "roles": p.roles,
        "created_at": p.created_at,
        "disabled": p.disabled_at is not None,
        "tokens": [
            {
                "token_id": str(t.token_id),
                "label": t.label,
                "hash_prefix": t.hash_prefix,
                "created_at": t.created_at,
                "revoked_at": t.revoked_at,
                "revoked": t.revoked_at is not None,
            }
            for t in p.tokens
        ],
    }


def _one(services: Any, principal_id: str) -> dict[str, Any]:
    for p in list_principals(services.sessions):
        if p.id == principal_id:
            return _principal_public(p)
    raise NotFound(f"no principal {principal_id}")


@router.get("/principals", response_model=PrincipalListPublic, responses=AUTHENTICATED)
def principals(principal: Admin, services: ServicesDep) -> dict[str, Any]:
    """Every principal, its roles and its tokens (never a token's secret or hash)."""
    return {"principals": [_principal_public(p) for p in list_principals(services.sessions)]}


@router.post(
    "/principals",
    status_code=201,
    response_model=PrincipalPublic,
    responses={**AUTHENTICATED, **problems(400, 413, 422)},
)
def new_principal(body: PrincipalIn, principal: Admin, services: ServicesDep) -> dict[str, Any]:
    """Create a principal (``PrincipalCreated``), as ``clearframe principal create`` does.
    It has no token yet: issue one next."""
    pid = create_principal(
        services.sessions,
        body.name,
        [r.value for r in body.roles],
        body.principal_id,
        actor=principal.actor(),
    )
    return _one(services, pid)


@router.post(
    "/principals/{principal_id}/tokens",
    status_code=201,
    response_model=IssuedTokenPublic,
    responses={**AUTHENTICATED, **problems(400, 404, 413, 422)},
)
def new_token(
    principal_id: PrincipalId,
    body: TokenIn,
    principal: Admin,
    services: ServicesDep,
    response: Response,
) -> dict[str, Any]:
    """Issue an API token (``TokenIssued``); its secret is in this answer only."""
    token_id, token = issue_token(
        services.sessions, services.settings, principal_id, body.label, actor=principal.actor()
    )
    response.headers["Cache-Control"] = "no-store"
    return {"principal_id": principal_id, "token_id": str(token_id), "token": token}


@router.put(
    "/principals/{principal_id}/roles",
    response_model=RolesPublic,
    responses={**AUTHENTICATED, **problems(400, 404, 413, 422)},
)
def set_roles(
    principal_id: PrincipalId, body: RolesIn, principal: Admin, services: ServicesDep
) -> dict[str, Any]:
    """Give a principal exactly these roles (``RoleChanged``; none when unchanged)."""
    wanted = [r.value for r in body.roles]
    changed = change_roles(services.sessions, principal_id, wanted, actor=principal.actor())
    return {"principal_id": principal_id, "roles": sorted(set(wanted)), "changed": changed}


@router.delete(
    "/tokens/{token_id}",
    status_code=204,
    responses={**AUTHENTICATED, **problems(404, 422)},
)
def revoke(token_id: TokenId, principal: Admin, services: ServicesDep) -> Response:
    """Revoke a token (``TokenRevoked``): it stops working at once, and so do the console
    sessions signed in with it. Revoking it again is harmless."""
    try:
        parsed = uuid.UUID(token_id)
    except ValueError:
        raise NotFound(f"no token {token_id}") from None
    revoke_token(services.sessions, parsed, actor=principal.actor())
    return Response(status_code=204)
