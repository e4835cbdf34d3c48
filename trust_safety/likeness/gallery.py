"""Public figures' face galleries: reference embeddings kept encrypted, never the photos.

An admin attaches reference photos of a listed public figure; each photo must show exactly
one face, and the photos of one attachment must show one person. Their embeddings become one
gallery *entry* (``k`` embeddings, the model that made them); the photos themselves are
dropped once embedded. Matching (uploads, outputs) reads every entry through
:func:`all_gallery_entries`.

Biometric data is handled like the cameos' face templates (trust_safety/consent/templates.py):

* ``ciphertext``: the embeddings (float32, little-endian, ``(k, 128)``) encrypted with
  AES-256-GCM under a key of this entry's own, with the entry, the figure, the model version
  and ``k`` as associated data, so a row's ciphertext cannot be moved to another figure;
* ``sealed_key``: that entry key, sealed by the deployment's keyring (core/privacy.py) under
  the figure's subject key (``public-figure:<id>``).

Removing an entry deletes its row and key; erasing the figure's subject key makes every entry
of theirs unreadable, and an unreadable entry reads as absent. Each edit is an event on the
figure's gallery stream (trust_safety/likeness/events.py), appended in the transaction that
writes the table; the events carry the entry id, the model version and ``k``, never the
embeddings, so the table is not a projection (it cannot be rebuilt from the log).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import DateTime, Integer, LargeBinary, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.aggregate import Transaction, transact
from core.db import Base, utc
from core.errors import ClearframeError, NotFound, ValidationFailed
from core.events import Actor, EventPayload, RecordedEvent, utcnow
from core.privacy import SealedBytes, SealedBytesUnreadable, open_bytes, seal_bytes, secure_delete
from core.services import Services
from core.store import JsonType
from trust_safety.classifiers.face_model import MATCH_DISTANCE, embedding_version
from trust_safety.classifiers.faces import FaceAnalyzer, embeddings_from_bytes, embeddings_to_bytes
from trust_safety.likeness.events import (
    LIKENESS,
    PublicFigureFaceAdded,
    PublicFigureFaceRemoved,
    gallery_stream_key,
)

MAX_EMBEDDINGS = 32
MAX_PHOTOS = 10


class InvalidReferencePhoto(ValidationFailed):
    """A reference photo that cannot serve: not an image, no face, several faces, or photos
    of different people in one attachment."""

    code = "invalid_reference_photo"


class UnknownPublicFigure(NotFound):
    code = "public_figure_not_found"


class UnknownGalleryEntry(NotFound):
    code = "gallery_entry_not_found"


class GalleryUnreadable(ClearframeError):
    """An entry whose key opens but whose ciphertext does not (tampered or corrupted)."""

    code, status, title = "gallery_unreadable", 500, "Internal error"


def _new_entry_id() -> str:
    return f"pfg_{uuid.uuid4().hex[:20]}"


@dataclass(frozen=True)
class GalleryEntry:
    public_figure_id: str
    embeddings: npt.NDArray[np.float32]  # (k, 128)
    model_version: str
    entry_id: str = field(default_factory=_new_entry_id)
    added_at: datetime = field(default_factory=utcnow)


@dataclass(frozen=True)
class GalleryEntryInfo:
    """What may be shown about an entry: never the embeddings."""

    public_figure_id: str
    entry_id: str
    model_version: str
    embeddings: int
    added_at: datetime


class GalleryEntryRow(Base):
    __tablename__ = "likeness_gallery_entries"

    entry_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    public_figure_id: Mapped[str] = mapped_column(String(128), nullable=False, index=True)
    model_version: Mapped[str] = mapped_column(String(128), nullable=False)
    embeddings: Mapped[int] = mapped_column(Integer, nullable=False)  # how many (k)
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    sealed_key: Mapped[dict[str, Any]] = mapped_column(JsonType, nullable=False)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)


def figure_subject(public_figure_id: str) -> str:
    """The keyring subject whose key seals a figure's entry keys."""
    return f"public-figure:{public_figure_id}"


def _aad(entry_id: str, public_figure_id: str, model_version: str, count: int) -> bytes:
    return f"face-gallery\0{entry_id}\0{public_figure_id}\0{model_version}\0{count}".encode()


