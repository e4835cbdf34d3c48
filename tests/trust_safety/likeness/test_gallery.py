"""Public figures' face galleries: admins attach reference photos; the embeddings are kept,
encrypted, and the photos are not; every edit is an event without biometric data."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sqlalchemy import select, update

from core.db import transaction
from core.events import stream_id
from core.privacy import factory_keyring
from core.services import Services
from tests.trust_safety.uploads.media_factory import encode, gradient, photo
from tests.utils import make_principal
from tests.utils.bombs import bomb_png
from trust_safety.classifiers.face_model import embedding_version
from trust_safety.classifiers.faces import face_distance, shared_face_analyzer
from trust_safety.likeness.events import LIKENESS, gallery_stream_key
from trust_safety.likeness.gallery import (
    GalleryEntry,
    GalleryEntryRow,
    GalleryUnreadable,
    all_gallery_entries,
    figure_subject,
    gallery_entries_of,
    save_gallery_entry,
)

FIGURE = "pf-joe-biden"
ROUTE = f"/v1/moderation/public-figures/{FIGURE}/faces"


@pytest.fixture(scope="module")
def photos() -> dict[str, bytes]:
    names = ("biden_1.jpg", "biden_2.jpg", "obama_1.jpg", "two_people.jpg")
    return {name: encode(photo(name, 480), ".jpg") for name in names}


def files(photos: dict[str, bytes], *names: str) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("file", (name, photos[name], "image/jpeg")) for name in names]


def gallery_events(services: Services, figure: str = FIGURE) -> list[Any]:
    return services.store.read_stream(stream_id(LIKENESS, gallery_stream_key(figure)))


def test_entries_are_encrypted_at_rest_and_vanish_with_the_figures_key(services: Services) -> None:
    rows = np.random.default_rng(7).normal(0, 0.1, (3, 128)).astype(np.float32)
    entry = GalleryEntry(FIGURE, rows, "dlib_face_recognition_resnet_model_v1")
    other = GalleryEntry("pf-barack-obama", rows[:1], "dlib_face_recognition_resnet_model_v1")
    with transaction(services.sessions) as s:
        save_gallery_entry(s, entry)
        save_gallery_entry(s, other)
    with services.sessions() as s:
        (loaded, _) = list(all_gallery_entries(s))[::-1]  # figure order: obama, then biden
        assert loaded.entry_id == entry.entry_id and np.array_equal(loaded.embeddings, rows)
        stored = s.get(GalleryEntryRow, entry.entry_id)
        assert stored is not None and stored.embeddings == 3
        # Neither the floats nor the entry key are in the row in the clear.
        assert rows.astype("<f4").tobytes()[:64] not in bytes(stored.ciphertext)
        assert "$sealed" in stored.sealed_key
        assert [i.entry_id for i in gallery_entries_of(s, FIGURE)] == [entry.entry_id]
    # A ciphertext moved to another figure's row does not open (bound by associated data).
    with transaction(services.sessions) as s:
        s.execute(
            update(GalleryEntryRow)
            .where(GalleryEntryRow.entry_id == other.entry_id)
            .values(public_figure_id="pf-someone-else")
        )
    with services.sessions() as s, pytest.raises(GalleryUnreadable):
        list(all_gallery_entries(s))
    with transaction(services.sessions) as s:
        s.execute(
            update(GalleryEntryRow)
            .where(GalleryEntryRow.entry_id == other.entry_id)
            .values(public_figure_id="pf-barack-obama")
        )
    # Erasing the figure's subject key makes every entry of theirs unreadable: it reads absent.
    keyring = factory_keyring(services.sessions)
    assert keyring is not None
    with transaction(services.sessions) as s:
        assert keyring.erase(s, figure_subject(FIGURE)) == 1
    with services.sessions() as s:
        assert [e.public_figure_id for e in all_gallery_entries(s)] == ["pf-barack-obama"]


def test_an_admin_attaches_lists_and_removes_reference_faces(
    services: Services, client: Any, photos: dict[str, bytes]
) -> None:
    _, admin = make_principal(services, "admin", name="admin")
    added = client.post(ROUTE, headers=admin, files=files(photos, "biden_1.jpg", "biden_2.jpg"))
    assert added.status_code == 201, added.text
    body = added.json()
    assert body["public_figure_id"] == FIGURE and body["embeddings"] == 2
    assert body["model_version"] == embedding_version(shared_face_analyzer().model_versions)
    assert body["model_version"].startswith("dlib_face_recognition_resnet_model_v1/")
    entry_id = body["entry_id"]

    (event,) = gallery_events(services)
    assert event.type == "PublicFigureFaceAdded"
    assert event.payload == {
        "public_figure_id": FIGURE,
        "entry_id": entry_id,
        "model_version": body["model_version"],
        "embeddings": 2,
    }
    with services.sessions() as s:
        (entry,) = all_gallery_entries(s)
    # the two embeddings are of these photos (one person, so near each other)
    assert entry.embeddings.shape == (2, 128)
    assert face_distance(entry.embeddings[0], entry.embeddings[1]) < 0.6
    # the photos themselves were not kept anywhere under the data directory
    kept = [p for p in services.settings.data_dir.rglob("*") if p.suffix in {".jpg", ".png"}]
    assert kept == []

    listed = client.get(ROUTE, headers=admin)
    assert listed.status_code == 200
    assert [e["entry_id"] for e in listed.json()["entries"]] == [entry_id]
    assert "embedding" not in listed.text.replace('"embeddings":2', "")

    removed = client.delete(f"{ROUTE}/{entry_id}", headers=admin)
    assert removed.status_code == 204
    assert [e.type for e in gallery_events(services)] == [
        "PublicFigureFaceAdded",
        "PublicFigureFaceRemoved",
    ]
    assert gallery_events(services)[1].payload == {"public_figure_id": FIGURE, "entry_id": entry_id}
    with services.sessions() as s:
        assert list(all_gallery_entries(s)) == []
        assert s.scalars(select(GalleryEntryRow)).all() == []
    again = client.delete(f"{ROUTE}/{entry_id}", headers=admin)
    assert again.status_code == 404 and again.json()["code"] == "gallery_entry_not_found"
    assert client.get(ROUTE, headers=admin).json()["entries"] == []


def test_bad_photos_and_wrong_callers_get_clear_problems(
    services: Services, client: Any, photos: dict[str, bytes]
) -> None:
    _, admin = make_principal(services, "admin", name="admin")
    _, user = make_principal(services, "user", name="user")
    no_face = [("file", ("sky.png", encode(gradient(320, 240)), "image/png"))]

    def post(headers: dict[str, str], body: Any, route: str = ROUTE) -> Any:
        response = client.post(route, headers=headers, files=body)
        assert response.headers["content-type"].startswith("application/problem+json")
        return response.status_code, response.json()

    status, problem = post(admin, no_face)
    assert (status, problem["code"]) == (422, "invalid_reference_photo")
    assert "no face" in problem["detail"] and "'sky.png'" in problem["detail"]
    status, problem = post(admin, files(photos, "biden_1.jpg", "two_people.jpg"))
    assert (status, problem["code"]) == (422, "invalid_reference_photo")
    assert "photo 2" in problem["detail"] and "2 faces" in problem["detail"]
    status, problem = post(admin, files(photos, "biden_1.jpg", "obama_1.jpg"))
    assert status == 422 and "different people" in problem["detail"]
    status, problem = post(admin, files(photos, *(["biden_1.jpg"] * 11)))
    assert status == 422 and "1 to 10 photos" in problem["detail"]
    status, problem = post(admin, [("file", ("a.png", b"%PDF-1.7 not an image", "image/png"))])
    assert status == 415
    status, problem = post(admin, [("file", ("bomb.png", bomb_png(), "image/png"))])
    assert (status, problem["code"]) == (422, "media_limit_exceeded")
    status, problem = post(
        admin, files(photos, "biden_1.jpg"), "/v1/moderation/public-figures/pf-nobody/faces"
    )
    assert (status, problem["code"]) == (404, "public_figure_not_found")
    assert (
        client.get("/v1/moderation/public-figures/pf-nobody/faces", headers=admin).status_code
        == 404
    )
    assert post(user, files(photos, "biden_1.jpg"))[0] == 403
    assert post({}, files(photos, "biden_1.jpg"))[0] == 401
    assert client.get(ROUTE, headers=user).status_code == 403
    assert client.delete(f"{ROUTE}/pfg_x", headers=user).status_code == 403
    # nothing of any of that was recorded
    assert gallery_events(services) == []
    with services.sessions() as s:
        assert s.scalars(select(GalleryEntryRow)).all() == []
