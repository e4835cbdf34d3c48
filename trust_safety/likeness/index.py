"""The face index: every active cameo's template and every public figure's gallery, in FAISS.

Uploads and outputs ask :func:`match_faces` who a face is. The nearest-template search runs
over a ``faiss.IndexIDMap2(IndexFlatL2(128))`` per embedding model (embeddings of different
models are not comparable), exact and with removals, found by range search within
``MATCH_DISTANCE`` so that no subject within it is missed, however many embeddings the
subjects nearer to the face hold.

The index is a projection kept in process memory, one per :class:`~core.services.Services`
(a worker process, the API): the templates and galleries are biometric data, kept encrypted
in their tables and never in events, so it is *rebuilt from the tables* when first used, and
kept current by the events that say a table changed (``CameoEnrolled``,
``CameoTemplateDestroyed``, ``CameoRetired``, ``PublicFigureFaceAdded``,
``PublicFigureFaceRemoved``): before every search it reads the store after the last position
it applied (the store's positions are gap-free in commit order, so nothing committed is
skipped) and reloads the subjects those events name from the tables. An enrolment committed
a moment ago is therefore matched by the next search in any process, without a consumer lag.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import faiss
import numpy as np
import numpy.typing as npt
from sqlalchemy.orm import Session

from core.events import RecordedEvent
from core.ports import Resource
from core.services import Services
from trust_safety.classifiers.face_model import (
    EMBEDDING_DIM,
    EMBEDDING_MODEL,
    MATCH_DISTANCE,
    embedding_model,
)

MatchKind = Literal["cameo", "public_figure"]
CAMEO: MatchKind = "cameo"
PUBLIC_FIGURE: MatchKind = "public_figure"


@dataclass(frozen=True, slots=True)
class FaceMatch:
    """One enrolled subject within the matching distance of a face."""

    kind: MatchKind
    subject_id: str  # cameo id or public figure id
    owner_id: str | None  # the cameo's owner; None for a public figure
    distance: float

    def evidence(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "subject_id": self.subject_id,
            "distance": round(self.distance, 4),
        }


Subject = tuple[MatchKind, str]


@dataclass
class _ModelIndex:
    """The vectors of one embedding model."""

    faiss: Any = field(default_factory=lambda: faiss.IndexIDMap2(faiss.IndexFlatL2(EMBEDDING_DIM)))
    subject_of: dict[int, tuple[MatchKind, str, str | None]] = field(default_factory=dict)
    ids_of: dict[Subject, npt.NDArray[np.int64]] = field(default_factory=dict)


class FaceIndex:
    """Subjects' embeddings by model version; thread-safe."""

    def __init__(self) -> None:
        self._models: dict[str, _ModelIndex] = {}
        self._next_id = 1
        self._lock = threading.Lock()

    def put(
        self,
        kind: MatchKind,
        subject_id: str,
        owner_id: str | None,
        embeddings_by_model: dict[str, npt.NDArray[np.float32]],
    ) -> None:
        """Make ``subject_id``'s vectors exactly these (replacing what it had)."""
        grouped: dict[str, list[npt.NDArray[np.float32]]] = {}
        for version, embeddings in embeddings_by_model.items():
            grouped.setdefault(embedding_model(version), []).append(
                np.asarray(embeddings, np.float32).reshape(-1, EMBEDDING_DIM)
            )
        with self._lock:
            self._drop((kind, subject_id))
            for model, parts in grouped.items():
                rows = np.ascontiguousarray(np.concatenate(parts))
                if not len(rows):
                    continue
                index = self._models.setdefault(model, _ModelIndex())
                ids = np.arange(self._next_id, self._next_id + len(rows), dtype=np.int64)
                self._next_id += len(rows)
                index.faiss.add_with_ids(rows, ids)
                index.ids_of[(kind, subject_id)] = ids
                for i in ids:
                    index.subject_of[int(i)] = (kind, subject_id, owner_id)

    def drop(self, kind: MatchKind, subject_id: str) -> None:
        with self._lock:
            self._drop((kind, subject_id))

    def _drop(self, subject: Subject) -> None:
        for index in self._models.values():
            ids = index.ids_of.pop(subject, None)
            if ids is None:
                continue
            index.faiss.remove_ids(faiss.IDSelectorBatch(len(ids), faiss.swig_ptr(ids)))
            for i in ids:
                index.subject_of.pop(int(i), None)

    def clear(self) -> None:
        with self._lock:
            self._models.clear()

    def subjects(self) -> set[Subject]:
        with self._lock:
            return {s for index in self._models.values() for s in index.ids_of}

    @property
    def vector_count(self) -> int:
        with self._lock:
            return sum(int(index.faiss.ntotal) for index in self._models.values())

    def search(
        self,
        embeddings: npt.NDArray[np.float32],
        *,
        model_version: str = EMBEDDING_MODEL,
        max_distance: float = MATCH_DISTANCE,
    ) -> list[list[FaceMatch]]:
        """For each row of ``embeddings`` ``(n, 128)``: every subject within ``max_distance``
        at its nearest embedding, nearest first."""
        queries = np.ascontiguousarray(
            np.asarray(embeddings, np.float32).reshape(-1, EMBEDDING_DIM)
        )
        found: list[list[FaceMatch]] = [[] for _ in range(len(queries))]
        with self._lock:
            index = self._models.get(embedding_model(model_version))
            if index is None or index.faiss.ntotal == 0 or not len(queries):
                return found
            # IndexFlatL2 measures squared distances.
            limits, distances, ids = index.faiss.range_search(queries, float(max_distance) ** 2)
            for q in range(len(queries)):
                best: dict[Subject, tuple[float, str | None]] = {}
                for k in range(int(limits[q]), int(limits[q + 1])):
                    kind, subject_id, owner_id = index.subject_of[int(ids[k])]
                    distance = float(np.sqrt(max(0.0, float(distances[k]))))
                    seen = best.get((kind, subject_id))
                    if seen is None or distance < seen[0]:
                        best[(kind, subject_id)] = (distance, owner_id)
                found[q] = sorted(
                    (FaceMatch(kind, sid, owner, d) for (kind, sid), (d, owner) in best.items()),
                    key=lambda m: (m.distance, m.kind, m.subject_id),
                )
        return found


