"""``/v1/moderation/public-figures/{figure_id}/faces``: admins keep public figures' face
galleries (reference photos in, embeddings kept, photos dropped)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, UploadFile
from pydantic import BaseModel, Field

from core.app import ServicesDep
from core.auth import Principal, Role, require_roles
from core.openapi import Timestamp, id_path, problems
from trust_safety.classifiers.faces import shared_face_analyzer
from trust_safety.likeness.gallery import (
    MAX_PHOTOS,
    GalleryEntryInfo,
    ReferencePhoto,
    add_reference_faces,
    list_reference_faces,
    remove_reference_face,
    require_listed_figure,
)

router = APIRouter(
    prefix="/v1/moderation/public-figures",
    tags=["likeness"],
    responses=problems(401, 403, 503),
)
AdminDep = Annotated[Principal, Depends(require_roles(Role.admin))]
FigureId = Annotated[str, id_path("the listed public figure's id, e.g. pf-joe-biden")]
EntryId = Annotated[str, id_path("a gallery entry id")]


class GalleryEntryPublic(BaseModel):
    public_figure_id: str
    entry_id: str
    model_version: str = Field(description="the embedding model that made the entry")
    embeddings: int = Field(description="how many reference embeddings the entry holds")
    added_at: Timestamp


class GalleryPublic(BaseModel):
    public_figure_id: str
    entries: list[GalleryEntryPublic]


def _public(info: GalleryEntryInfo) -> dict[str, Any]:
    return {
        "public_figure_id": info.public_figure_id,
        "entry_id": info.entry_id,
        "model_version": info.model_version,
        "embeddings": info.embeddings,
        "added_at": info.added_at,
    }


@router.post(
    "/{figure_id}/faces",
    status_code=201,
    response_model=GalleryEntryPublic,
    responses=problems(400, 404, 409, 413, 415, 422),
)
def add_faces(
    figure_id: FigureId,
    principal: AdminDep,
    services: ServicesDep,
    file: Annotated[
        list[UploadFile],
        File(
            description=f"1 to {MAX_PHOTOS} reference photos (JPEG/PNG/GIF/WebP), each showing "
            "exactly this one person's face; they are embedded and then dropped"
        ),
    ],
) -> dict[str, Any]:
    # A sync route: the face models are CPU-bound and run in the threadpool.
    photos = [
        ReferencePhoto(f.filename or f"photo-{i + 1}", f.file.read()) for i, f in enumerate(file)
    ]
    info = add_reference_faces(
        services, shared_face_analyzer(), figure_id, photos, principal.actor()
    )
    return _public(info)


@router.get("/{figure_id}/faces", response_model=GalleryPublic, responses=problems(404, 422))
def list_faces(figure_id: FigureId, principal: AdminDep, services: ServicesDep) -> dict[str, Any]:
    entries = list_reference_faces(services, figure_id)
    if not entries:
        # A delisted figure's remaining entries stay listable (and removable).
        require_listed_figure(services, figure_id)
    return {"public_figure_id": figure_id, "entries": [_public(e) for e in entries]}


@router.delete("/{figure_id}/faces/{entry_id}", status_code=204, responses=problems(404, 409, 422))
def remove_faces(
    figure_id: FigureId, entry_id: EntryId, principal: AdminDep, services: ServicesDep
) -> None:
    remove_reference_face(services, figure_id, entry_id, principal.actor())
