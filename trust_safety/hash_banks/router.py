"""``/v1/hash-banks``, ``/v1/hash-matches``, ``/v1/hotline-reports``, ``/v1/evidence``.

Banks are the admins' (create, enable, add, remove, import a hash file). Matches are the
reviewers' queue: a match's preview is greyscale and blurred; a reviewer unblurs one item at a
time with a reason, and each unblur is audited before the image leaves. Reports and evidence
are the admins'; evidence bytes never leave through the API (``clearframe hash-banks
evidence-export`` does that, audited, for the authorities).
"""

from __future__ import annotations

import base64
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from sqlalchemy import func, select

from core.app import ServicesDep
from core.auth import Principal, Role, require_roles
from core.db import as_utc
from core.openapi import id_path, problems
from trust_safety.hash_banks import exposure
from trust_safety.hash_banks.banks import CreateBank, UpdateBank
from trust_safety.hash_banks.errors import (
    InvalidHashFile,
    UnknownBank,
    UnknownEvidence,
    UnknownMatch,
)
from trust_safety.hash_banks.events import BankEntry
from trust_safety.hash_banks.evidence import open_evidence, purge_expired
from trust_safety.hash_banks.exchanges import import_file
from trust_safety.hash_banks.models import (
    BankEntryRow,
    BankRow,
    EvidenceRow,
    HotlineReportRow,
    MatchRow,
)
from trust_safety.hash_banks.reports import acknowledge_report, load_report, submit_report
from trust_safety.hash_banks.schemas import (
    AcknowledgeBody,
    AddHashesBody,
    BankListPublic,
    BankPublic,
    ChangePublic,
    ConfirmPublic,
    CreateBankBody,
    EvidencePublic,
    HashListPublic,
    ImportPublic,
    MatchListPublic,
    MatchPublic,
    NoteBody,
    PreviewPublic,
    PurgePublic,
    ReasonBody,
    RemoveHashesBody,
    ReportPublic,
    UpdateBankBody,
)
from trust_safety.hash_banks.service import (
    REPORT_CLIENT,
    add_hashes,
    confirm_match,
    create_bank,
    load_match,
    remove_hashes,
    update_bank,
)

router = APIRouter(tags=["hash-banks"], responses=problems(401, 403, 503))
AdminP = Annotated[Principal, Depends(require_roles(Role.admin))]
ReviewerP = Annotated[Principal, Depends(require_roles(Role.reviewer))]
BankId = Annotated[str, id_path("a hash bank id")]
MatchId = Annotated[str, id_path("a hash match id")]
ReportId = Annotated[str, id_path("a hotline report id")]
EvidenceId = Annotated[str, id_path("an evidence id")]
_BODY = problems(400, 404, 409, 413, 422)
_READ = problems(404, 422)
MAX_HASH_FILE = 64 << 20


def _iso(value: Any) -> str | None:
    moment = as_utc(value)
    return moment.isoformat() if moment else None


def _bank(row: BankRow) -> dict[str, Any]:
    return {
        "bank_id": row.bank_id,
        "name": row.name,
        "category": row.category,
        "action": row.action,
        "enabled": row.enabled,
        "exchange": row.exchange,
        "description": row.description,
        "hash_count": row.hash_count,
        "created_at": _iso(row.created_at),
        "updated_at": _iso(row.updated_at),
    }


def _bank_now(services: Any, bank_id: str) -> dict[str, Any]:
    """The bank as its stream has it now (the table may lag the command just taken)."""
    from trust_safety.hash_banks.index import BANK_INDEX

    info = services.resource(BANK_INDEX).banks().get(bank_id)
    if info is None:
        raise UnknownBank(f"no hash bank {bank_id!r}")
    with services.read_sessions() as s:
        row = s.get(BankRow, bank_id)
        count = int(
            s.scalar(
                select(func.count())
                .select_from(BankEntryRow)
                .where(BankEntryRow.bank_id == bank_id)
            )
            or 0
        )
        created = _iso(row.created_at) if row else None
    from core.events import utcnow

    now = utcnow().isoformat()
    return {
        "bank_id": info.bank_id,
        "name": info.name,
        "category": info.category,
        "action": info.action,
        "enabled": info.enabled,
        "exchange": info.exchange,
        "description": row.description if row else "",
        "hash_count": count,
        "created_at": created or now,
        "updated_at": _iso(row.updated_at) if row else now,
    }


# -- banks ----------------------------------------------------------------------------------------


@router.post("/v1/hash-banks", status_code=201, response_model=BankPublic, responses=_BODY)
def create(body: CreateBankBody, principal: AdminP, services: ServicesDep) -> dict[str, Any]:
    create_bank(services, CreateBank(**body.model_dump()), principal.actor())
    return _bank_now(services, body.bank_id)


@router.get("/v1/hash-banks", response_model=BankListPublic)
def list_banks(principal: ReviewerP, services: ServicesDep) -> dict[str, Any]:
    with services.read_sessions() as s:
        rows = s.scalars(select(BankRow).order_by(BankRow.bank_id)).all()
        return {"banks": [_bank(r) for r in rows]}


