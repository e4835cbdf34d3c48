"""The FAISS face index over cameo templates and public figures' galleries: exact, complete
within the matching distance, rebuilt from the tables and kept current by their events."""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.events import Actor
from core.services import Services
from tests.utils import make_principal
from tests.utils.enrolment import enrol_cameo
from trust_safety.classifiers.face_model import EMBEDDING_MODEL, MATCH_DISTANCE
from trust_safety.classifiers.faces import shared_face_analyzer
from trust_safety.consent.service import ConsentService
from trust_safety.likeness.gallery import (
    ReferencePhoto,
    add_reference_faces,
    remove_reference_face,
)
from trust_safety.likeness.index import (
    LIKENESS_INDEX,
    FaceIndex,
    LikenessIndex,
    match_faces,
)

FACES = Path(__file__).resolve().parents[2] / "data" / "faces"
ADMIN = Actor(id="admin-1", role="admin")


@cache
def embedding_of(name: str, side: int = 400) -> np.ndarray:
    """The one face of a test photo (scaled to ``side`` px wide), embedded once per process."""
    image = Image.open(FACES / name).convert("RGB")
    image.thumbnail((side, side * 3))
    faces = shared_face_analyzer().analyze(np.asarray(image), estimate_age=False)
    assert len(faces) == 1 and faces[0].embedding is not None
    return faces[0].embedding


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    rows = rng.normal(size=(n, 128)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_the_index_finds_every_subject_within_the_distance_however_crowded() -> None:
    rng = np.random.default_rng(7)
    query = _unit(rng, 1)[0] * 0.5
    index = FaceIndex()
    # A subject with 40 embeddings right at the face, a second one 0.5 away, a third too far.
    index.put("cameo", "near", "o1", {EMBEDDING_MODEL: query + _unit(rng, 40) * 0.05})
    index.put("cameo", "middle", "o2", {EMBEDDING_MODEL: (query + _unit(rng, 1) * 0.5)})
    index.put("public_figure", "far", None, {EMBEDDING_MODEL: (query + _unit(rng, 1) * 0.8)})
    (found,) = index.search(query[None, :])
    assert [m.subject_id for m in found] == ["near", "middle"]
    assert found[0].owner_id == "o1" and found[0].distance < 0.06
    assert found[1].distance == pytest.approx(0.5, abs=1e-4)
    assert index.vector_count == 42
    # Exact distances, the same as a direct computation.
    assert found[1].distance == pytest.approx(
        float(np.min(np.linalg.norm(index_rows(index, "middle") - query, axis=1))), abs=1e-5
    )
    # Replacing a subject's vectors and dropping one take effect at once.
    index.put("cameo", "near", "o1", {EMBEDDING_MODEL: query[None, :] + 0.7 / np.sqrt(128)})
    index.drop("cameo", "middle")
    assert index.search(query[None, :]) == [[]]
    assert index.subjects() == {("cameo", "near"), ("public_figure", "far")}
    # Another model's embeddings are never compared with this one's.
    index.put("cameo", "other-model", "o3", {"some-other-model": query[None, :]})
    assert index.search(query[None, :], model_version="some-other-model")[0][0].distance == 0.0
    assert index.search(query[None, :]) == [[]]


def index_rows(index: FaceIndex, subject_id: str) -> np.ndarray:
    model = index._models[EMBEDDING_MODEL]
    ids = model.ids_of[("cameo", subject_id)]
    return np.stack([model.faiss.reconstruct(int(i)) for i in ids])


def test_the_default_model_is_the_one_the_analyzer_embeds_with() -> None:
    assert shared_face_analyzer().model_versions["embedding"] == EMBEDDING_MODEL


def _jpeg(name: str) -> bytes:
    image = Image.open(FACES / name).convert("RGB")
    image.thumbnail((500, 500))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    return out.getvalue()


def test_enrolments_galleries_and_retirements_are_followed_from_the_tables(
    services: Services,
) -> None:
    kit_face = embedding_of("kit_harington_2.jpg", 300)
    obama_face = embedding_of("obama_1.jpg", 300)
    rose_face = embedding_of("rose_leslie_2.jpg", 300)
    queries = np.stack([kit_face, obama_face, rose_face])
    assert match_faces(services, queries) == [[], [], []]  # built, empty

    owner, _ = make_principal(services, "user")
    kit = enrol_cameo(services, owner, "kit.h", person="kit")
    # The index built a moment ago sees the enrolment at the next search: no rebuild, no lag.
    found = match_faces(services, queries)
    assert [m.subject_id for m in found[0]] == [kit]
    assert found[0][0].kind == "cameo" and found[0][0].owner_id == owner
    assert found[0][0].distance < MATCH_DISTANCE and found[1] == [] and found[2] == []

    analyzer = shared_face_analyzer()
    entry = add_reference_faces(
        services,
        analyzer,
        "pf-barack-obama",
        [ReferencePhoto("obama_2.jpg", _jpeg("obama_2.jpg"))],
        ADMIN,
    )
    found = match_faces(services, queries)
    assert [(m.kind, m.subject_id, m.owner_id) for m in found[1]] == [
        ("public_figure", "pf-barack-obama", None)
    ]
    assert found[1][0].distance < MATCH_DISTANCE

    # A fresh index rebuilt from the tables holds exactly what the followed one holds.
    followed = services.resource(LIKENESS_INDEX)
    rebuilt = LikenessIndex(services)
    rebuilt.rebuild()
    assert (
        rebuilt.index.subjects()
        == followed.index.subjects()
        == {
            ("cameo", kit),
            ("public_figure", "pf-barack-obama"),
        }
    )
    assert rebuilt.index.vector_count == followed.index.vector_count
    assert rebuilt.catch_up() == 0  # nothing after the position it rebuilt at

    ConsentService(services).retire(Actor(id=owner, role="user"), kit)
    remove_reference_face(services, "pf-barack-obama", entry.entry_id, ADMIN)
    assert match_faces(services, queries) == [[], [], []]
    assert followed.index.vector_count == 0
