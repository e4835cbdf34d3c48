"""HTTP API of the IP opt-out registry.

Rights holders file, amend and withdraw their own opt-outs and see, for each of them only,
how many generation requests and outputs it blocked, per day, and which of its terms or
reference files matched (``/stats``), never who asked, what they asked or which generation.
Another holder's opt-out answers 404. Admins see (and list) every opt-out.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select

from core.app import ServicesDep
from core.auth import Principal, Role, require_roles
from core.db import as_utc
from core.openapi import id_path, problems
from trust_safety.optout.errors import OptOutNotFound
from trust_safety.optout.facts import BlobRef, OptOutTerms, Scope
from trust_safety.optout.models import OptOutBlockRow, OptOutRow
from trust_safety.optout.projection import OUTPUT, PROMPT, record_from_row
from trust_safety.optout.registry import OptOutRecord
from trust_safety.optout.schemas import (
    OptOutAcceptedPublic,
    OptOutListPublic,
    OptOutPublic,
    OptOutStatsPublic,
)
from trust_safety.optout.service import OptOutService, load_optout

router = APIRouter(prefix="/v1/optouts", tags=["optout"], responses=problems(401, 403, 503))

HolderP = Annotated[Principal, Depends(require_roles(Role.rights_holder))]
OptOutId = Annotated[str, id_path("an opt-out id")]
# A command on an opt-out: absent or another holder's (404), refused by its state (409).
_COMMAND = problems(400, 404, 409, 413, 422)


class _Body(BaseModel):
    # Fields are named as the service's arguments: a route passes ``**dict(body)`` (shallow,
    # so nested models stay models).
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class FileOptOut(_Body):
    rights_holder_name: str = Field(min_length=1, max_length=200)
    terms: OptOutTerms
    scopes: list[Scope] = Field(min_length=1, max_length=3)
    territories: list[str] = Field(min_length=1, max_length=250)
    reference_media: list[BlobRef] = Field(default_factory=list, max_length=100)


class AmendOptOut(_Body):
    terms: OptOutTerms | None = None
    scopes: list[Scope] | None = Field(default=None, min_length=1, max_length=3)
    territories: list[str] | None = Field(default=None, min_length=1, max_length=250)
    reference_media: list[BlobRef] | None = Field(default=None, max_length=100)


class WithdrawOptOut(_Body):
    reason: str = Field(default="", max_length=500)


def _public(record: OptOutRecord, blocked: dict[str, int]) -> dict[str, Any]:
    return {
        "optout_id": record.optout_id,
        "rights_holder_id": record.rights_holder_id,
        "rights_holder_name": record.rights_holder_name,
        "terms": record.terms.model_dump(mode="json"),
        "reference_media": [m.model_dump(mode="json") for m in record.reference_media],
        "scopes": sorted(s.value for s in record.scopes),
        "territories": sorted(record.territories),
        "status": "active" if record.active else "withdrawn",
        "filed_at": record.filed_at.isoformat(),
        "updated_at": record.updated_at.isoformat(),
        "withdrawn_at": record.withdrawn_at.isoformat() if record.withdrawn_at else None,
        "version": record.version,
        "blocked_requests": blocked.get(PROMPT, 0),
        "blocked_outputs": blocked.get(OUTPUT, 0),
    }


def _blocked_counts(s: Any, optout_ids: list[str]) -> dict[str, dict[str, int]]:
    """Per opt-out: generations blocked at the prompt and at the output."""
    if not optout_ids:
        return {}
    rows = s.execute(
        select(OptOutBlockRow.optout_id, OptOutBlockRow.stage, func.count())
        .where(OptOutBlockRow.optout_id.in_(optout_ids))
        .group_by(OptOutBlockRow.optout_id, OptOutBlockRow.stage)
    ).all()
    counts: dict[str, dict[str, int]] = {}
    for optout_id, stage, count in rows:
        counts.setdefault(optout_id, {})[stage] = int(count)
    return counts


def _stats(s: Any, record: OptOutRecord) -> dict[str, Any]:
    rows = s.execute(
        select(OptOutBlockRow.blocked_at, OptOutBlockRow.stage, OptOutBlockRow.matched).where(
            OptOutBlockRow.optout_id == record.optout_id
        )
    ).all()
    days: dict[str, dict[str, int]] = {}
    matched: dict[tuple[str, str], dict[str, int]] = {}
    uris = {m.sha256: m.uri for m in record.reference_media}
    for blocked_at, stage, values in rows:
        key = PROMPT if stage == PROMPT else OUTPUT
        on = as_utc(blocked_at) or blocked_at  # blocked_at is NOT NULL
        day = days.setdefault(on.date().isoformat(), {PROMPT: 0, OUTPUT: 0})
        day[key] += 1
        kind = "term" if key == PROMPT else "reference_media"
        for value in values or []:
            counts = matched.setdefault((kind, str(value)), {PROMPT: 0, OUTPUT: 0})
            counts[key] += 1
    return {
        "optout_id": record.optout_id,
        "blocked_requests": sum(d[PROMPT] for d in days.values()),
        "blocked_outputs": sum(d[OUTPUT] for d in days.values()),
        "by_day": [
            {"day": day, "prompts": d[PROMPT], "outputs": d[OUTPUT]}
            for day, d in sorted(days.items())
        ],
        "matched": [
            {
                "kind": kind,
                "value": value,
                "uri": uris.get(value) if kind == "reference_media" else None,
                "prompts": c[PROMPT],
                "outputs": c[OUTPUT],
            }
            for (kind, value), c in sorted(matched.items())
        ],
    }


def _require_holder(services: Any, principal: Principal, optout_id: str) -> None:
    """Ownership from the opt-out's own stream (never behind); a stranger gets 404."""
    record, _ = load_optout(services, optout_id)
    if not principal.owns(record.rights_holder_id):
        raise OptOutNotFound(f"no opt-out {optout_id!r}")