@router.get("/v1/hash-banks/{bank_id}", response_model=BankPublic, responses=_READ)
def get_bank(bank_id: BankId, principal: ReviewerP, services: ServicesDep) -> dict[str, Any]:
    return _bank_now(services, bank_id)


@router.post("/v1/hash-banks/{bank_id}/settings", response_model=BankPublic, responses=_BODY)
def change_bank(
    bank_id: BankId, body: UpdateBankBody, principal: AdminP, services: ServicesDep
) -> dict[str, Any]:
    _bank_now(services, bank_id)
    update_bank(
        services,
        bank_id,
        UpdateBank(enabled=body.enabled, action=body.action, reason=body.reason),
        principal.actor(),
    )
    return _bank_now(services, bank_id)


def _entries(body: AddHashesBody | RemoveHashesBody) -> list[BankEntry]:
    return [
        BankEntry(signal_type=e.signal_type, signal=e.signal, note=e.note) for e in body.entries
    ]


@router.post("/v1/hash-banks/{bank_id}/hashes", response_model=ChangePublic, responses=_BODY)
def add(
    bank_id: BankId, body: AddHashesBody, principal: AdminP, services: ServicesDep
) -> dict[str, Any]:
    _bank_now(services, bank_id)
    return {
        "bank_id": bank_id,
        "changed": add_hashes(services, bank_id, _entries(body), principal.actor()),
    }


@router.post("/v1/hash-banks/{bank_id}/hashes/remove", response_model=ChangePublic, responses=_BODY)
def remove(
    bank_id: BankId, body: RemoveHashesBody, principal: AdminP, services: ServicesDep
) -> dict[str, Any]:
    _bank_now(services, bank_id)
    changed = remove_hashes(services, bank_id, _entries(body), principal.actor(), body.reason)
    return {"bank_id": bank_id, "changed": changed}


@router.get("/v1/hash-banks/{bank_id}/hashes", response_model=HashListPublic, responses=_READ)
def list_hashes(
    bank_id: BankId,
    principal: AdminP,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=100_000_000)] = 0,
) -> dict[str, Any]:
    with services.read_sessions() as s:
        if s.get(BankRow, bank_id) is None:
            raise UnknownBank(f"no hash bank {bank_id!r}")
        where = BankEntryRow.bank_id == bank_id
        total = int(s.scalar(select(func.count()).select_from(BankEntryRow).where(where)) or 0)
        rows = s.scalars(
            select(BankEntryRow)
            .where(where)
            .order_by(BankEntryRow.signal_type, BankEntryRow.signal_key)
            .limit(limit)
            .offset(offset)
        ).all()
        return {
            "bank_id": bank_id,
            "total": total,
            "hashes": [
                {
                    "signal_type": r.signal_type,
                    "signal": r.signal,
                    "source": r.source,
                    "import_id": r.import_id,
                    "added_at": _iso(r.added_at),
                }
                for r in rows
            ],
        }


@router.post(
    "/v1/hash-banks/{bank_id}/imports",
    status_code=201,
    response_model=ImportPublic,
    responses=_BODY,
)
def import_hashes(
    bank_id: BankId,
    principal: AdminP,
    services: ServicesDep,
    file: Annotated[
        UploadFile,
        File(description="a hash file in threatexchange's format: '<signal type> <hash>' a line"),
    ],
    signal_type: Annotated[
        str | None,
        Form(
            max_length=32,
            description="the type of every line, for a file of bare hashes",
        ),
    ] = None,
) -> dict[str, Any]:
    _bank_now(services, bank_id)
    data = file.file.read(MAX_HASH_FILE + 1)
    if len(data) > MAX_HASH_FILE:
        raise InvalidHashFile(f"hash files are limited to {MAX_HASH_FILE} bytes")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "hashes.txt"
        path.write_bytes(data)
        result = import_file(
            services,
            bank_id,
            path,
            actor=principal.actor(),
            signal_type=signal_type or None,
            name=file.filename or "upload",
        )
    return {"bank_id": bank_id, **result.as_dict()}


# -- matches --------------------------------------------------------------------------------------


def _match(row: MatchRow) -> dict[str, Any]:
    return {
        "match_id": row.match_id,
        "surface": row.surface,
        "subject_id": row.subject_id,
        "account_id": row.account_id,
        "media_type": row.media_type,
        "sha256": row.sha256,
        "categories": list(row.categories),
        "outcome": row.outcome,
        "matches": list(row.matches),
        "evidence_id": row.evidence_id,
        "action_id": row.action_id,
        "report_id": row.report_id,
        "matched_at": _iso(row.matched_at),
        "confirmed_by": row.confirmed_by,
        "unblurs": row.unblurs,
    }


