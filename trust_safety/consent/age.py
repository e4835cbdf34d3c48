"""``/v1/age-assurance``: whether an account is assured to be an adult, and attestations.

Generating and uploading need an assured account (403 ``age_assurance_required``
otherwise). An account is assured by a successful cameo enrolment's own age check, by an
attestation from an age-assurance provider (a principal with the
``age_assurance_provider`` role, here), or by an operator (``clearframe principal
assure-age``); never by the account itself. Each is an ``AgeAssured`` event on the
principal's identity stream.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from core.app import ServicesDep
from core.auth import AGE_ASSURANCE_HINT, Principal, PrincipalRow, Role, assure_age, require_roles
from core.db import as_utc
from core.errors import NotFound
from core.identity import AgeAssuranceSource
from core.openapi import Timestamp, problems

router = APIRouter(
    prefix="/v1/age-assurance", tags=["age assurance"], responses=problems(401, 403, 503)
)

ProviderP = Annotated[Principal, Depends(require_roles(Role.age_assurance_provider))]
AnyoneP = Annotated[Principal, Depends(require_roles(*Role))]


class AttestAge(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    principal_id: str = Field(min_length=1, max_length=64)
    reference: str = Field(
        min_length=1,
        max_length=200,
        description="the provider's own record of the check (a verification id), never a document",
    )


class AgeAssurancePublic(BaseModel):
    principal_id: str
    assured: bool
    source: AgeAssuranceSource | None
    assured_at: Timestamp | None
    how: str | None = Field(description="what to do while the account is not assured")


class AttestationPublic(BaseModel):
    principal_id: str
    recorded: bool = Field(description="false when the account was already assured")


def _status(services: Any, principal_id: str) -> dict[str, Any]:
    with services.read_sessions() as s:
        row = s.get(PrincipalRow, principal_id)
        if row is None:
            raise NotFound(f"no principal {principal_id}")
        assured_at = as_utc(row.age_assured_at)
        source = row.age_assurance_source
    return {
        "principal_id": principal_id,
        "assured": assured_at is not None,
        "source": source,
        "assured_at": assured_at.isoformat() if assured_at else None,
        "how": None if assured_at else AGE_ASSURANCE_HINT,
    }


@router.get("/me", response_model=AgeAssurancePublic)
def my_age_assurance(principal: AnyoneP, services: ServicesDep) -> dict[str, Any]:
    return _status(services, principal.id)


@router.post(
    "/attestations",
    status_code=201,
    response_model=AttestationPublic,
    responses=problems(400, 404, 413, 422),
)
def attest_age(body: AttestAge, principal: ProviderP, services: ServicesDep) -> dict[str, Any]:
    """An age-assurance provider attests that another account belongs to an adult."""
    recorded = assure_age(
        services.sessions,
        body.principal_id,
        AgeAssuranceSource.PROVIDER,
        actor=principal.actor(Role.age_assurance_provider)
        if principal.has(Role.age_assurance_provider)
        else principal.actor(),
        reference=body.reference,
    )
    return {"principal_id": body.principal_id, "recorded": recorded}