def save_gallery_entry(session: Session, entry: GalleryEntry) -> None:
    """Store one entry under a fresh key of its own (no event: see :func:`add_reference_faces`)."""
    plain, count = embeddings_to_bytes(
        entry.embeddings, max_rows=MAX_EMBEDDINGS, what="a gallery entry"
    )
    sealed = seal_bytes(
        session,
        figure_subject(entry.public_figure_id),
        plain,
        _aad(entry.entry_id, entry.public_figure_id, entry.model_version, count),
    )
    session.add(
        GalleryEntryRow(
            entry_id=entry.entry_id,
            public_figure_id=entry.public_figure_id,
            model_version=entry.model_version,
            embeddings=count,
            added_at=entry.added_at,
            sealed_key=sealed.sealed_key,
            ciphertext=sealed.ciphertext,
        )
    )
    session.flush()


def _open(session: Session, row: GalleryEntryRow) -> GalleryEntry | None:
    try:
        plain = open_bytes(
            session,
            SealedBytes(row.sealed_key, bytes(row.ciphertext)),
            _aad(row.entry_id, row.public_figure_id, row.model_version, row.embeddings),
        )
    except SealedBytesUnreadable:
        raise GalleryUnreadable(
            f"gallery entry {row.entry_id} does not open with its key"
        ) from None
    if plain is None:
        return None  # the figure's key was erased: the entry is gone for good
    return GalleryEntry(
        public_figure_id=row.public_figure_id,
        embeddings=embeddings_from_bytes(plain),
        model_version=row.model_version,
        entry_id=row.entry_id,
        added_at=utc(row.added_at),
    )


def all_gallery_entries(session: Session) -> Iterator[GalleryEntry]:
    """Every readable entry, in (figure, entry) order."""
    rows = session.scalars(
        select(GalleryEntryRow).order_by(GalleryEntryRow.public_figure_id, GalleryEntryRow.entry_id)
    )
    for row in rows:
        entry = _open(session, row)
        if entry is not None:
            yield entry


def gallery_entries_of(session: Session, public_figure_id: str) -> list[GalleryEntryInfo]:
    rows = session.scalars(
        select(GalleryEntryRow)
        .where(GalleryEntryRow.public_figure_id == public_figure_id)
        .order_by(GalleryEntryRow.added_at, GalleryEntryRow.entry_id)
    )
    return [
        GalleryEntryInfo(
            r.public_figure_id, r.entry_id, r.model_version, r.embeddings, utc(r.added_at)
        )
        for r in rows
    ]


def delete_gallery_entry(session: Session, entry_id: str) -> bool:
    """Delete the entry's row and key; False when there was none."""
    secure_delete(session)
    result = session.execute(delete(GalleryEntryRow).where(GalleryEntryRow.entry_id == entry_id))
    return bool(getattr(result, "rowcount", 0))


# -- reference photos ------------------------------------------------------------------------


@dataclass(frozen=True)
class ReferencePhoto:
    name: str
    data: bytes


def reference_embeddings(
    analyzer: FaceAnalyzer, photos: Sequence[ReferencePhoto]
) -> npt.NDArray[np.float32]:
    """One embedding per photo; each must be an image with exactly one face, and all of them
    one person (within the matching distance of each other)."""
    from trust_safety.uploads.errors import UnsupportedMediaType
    from trust_safety.uploads.limits import UploadLimits
    from trust_safety.uploads.media import decode_image
    from trust_safety.uploads.sniffing import SNIFF_BYTES, sniff_media_type

    if not 1 <= len(photos) <= MAX_PHOTOS:
        raise InvalidReferencePhoto(f"attach 1 to {MAX_PHOTOS} photos, got {len(photos)}")
    limits = UploadLimits()
    embeddings: list[npt.NDArray[np.float32]] = []
    for number, photo in enumerate(photos, start=1):
        label = f"photo {number} ({photo.name!r})"
        if len(photo.data) > limits.max_image_bytes:
            raise InvalidReferencePhoto(
                f"{label} is larger than {limits.max_image_bytes} bytes", photo=number
            )
        media_type = sniff_media_type(photo.data[:SNIFF_BYTES])
        if media_type.is_video:
            raise UnsupportedMediaType(f"{label} is a video; reference photos are images")
        decoded = decode_image(photo.data, media_type, limits)
        rgb = np.ascontiguousarray(decoded.frames[0][:, :, ::-1])
        faces = analyzer.analyze(rgb, estimate_age=False)
        if len(faces) != 1:
            found = "no face" if not faces else f"{len(faces)} faces"
            raise InvalidReferencePhoto(
                f"{label} shows {found}; a reference photo shows exactly one face",
                photo=number,
                faces=len(faces),
            )
        embedding = faces[0].embedding
        assert embedding is not None  # analyze embeds unless told not to
        embeddings.append(embedding)
    stacked = np.stack(embeddings).astype(np.float32)
    for i in range(len(stacked)):
        for j in range(i + 1, len(stacked)):
            distance = float(np.linalg.norm(stacked[i] - stacked[j]))
            if distance > MATCH_DISTANCE:
                raise InvalidReferencePhoto(
                    f"photos {i + 1} and {j + 1} show different people (distance "
                    f"{distance:.2f} > {MATCH_DISTANCE}); attach one person's photos at a time",
                    photos=[i + 1, j + 1],
                )
    return stacked