@router.get("/v1/hash-matches", response_model=MatchListPublic, responses=problems(422))
def list_matches(
    principal: ReviewerP,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    with services.read_sessions() as s:
        rows = s.scalars(select(MatchRow).order_by(MatchRow.matched_at.desc()).limit(limit)).all()
        return {"matches": [_match(r) for r in rows]}


@router.get("/v1/hash-matches/{match_id}", response_model=MatchPublic, responses=_READ)
def get_match(match_id: MatchId, principal: ReviewerP, services: ServicesDep) -> dict[str, Any]:
    with services.read_sessions() as s:
        row = s.get(MatchRow, match_id)
        if row is None:
            raise UnknownMatch(f"no hash match {match_id!r}")
        return _match(row)


def _frame(services: Any, match_id: str) -> Any:
    matched, _ = load_match(services, match_id)
    if matched.evidence_id is None:
        raise UnknownEvidence(f"hash match {match_id!r} kept no evidence")
    record, data = open_evidence(services, matched.evidence_id)
    return exposure.first_frame(data, record.media_type)


@router.get("/v1/hash-matches/{match_id}/preview", response_model=PreviewPublic, responses=_READ)
def preview(match_id: MatchId, principal: ReviewerP, services: ServicesDep) -> dict[str, Any]:
    """Greyscale and blurred: what a reviewer sees by default."""
    image = exposure.blurred(_frame(services, match_id))
    return {
        "match_id": match_id,
        "blurred": True,
        "greyscale": True,
        "image_base64": base64.b64encode(image).decode(),
    }


@router.post("/v1/hash-matches/{match_id}/unblur", response_model=PreviewPublic, responses=_BODY)
def unblur(
    match_id: MatchId, body: ReasonBody, principal: ReviewerP, services: ServicesDep
) -> dict[str, Any]:
    """This one item, in colour and unblurred; the unblur is recorded first."""
    frame = _frame(services, match_id)
    exposure.record_unblur(services, match_id, principal.actor(), body.reason)
    return {
        "match_id": match_id,
        "blurred": False,
        "greyscale": False,
        "image_base64": base64.b64encode(exposure.clear(frame)).decode(),
    }


@router.post("/v1/hash-matches/{match_id}/confirm", response_model=ConfirmPublic, responses=_BODY)
def confirm(
    match_id: MatchId, body: NoteBody, principal: ReviewerP, services: ServicesDep
) -> dict[str, Any]:
    statuses = confirm_match(services, match_id, principal.actor(), body.note)
    return {"match_id": match_id, "confirmed": True, "contributions": statuses}


# -- reports --------------------------------------------------------------------------------------


def _report(services: Any, report_id: str) -> dict[str, Any]:
    record = load_report(services.store, report_id)
    with services.read_sessions() as s:
        row = s.get(HotlineReportRow, report_id)
    return {
        "report_id": report_id,
        "match_id": record.prepared.match_id,
        "authority": record.prepared.authority,
        "format": record.prepared.format,
        "state": record.state,
        "remote_id": record.remote_id,
        "failures": max(record.failures, row.failures if row else 0),
        "payload": record.prepared.payload,
    }


@router.get("/v1/hotline-reports/{report_id}", response_model=ReportPublic, responses=_READ)
def get_report(report_id: ReportId, principal: AdminP, services: ServicesDep) -> dict[str, Any]:
    return _report(services, report_id)


@router.post(
    "/v1/hotline-reports/{report_id}/submit",
    response_model=ReportPublic,
    responses=problems(404, 409, 422),
)
def submit(report_id: ReportId, principal: AdminP, services: ServicesDep) -> dict[str, Any]:
    load_report(services.store, report_id)
    client = services.resource(REPORT_CLIENT)
    submit_report(services, report_id, principal.actor(), client)
    return _report(services, report_id)


@router.post(
    "/v1/hotline-reports/{report_id}/acknowledge", response_model=ReportPublic, responses=_BODY
)
def acknowledge(
    report_id: ReportId, body: AcknowledgeBody, principal: AdminP, services: ServicesDep
) -> dict[str, Any]:
    acknowledge_report(services, report_id, principal.actor(), body.detail)
    return _report(services, report_id)


# -- evidence -------------------------------------------------------------------------------------


@router.get("/v1/evidence/{evidence_id}", response_model=EvidencePublic, responses=_READ)
def get_evidence(
    evidence_id: EvidenceId, principal: AdminP, services: ServicesDep
) -> dict[str, Any]:
    with services.read_sessions() as s:
        row = s.get(EvidenceRow, evidence_id)
        if row is None:
            raise UnknownEvidence(f"no evidence {evidence_id!r}")
        return {
            "evidence_id": row.evidence_id,
            "match_id": row.match_id,
            "sha256": row.sha256,
            "media_type": row.media_type,
            "size_bytes": row.size_bytes,
            "preserved_at": _iso(row.preserved_at),
            "retain_until": _iso(row.retain_until),
            "accesses": row.accesses,
            "purged_at": _iso(row.purged_at),
        }


@router.post("/v1/evidence/purge", response_model=PurgePublic)
def purge(principal: AdminP, services: ServicesDep) -> dict[str, Any]:
    """Shred the evidence whose retention period ended."""
    return {"purged": purge_expired(services, principal.actor())}