def _owned(services: Any, principal: Principal, optout_id: str) -> dict[str, Any]:
    with services.read_sessions() as s:
        row = s.get(OptOutRow, optout_id)
        if row is None or not principal.owns(row.rights_holder_id):
            raise OptOutNotFound(f"no opt-out {optout_id!r}")
        return _public(record_from_row(row), _blocked_counts(s, [optout_id]).get(optout_id, {}))


@router.post(
    "",
    status_code=201,
    response_model=OptOutAcceptedPublic,
    responses=problems(400, 409, 413, 422),
)
def file_optout(body: FileOptOut, principal: HolderP, services: ServicesDep) -> dict[str, Any]:
    optout_id = OptOutService(services).file(principal.actor(), **dict(body))
    return {"optout_id": optout_id, "stream_version": 1}


@router.get("", response_model=OptOutListPublic)
def list_optouts(principal: HolderP, services: ServicesDep) -> dict[str, Any]:
    """A rights holder's own opt-outs; every opt-out for an admin."""
    query = select(OptOutRow).order_by(OptOutRow.filed_at, OptOutRow.optout_id)
    if not principal.is_admin:
        query = query.where(OptOutRow.rights_holder_id == principal.id)
    with services.read_sessions() as s:
        rows = s.scalars(query).all()
        counts = _blocked_counts(s, [r.optout_id for r in rows])
        items = [_public(record_from_row(r), counts.get(r.optout_id, {})) for r in rows]
    return {"optouts": items}


@router.get("/{optout_id}", response_model=OptOutPublic, responses=problems(404, 422))
def get_optout(optout_id: OptOutId, principal: HolderP, services: ServicesDep) -> dict[str, Any]:
    return _owned(services, principal, optout_id)


@router.get("/{optout_id}/stats", response_model=OptOutStatsPublic, responses=problems(404, 422))
def optout_stats(optout_id: OptOutId, principal: HolderP, services: ServicesDep) -> dict[str, Any]:
    """Blocks per UTC day and what of the filing matched; who asked is never shown."""
    with services.read_sessions() as s:
        row = s.get(OptOutRow, optout_id)
        if row is None or not principal.owns(row.rights_holder_id):
            raise OptOutNotFound(f"no opt-out {optout_id!r}")
        return _stats(s, record_from_row(row))


@router.patch("/{optout_id}", response_model=OptOutAcceptedPublic, responses=_COMMAND)
def amend_optout(
    optout_id: OptOutId, body: AmendOptOut, principal: HolderP, services: ServicesDep
) -> dict[str, Any]:
    _require_holder(services, principal, optout_id)
    version = OptOutService(services).amend(principal.actor(), optout_id, **dict(body))
    return {"optout_id": optout_id, "stream_version": version}


@router.post("/{optout_id}/withdraw", response_model=OptOutAcceptedPublic, responses=_COMMAND)
def withdraw_optout(
    optout_id: OptOutId,
    principal: HolderP,
    services: ServicesDep,
    body: Annotated[WithdrawOptOut | None, Body()] = None,
) -> dict[str, Any]:
    """Withdraw an opt-out; the body (a ``reason``) is optional."""
    _require_holder(services, principal, optout_id)
    reason = body.reason if body is not None else ""
    version = OptOutService(services).withdraw(principal.actor(), optout_id, reason)
    return {"optout_id": optout_id, "stream_version": version}
