"""HTTP API: the investigator's search, and endpoints shaped like the C2PA soft-binding
resolution API (``/matches/byContent``, ``/matches/byBinding``, ``/manifests/{id}``).

Only investigators (and admins) may call any of them. The search answers with every asset,
each flagged with its state; the C2PA endpoints answer as a public lookup would: a removed
asset (by enforcement, its cameo owner or output moderation) is not found there.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, UploadFile
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import UploadFile as StarletteUpload

from core.app import ServicesDep
from core.auth import Investigator
from core.errors import NotFound, PayloadTooLarge, UnsupportedMedia, ValidationFailed
from core.limits import accepts_upload
from core.openapi import id_path, problems
from reverse_search.engine import engine_for
from reverse_search.errors import MediaDecodeError
from reverse_search.events import ReverseSearchPerformed
from reverse_search.schemas import (
    BindingMatchesPublic,
    ContentMatchesPublic,
    GenerationPublic,
    IndexStatusPublic,
    ManifestPublic,
    SearchHistoryPublic,
    SearchReportPublic,
)
from reverse_search.service import Audience, InvestigatorSearch, similarity_score

# Investigators only: a token of another role gets 403. A search can also find the index
# unreadable (503) or built by another embedder (409).
_ERRORS = problems(401, 403, 503)
router = APIRouter(prefix="/v1/reverse-search", tags=["reverse-search"], responses=_ERRORS)
c2pa_router = APIRouter(prefix="/v1/c2pa", tags=["reverse-search", "c2pa"], responses=_ERRORS)
_MEDIA_QUERY = problems(400, 409, 413, 415, 422)
_BINARY = {"schema": {"type": "string", "format": "binary"}}
_CONTENT_BODY = {
    "requestBody": {
        "required": True,
        "description": "the asset as the body (image/*, video/*), or a multipart field 'file'",
        "content": {
            "video/mp4": _BINARY,
            "image/png": _BINARY,
            "image/jpeg": _BINARY,
            "application/octet-stream": _BINARY,
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
        },
    }
}

_CHUNK = 1 << 20


class TextSearch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=1000)
    max_results: int | None = Field(default=None, ge=1, le=100)


class _QueryFile:
    """The query written chunk by chunk to a private temporary file, refused as soon as it
    passes the upload limit (so an oversized body is never held whole)."""

    def __init__(self, limit: int, suffix: str = "") -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="rs-query-")
        self.path = Path(self._tmp.name) / f"query{suffix}"
        self._out = self.path.open("wb")
        self._limit = limit
        self._size = 0

    def write(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._size > self._limit:
            raise PayloadTooLarge(f"the query file exceeds {self._limit} bytes")
        self._out.write(chunk)

    def done(self, if_empty: str) -> Path:
        self._out.close()
        if self._size == 0:
            raise ValidationFailed(if_empty)
        return self.path

    def __enter__(self) -> _QueryFile:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._out.close()
        self._tmp.cleanup()


def _upload_chunks(upload: StarletteUpload) -> Iterator[bytes]:
    upload.file.seek(0)
    while chunk := upload.file.read(_CHUNK):
        yield chunk


def _suffix(name: str | None) -> str:
    suffix = Path(name or "").suffix.lower()
    return suffix if suffix.isascii() and len(suffix) <= 8 else ""


@router.post(
    "/searches", status_code=200, response_model=SearchReportPublic, responses=_MEDIA_QUERY
)
def search_by_file(
    file: UploadFile,
    principal: Investigator,
    services: ServicesDep,
    max_results: Annotated[int | None, Query(ge=1, le=100)] = None,
) -> dict[str, Any]:
    """Search a clip or still image; returns ranked generations with their records, removed
    and restricted ones included and flagged, or ``verdict: no_match`` when none scores above
    the cutoff."""
    limit = engine_for(services).settings.max_upload_bytes
    with _QueryFile(limit, _suffix(file.filename)) as query:
        for chunk in _upload_chunks(file):
            query.write(chunk)
        path = query.done("the query file is empty")
        try:
            report = InvestigatorSearch(services).search_file(
                path, principal.actor(), "POST /v1/reverse-search/searches", max_results
            )
        except MediaDecodeError as exc:
            raise UnsupportedMedia(exc.detail) from exc
    return report.to_dict()


@router.post(
    "/searches/text",
    status_code=200,
    response_model=SearchReportPublic,
    responses=problems(400, 409, 413, 422),
)
def search_by_text(
    body: TextSearch, principal: Investigator, services: ServicesDep
) -> dict[str, Any]:
    """Search by a description through the CLIP text tower (needs a configured checkpoint)."""
    report = InvestigatorSearch(services).search_text(
        body.text, principal.actor(), "POST /v1/reverse-search/searches/text", body.max_results
    )
    return report.to_dict()


@router.get("/searches/mine", response_model=SearchHistoryPublic, responses=problems(422))
def my_searches(
    principal: Investigator,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    """The caller's own searches, newest first, read from their audit events (the query's
    hash, never its content, and what they were shown)."""
    events = services.store.read_latest(
        [ReverseSearchPerformed.event_type_name], actor_id=principal.id, limit=limit
    )
    return {
        "searches": [
            {"at": e.occurred_at.isoformat(), **e.payload_as(ReverseSearchPerformed).model_dump()}
            for e in events
        ]
    }


@router.get(
    "/generations/{generation_id}", response_model=GenerationPublic, responses=problems(404, 422)
)
def generation(
    generation_id: Annotated[str, id_path("a generation id")],
    principal: Investigator,
    services: ServicesDep,
) -> dict[str, Any]:
    """The record of one generation as reverse search knows it."""
    return InvestigatorSearch(services).record(generation_id)


@router.get("/status", response_model=IndexStatusPublic)
def status(principal: Investigator, services: ServicesDep) -> dict[str, Any]:
    return engine_for(services).status()


# ---------------------------------------------------------------------- C2PA soft binding
@c2pa_router.post(
    "/matches/byContent",
    response_model=ContentMatchesPublic,
    responses=_MEDIA_QUERY,
    openapi_extra=_CONTENT_BODY,
)
@accepts_upload  # reads the asset from the raw body: the upload limit, not the JSON one
async def matches_by_content(
    request: Request,
    principal: Investigator,
    services: ServicesDep,
    max_results: Annotated[int, Query(alias="maxResults", ge=1, le=100)] = 10,
) -> dict[str, Any]:
    """Soft-binding resolution by content: the asset as the body (or a multipart ``file``)."""
    limit = engine_for(services).settings.max_upload_bytes
    ctype = request.headers.get("content-type", "").lower()
    with _QueryFile(limit) as query:
        if ctype.startswith("multipart/"):
            form = await request.form()
            upload = form.get("file")
            if upload is None or isinstance(upload, str):
                raise ValidationFailed("send the asset as the multipart field 'file'")
            for chunk in _upload_chunks(upload):
                query.write(chunk)
        else:
            if not (
                ctype.startswith("video/")
                or ctype.startswith("image/")
                or ctype.startswith("application/octet-stream")
            ):
                raise UnsupportedMedia("send an image/* or video/* body, or a multipart 'file'")
            async for chunk in request.stream():
                query.write(chunk)
        path = query.done("the query body is empty")
        try:
            report = InvestigatorSearch(services).search_file(
                path,
                principal.actor(),
                "POST /v1/c2pa/matches/byContent",
                max_results,
                audience=Audience.PUBLIC,
            )
        except MediaDecodeError as exc:
            raise UnsupportedMedia(exc.detail) from exc
    return {
        "matches": [
            {
                "manifestId": h.manifest_id or h.match.asset_id,
                "similarityScore": similarity_score(h.match.score),
            }
            for h in report.hits
        ]
    }


@c2pa_router.get(
    "/matches/byBinding", response_model=BindingMatchesPublic, responses=problems(400, 422)
)
def matches_by_binding(
    principal: Investigator,
    services: ServicesDep,
    alg: Annotated[
        str,
        Query(
            min_length=1,
            max_length=200,
            description="the soft-binding algorithm, as the c2pa.soft-binding assertion names it",
        ),
    ],
    value: Annotated[
        str,
        Query(
            min_length=1,
            max_length=200,
            description="the binding's value, base64, as the c2pa.soft-binding assertion holds it",
        ),
    ],
    max_results: Annotated[int, Query(alias="maxResults", ge=1, le=100)] = 10,
) -> dict[str, Any]:
    """Soft-binding resolution by a binding read from a suspect file (``alg``, ``value``);
    an algorithm none of our assets is bound with is refused (400)."""
    ids = InvestigatorSearch(services).manifests_by_binding(alg, value)[:max_results]
    return {"matches": [{"manifestId": m} for m in ids]}


@c2pa_router.get(
    "/manifests/{manifest_id}", response_model=ManifestPublic, responses=problems(404, 422)
)
def manifest(
    manifest_id: Annotated[str, id_path("the manifest id, e.g. urn:uuid:...")],
    principal: Investigator,
    services: ServicesDep,
) -> dict[str, Any]:
    """The C2PA manifest store of the signed asset (as the c2pa reader's JSON); a removed
    asset's manifest is not found here."""
    search = InvestigatorSearch(services)
    asset = search.asset_by_manifest(manifest_id)
    assert asset.blob_address is not None
    try:
        path = search.engine.blobs.locate(asset.blob_address)
    except MediaDecodeError as exc:
        raise NotFound(f"the signed asset of manifest {manifest_id!r} is not available") from exc
    return {
        "manifestId": manifest_id,
        "asset_id": asset.asset_id,
        "manifest_store": _read_manifest(path),
    }


def _read_manifest(path: Path) -> Any:
    import json

    try:
        import c2pa
    except ImportError as exc:  # pragma: no cover - a project dependency
        raise NotFound("the c2pa reader is not installed") from exc
    try:
        with open(path, "rb") as stream:
            reader = c2pa.Reader("video/mp4", stream)
            return json.loads(reader.json())
    except Exception as exc:  # noqa: BLE001 - c2pa raises its own hierarchy, all mean "none"
        raise NotFound(f"no readable C2PA manifest in the signed asset: {exc}") from exc
