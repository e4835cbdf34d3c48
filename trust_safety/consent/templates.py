"""The face templates of enrolled cameos: several embeddings per cameo, encrypted at rest.

A template is biometric data, so it never enters an event (``CameoEnrolled`` carries only
the model versions and the scores) and never a log. Each row holds:

* ``ciphertext``: the embeddings (float32, little-endian, ``(k, 128)``) encrypted with
  AES-256-GCM under a key of this cameo's own, made fresh at every (re-)enrolment, with the
  cameo, its owner, the model version and ``k`` as associated data (a row's ciphertext cannot
  be moved to another cameo or relabelled);
* ``sealed_key``: that cameo key, sealed by the deployment's keyring (core/privacy.py) under
  the owner's subject key.

So the template dies three ways: :func:`destroy_template` deletes the row with its key (a
retired cameo, a replaced enrolment); erasing the owner's personal data deletes the owner's
subject key, after which the cameo key cannot be opened even from a backup of this table; and
the erasure also deletes the rows (:func:`destroy_templates_of_owner`, hooked into
``core.privacy.erase_personal_data``). A template whose key cannot be opened reads as absent.

The table is written by the consent service in the transaction that appends the cameo's
event, not projected from events (the events do not hold the template).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import DateTime, Integer, LargeBinary, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db import Base, utc
from core.errors import InternalError
from core.privacy import SealedBytes, SealedBytesUnreadable, open_bytes, seal_bytes, secure_delete
from core.store import JsonType
from trust_safety.classifiers.faces import embeddings_from_bytes, embeddings_to_bytes

MAX_EMBEDDINGS = 32


class TemplateUnreadable(InternalError):
    """A template whose key opens but whose ciphertext does not (tampered or corrupted)."""

    code = "consent.template_unreadable"


@dataclass(frozen=True)
class FaceTemplate:
    cameo_id: str
    owner_id: str
    embeddings: npt.NDArray[np.float32]  # (k, 128)
    model_version: str
    enrolled_at: datetime


class FaceTemplateRow(Base):
    __tablename__ = "consent_face_templates"

    cameo_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner_id: Mapped[str] = mapped_column(String(128), nullable=False, index=True)
    model_version: Mapped[str] = mapped_column(String(128), nullable=False)
    embeddings: Mapped[int] = mapped_column(Integer, nullable=False)  # how many (k)
    enrolled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    sealed_key: Mapped[dict[str, Any]] = mapped_column(JsonType, nullable=False)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)


def _aad(cameo_id: str, owner_id: str, model_version: str, count: int) -> bytes:
    return f"face-template\0{cameo_id}\0{owner_id}\0{model_version}\0{count}".encode()


def save_template(session: Session, template: FaceTemplate) -> None:
    """Store ``template`` under a fresh cameo key, replacing any earlier one of the cameo."""
    plain, count = embeddings_to_bytes(
        template.embeddings, max_rows=MAX_EMBEDDINGS, what="a face template"
    )
    sealed = seal_bytes(
        session,
        template.owner_id,
        plain,
        _aad(template.cameo_id, template.owner_id, template.model_version, count),
    )
    secure_delete(session)
    session.execute(delete(FaceTemplateRow).where(FaceTemplateRow.cameo_id == template.cameo_id))
    session.add(
        FaceTemplateRow(
            cameo_id=template.cameo_id,
            owner_id=template.owner_id,
            model_version=template.model_version,
            embeddings=count,
            enrolled_at=template.enrolled_at,
            sealed_key=sealed.sealed_key,
            ciphertext=sealed.ciphertext,
        )
    )
    session.flush()


def _open(session: Session, row: FaceTemplateRow) -> FaceTemplate | None:
    try:
        plain = open_bytes(
            session,
            SealedBytes(row.sealed_key, bytes(row.ciphertext)),
            _aad(row.cameo_id, row.owner_id, row.model_version, row.embeddings),
        )
    except SealedBytesUnreadable:
        raise TemplateUnreadable(
            f"the face template of cameo {row.cameo_id} does not open with its key"
        ) from None
    if plain is None:
        return None  # the owner's key was erased: the template is gone for good
    return FaceTemplate(
        cameo_id=row.cameo_id,
        owner_id=row.owner_id,
        embeddings=embeddings_from_bytes(plain),
        model_version=row.model_version,
        enrolled_at=utc(row.enrolled_at),
    )


def load_template(session: Session, cameo_id: str) -> FaceTemplate | None:
    row = session.get(FaceTemplateRow, cameo_id)
    return None if row is None else _open(session, row)


def all_templates(session: Session) -> Iterator[FaceTemplate]:
    """Every readable template, in cameo id order. Only active cameos have one: retiring a
    cameo destroys its template in the transaction that retires it."""
    rows = session.scalars(select(FaceTemplateRow).order_by(FaceTemplateRow.cameo_id))
    for row in rows:
        template = _open(session, row)
        if template is not None:
            yield template


def has_template(session: Session, cameo_id: str) -> bool:
    return session.get(FaceTemplateRow, cameo_id) is not None


def destroy_template(session: Session, cameo_id: str) -> bool:
    """Delete the cameo's template and its key; False when it had none."""
    secure_delete(session)
    result = session.execute(delete(FaceTemplateRow).where(FaceTemplateRow.cameo_id == cameo_id))
    return bool(getattr(result, "rowcount", 0))


def template_cameos_of(session: Session, owner_id: str) -> list[str]:
    """The cameos of ``owner_id`` that hold a template row (readable or not)."""
    return list(
        session.scalars(
            select(FaceTemplateRow.cameo_id)
            .where(FaceTemplateRow.owner_id == owner_id)
            .order_by(FaceTemplateRow.cameo_id)
        )
    )