# -- the projection that keeps it ---------------------------------------------------------------

_CAMEO_EVENTS = ("CameoEnrolled", "CameoTemplateDestroyed", "CameoRetired")
_GALLERY_EVENTS = ("PublicFigureFaceAdded", "PublicFigureFaceRemoved")
FOLLOWED = (*_CAMEO_EVENTS, *_GALLERY_EVENTS)


class LikenessIndex:
    """A :class:`FaceIndex` equal to the templates and gallery tables as of the store's
    position it last read (see the module's notes)."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.index = FaceIndex()
        self.position: int | None = None  # None: not built yet
        self._lock = threading.Lock()

    def rebuild(self) -> None:
        """Load every active template and gallery entry from the tables."""
        with self._lock:
            store = self.services.store
            # The position first: an edit committed after it is applied again by catch_up.
            position = store.head_position()
            self.index.clear()
            with self.services.read_sessions() as s:
                from trust_safety.consent.templates import all_templates

                for template in all_templates(s):
                    self.index.put(
                        CAMEO,
                        template.cameo_id,
                        template.owner_id,
                        {template.model_version: template.embeddings},
                    )
                for figure, by_model in _galleries(s).items():
                    self.index.put(PUBLIC_FIGURE, figure, None, by_model)
            self.position = position

    def catch_up(self) -> int:
        """Apply the table edits committed since the last read; returns how many events."""
        if self.position is None:
            self.rebuild()
        with self._lock:
            assert self.position is not None
            store = self.services.store
            head = store.head_position()
            applied = 0
            after = self.position
            while after < head:
                page = store.read_all(
                    after_position=after, up_to_position=head, types=FOLLOWED, limit=500
                )
                if not page:
                    break
                self._apply(page)
                applied += len(page)
                after = page[-1].position
            self.position = head
            return applied

    def _apply(self, events: Sequence[RecordedEvent]) -> None:
        cameos = sorted({str(e.payload["cameo_id"]) for e in events if e.type in _CAMEO_EVENTS})
        figures = sorted(
            {str(e.payload["public_figure_id"]) for e in events if e.type in _GALLERY_EVENTS}
        )
        from trust_safety.consent.templates import load_template

        with self.services.read_sessions() as s:
            # The tables as they are now: a later edit of the same subject is read once here
            # and again, harmlessly, when its own event comes.
            for cameo_id in cameos:
                template = load_template(s, cameo_id)
                if template is None:
                    self.index.drop(CAMEO, cameo_id)
                else:
                    self.index.put(
                        CAMEO,
                        cameo_id,
                        template.owner_id,
                        {template.model_version: template.embeddings},
                    )
            if figures:
                galleries = _galleries(s, set(figures))
                for figure in figures:
                    if figure in galleries:
                        self.index.put(PUBLIC_FIGURE, figure, None, galleries[figure])
                    else:
                        self.index.drop(PUBLIC_FIGURE, figure)

    def match(
        self, embeddings: npt.NDArray[np.float32], *, model_version: str = EMBEDDING_MODEL
    ) -> list[list[FaceMatch]]:
        self.catch_up()
        return self.index.search(embeddings, model_version=model_version)


def _galleries(
    session: Session, only: Iterable[str] | None = None
) -> dict[str, dict[str, npt.NDArray[np.float32]]]:
    """Public figure -> model version -> every reference embedding of theirs."""
    from trust_safety.likeness.gallery import all_gallery_entries

    wanted = None if only is None else set(only)
    parts: dict[str, dict[str, list[npt.NDArray[np.float32]]]] = {}
    for entry in all_gallery_entries(session):
        if wanted is not None and entry.public_figure_id not in wanted:
            continue
        by_model = parts.setdefault(entry.public_figure_id, {})
        by_model.setdefault(embedding_model(entry.model_version), []).append(
            np.asarray(entry.embeddings, np.float32).reshape(-1, EMBEDDING_DIM)
        )
    return {
        figure: {model: np.concatenate(rows) for model, rows in by_model.items()}
        for figure, by_model in parts.items()
    }


LIKENESS_INDEX = Resource[LikenessIndex]("likeness.index", LikenessIndex)


def match_faces(
    services: Services,
    embeddings: npt.NDArray[np.float32],
    *,
    model_version: str = EMBEDDING_MODEL,
) -> list[list[FaceMatch]]:
    """For each embedding ``(n, 128)``: the cameos and public figures within
    ``MATCH_DISTANCE``, nearest first (one match per subject, at its nearest embedding)."""
    return services.resource(LIKENESS_INDEX).match(embeddings, model_version=model_version)
