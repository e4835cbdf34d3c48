"""Face templates at rest: encrypted under a per-cameo key sealed by the owner's subject key."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from sqlalchemy import select

from core.db import transaction
from core.privacy import factory_keyring
from tests.utils import make_principal
from trust_safety.consent.templates import (
    FaceTemplate,
    FaceTemplateRow,
    all_templates,
    destroy_template,
    load_template,
    save_template,
    template_cameos_of,
)

WHEN = datetime(2026, 12, 15, 10, 0, tzinfo=UTC)


def _template(cameo_id: str, owner_id: str, seed: int, k: int = 3) -> FaceTemplate:
    rows = np.random.default_rng(seed).normal(0, 0.1, (k, 128)).astype(np.float32)
    return FaceTemplate(cameo_id, owner_id, rows, "dlib_face_recognition_resnet_model_v1", WHEN)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def services(request, make_services):
    return make_services(request.param)


def test_round_trip_replacement_and_destroy(services):
    owner, _ = make_principal(services, "user", name="Ada")
    first, second = _template("cam_a", owner, 1), _template("cam_a", owner, 2, k=5)
    with transaction(services.sessions) as s:
        save_template(s, first)
        save_template(s, _template("cam_b", owner, 3))
    with services.sessions() as s:
        loaded = load_template(s, "cam_a")
        assert loaded is not None
        assert np.array_equal(loaded.embeddings, first.embeddings)
        assert loaded.embeddings.dtype == np.float32 and loaded.embeddings.shape == (3, 128)
        assert (loaded.owner_id, loaded.model_version, loaded.enrolled_at) == (
            owner,
            first.model_version,
            WHEN,
        )
        assert load_template(s, "cam_missing") is None
    with transaction(services.sessions) as s:
        save_template(s, second)  # re-enrolment replaces, it does not add
    with services.sessions() as s:
        replaced = load_template(s, "cam_a")
        assert replaced is not None and np.array_equal(replaced.embeddings, second.embeddings)
        assert [t.cameo_id for t in all_templates(s)] == ["cam_a", "cam_b"]
        assert template_cameos_of(s, owner) == ["cam_a", "cam_b"]
    with transaction(services.sessions) as s:
        assert destroy_template(s, "cam_a") is True
        assert destroy_template(s, "cam_a") is False
    with services.sessions() as s:
        assert load_template(s, "cam_a") is None
        assert [t.cameo_id for t in all_templates(s)] == ["cam_b"]
        assert s.get(FaceTemplateRow, "cam_a") is None


def test_the_database_holds_no_float_bytes_and_each_cameo_its_own_key(services):
    owner, _ = make_principal(services, "user", name="Bo")
    template = _template("cam_c", owner, 4)
    same_faces = FaceTemplate("cam_d", owner, template.embeddings, template.model_version, WHEN)
    with transaction(services.sessions) as s:
        save_template(s, template)
        save_template(s, same_faces)
    with services.sessions() as s:
        rows = {r.cameo_id: r for r in s.scalars(select(FaceTemplateRow))}
    raw = template.embeddings.astype("<f4").tobytes()
    for row in rows.values():
        blob = bytes(row.ciphertext)
        assert len(blob) >= len(raw)
        # not one embedding, nor any 16-byte run of its floats, is stored in the clear
        assert all(raw[i : i + 16] not in blob for i in range(0, len(raw) - 16, 4))
        assert "cameo_key" not in str(row.sealed_key) and "$sealed" in row.sealed_key
    # the same embeddings under two cameos: two keys, two different ciphertexts
    assert bytes(rows["cam_c"].ciphertext) != bytes(rows["cam_d"].ciphertext)
    assert rows["cam_c"].sealed_key != rows["cam_d"].sealed_key


def test_a_template_moved_to_another_cameo_does_not_open(services):
    owner, _ = make_principal(services, "user", name="Cy")
    with transaction(services.sessions) as s:
        save_template(s, _template("cam_e", owner, 5))
        save_template(s, _template("cam_f", owner, 6))
    with transaction(services.sessions) as s:
        e, f = s.get(FaceTemplateRow, "cam_e"), s.get(FaceTemplateRow, "cam_f")
        assert e is not None and f is not None
        f.sealed_key, f.ciphertext = e.sealed_key, e.ciphertext
    from trust_safety.consent.templates import TemplateUnreadable

    with services.sessions() as s, pytest.raises(TemplateUnreadable):
        load_template(s, "cam_f")


def test_erasing_the_owners_key_makes_the_template_unreadable(services):
    owner, _ = make_principal(services, "user", name="Di")
    other, _ = make_principal(services, "user", name="Ed")
    with transaction(services.sessions) as s:
        save_template(s, _template("cam_g", owner, 7))
        save_template(s, _template("cam_h", other, 8))
    keyring = factory_keyring(services.sessions)
    assert keyring is not None
    with transaction(services.sessions) as s:
        assert keyring.erase(s, owner) >= 1
    with services.sessions() as s:
        # the row is still there, its key is not: it reads as absent, everywhere
        assert s.get(FaceTemplateRow, "cam_g") is not None
        assert load_template(s, "cam_g") is None
        assert [t.cameo_id for t in all_templates(s)] == ["cam_h"]


def test_a_template_must_be_a_few_finite_embeddings(services):
    owner, _ = make_principal(services, "user", name="Fa")
    bad = [
        np.zeros((0, 128), np.float32),
        np.zeros((2, 64), np.float32),
        np.full((1, 128), np.nan, np.float32),
        np.zeros((33, 128), np.float32),
    ]
    for embeddings in bad:
        with transaction(services.sessions) as s, pytest.raises(ValueError):
            save_template(s, FaceTemplate("cam_x", owner, embeddings, "m", WHEN))