# -- the gallery aggregate -------------------------------------------------------------------


@dataclass(frozen=True)
class _Add:
    entry: GalleryEntry


@dataclass(frozen=True)
class _Remove:
    public_figure_id: str
    entry_id: str


class FigureGallery:
    """A figure's gallery stream: which entries are live (the embeddings are in the table)."""

    category = LIKENESS

    def initial(self) -> frozenset[str]:
        return frozenset()

    def evolve(self, state: frozenset[str], event: RecordedEvent) -> frozenset[str]:
        if event.type == PublicFigureFaceAdded.event_type_name:
            return state | {event.payload_as(PublicFigureFaceAdded).entry_id}
        if event.type == PublicFigureFaceRemoved.event_type_name:
            return state - {event.payload_as(PublicFigureFaceRemoved).entry_id}
        return state

    def decide(self, state: frozenset[str], command: _Add | _Remove) -> list[EventPayload]:
        if isinstance(command, _Add):
            e = command.entry
            return [
                PublicFigureFaceAdded(
                    public_figure_id=e.public_figure_id,
                    entry_id=e.entry_id,
                    model_version=e.model_version,
                    embeddings=int(e.embeddings.shape[0]),
                )
            ]
        if command.entry_id not in state:
            raise UnknownGalleryEntry(
                f"public figure {command.public_figure_id!r} has no gallery entry "
                f"{command.entry_id!r}"
            )
        return [
            PublicFigureFaceRemoved(
                public_figure_id=command.public_figure_id, entry_id=command.entry_id
            )
        ]


GALLERY = FigureGallery()


def require_listed_figure(services: Services, public_figure_id: str) -> None:
    from trust_safety.generation.lists import load_live_lists

    if load_live_lists(services).figures.get(public_figure_id) is None:
        raise UnknownPublicFigure(f"no listed public figure {public_figure_id!r}")


def add_reference_faces(
    services: Services,
    analyzer: FaceAnalyzer,
    public_figure_id: str,
    photos: Sequence[ReferencePhoto],
    actor: Actor,
) -> GalleryEntryInfo:
    """Embed the photos (then drop them) and keep the embeddings as one entry, with its event."""
    require_listed_figure(services, public_figure_id)
    embeddings = reference_embeddings(analyzer, photos)
    entry = GalleryEntry(
        public_figure_id=public_figure_id,
        embeddings=embeddings,
        model_version=embedding_version(analyzer.model_versions),
    )

    def work(tx: Transaction) -> None:
        tx.execute(GALLERY, gallery_stream_key(public_figure_id), _Add(entry))
        save_gallery_entry(tx.session, entry)

    transact(services.store, work, actor=actor)
    return GalleryEntryInfo(
        public_figure_id, entry.entry_id, entry.model_version, len(embeddings), entry.added_at
    )


def remove_reference_face(
    services: Services, public_figure_id: str, entry_id: str, actor: Actor
) -> None:
    def work(tx: Transaction) -> None:
        tx.execute(
            GALLERY, gallery_stream_key(public_figure_id), _Remove(public_figure_id, entry_id)
        )
        delete_gallery_entry(tx.session, entry_id)

    transact(services.store, work, actor=actor)


def list_reference_faces(services: Services, public_figure_id: str) -> list[GalleryEntryInfo]:
    with services.read_sessions() as s:
        return gallery_entries_of(s, public_figure_id)
