"""Enrolment from the capture, the face template's life, liveness verdicts and age assurance.

Real dlib models on the real photos of tests/data/faces: a live capture is two photos of one
person (two moments, two head poses) plus a small zoom of each; a still capture is one photo
moved, rotated and scaled in its plane. Each capture is analysed once per process
(tests/utils/enrolment.py), except where the test is about the HTTP path itself.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select

from core.events import Actor
from core.identity import principal_stream
from core.privacy import erase_personal_data
from core.store import StoredEvent
from tests.utils import drain, make_principal
from tests.utils.enrolment import (
    alternate_live_frames,
    analysed,
    capture_files,
    enrol_cameo,
    faceless_frame,
    live_frames,
    mixed_frames,
    register_cameo,
    still_frames,
    two_people_frames,
)
from trust_safety.consent.enrolment import Capture
from trust_safety.consent.errors import EnrolmentUnderAge
from trust_safety.consent.facts import Audience
from trust_safety.consent.service import ConsentService, cameo_stream
from trust_safety.consent.settings import EnrolmentSettings
from trust_safety.consent.templates import FaceTemplateRow, all_templates, load_template

ADMIN = Actor(id="admin-1", role="admin")


def events(services: Any, stream: str) -> list[Any]:
    return list(services.store.read_stream(stream))


def post_capture(client: Any, headers: dict[str, str], frames: Any, **form: str) -> Any:
    body = {"handle": "kit_cam", "display_name": "Kit", **form}
    return client.post("/v1/cameos", headers=headers, data=body, files=capture_files(frames))


def _no_embedding_in(value: Any) -> bool:
    """No list of 16 or more numbers anywhere: an embedding has 128."""
    if isinstance(value, dict):
        return all(_no_embedding_in(v) for v in value.values())
    if isinstance(value, list):
        numbers = [v for v in value if isinstance(v, int | float)]
        return len(numbers) < 16 and all(_no_embedding_in(v) for v in value)
    return True


def test_an_accepted_capture_enrols_the_face_and_assures_the_owners_age(client, services):
    owner, headers = make_principal(services, "user", name="Kit", age_assured=False)
    response = post_capture(client, headers, live_frames("kit"))
    assert response.status_code == 201, response.text
    body = response.json()
    cameo = body["cameo_id"]
    scores = body["scores"]
    assert body["capture_kind"] == "frames" and body["age_check_passed"] is True
    assert scores["frames"] == 4 and scores["faces"] == 4
    assert scores["worst_identity_distance"] <= 0.6
    assert scores["pose_range"] >= scores["min_pose_range"] == 0.06
    assert scores["age_median"] >= 28 and scores["age_margin"] == 10
    # the stream: the registration and what the capture showed, never the template
    registered, enrolled = events(services, cameo_stream(cameo))
    assert (registered.type, enrolled.type) == ("CameoRegistered", "CameoEnrolled")
    assert "liveness_result" not in {k for k, v in registered.payload.items() if v is not None}
    assert set(enrolled.payload) == {
        "cameo_id",
        "owner_id",
        "capture_kind",
        "model_versions",
        "scores",
    }
    assert enrolled.payload["model_versions"]["embedding"] == (
        "dlib_face_recognition_resnet_model_v1"
    )
    assert _no_embedding_in(enrolled.payload) and _no_embedding_in(registered.payload)
    with services.sessions() as s:
        stored = s.scalar(
            select(StoredEvent.payload).where(
                StoredEvent.stream_id == cameo_stream(cameo), StoredEvent.version == 2
            )
        )
        # the age estimates are sealed at rest (the owner's personal data)
        assert "age_median" not in json.dumps(stored) and "$sealed" in json.dumps(stored)
        template = load_template(s, cameo)
        row = s.get(FaceTemplateRow, cameo)
    # the template: several embeddings of this face, encrypted at rest
    assert template is not None and template.owner_id == owner
    assert template.embeddings.shape == (int(scores["embeddings"]), 128)
    assert 2 <= template.embeddings.shape[0] <= 5
    assert row is not None and template.embeddings.tobytes()[:64] not in bytes(row.ciphertext)
    kit_faces = [f[0].embedding for f in analysed(live_frames("kit"))]
    nearest = [float(np.min(np.linalg.norm(template.embeddings - e, axis=1))) for e in kit_faces]
    assert max(nearest) < 0.6
    # the enrolment's own age check assured the account, recorded as the service's act
    assured = [e for e in events(services, principal_stream(owner)) if e.type == "AgeAssured"]
    assert len(assured) == 1 and assured[0].payload["source"] == "cameo_enrolment"
    assert assured[0].actor.id != owner
    me = client.get("/v1/age-assurance/me", headers=headers).json()
    assert me["assured"] is True and me["source"] == "cameo_enrolment"
    drain(services, ["consent-ledger"])
    shown = client.get(f"/v1/cameos/{cameo}", headers=headers).json()
    assert shown["face_template"] is True and shown["enrolled_at"] is not None
    assert shown["liveness"]["result"] == "passed" and shown["liveness"]["source"] == "capture"
    may = client.get(f"/v1/cameos/{cameo}/may-i-use", headers=headers).json()
    assert may["allowed"] is True and may["reason"] == "owner"


def test_a_selfie_video_is_sampled_and_enrolled(client, services, tmp_path):
    from core.video import encode_mp4

    _, headers = make_principal(services, "user", name="Rose")
    # each moment of the capture held for half a second, 8 fps: a 2 s clip
    frames = np.stack([f for f in live_frames("rose") for _ in range(4)])
    clip = encode_mp4(frames, 8, tmp_path / "selfie.mp4").read_bytes()
    response = client.post(
        "/v1/cameos",
        headers=headers,
        data={"handle": "rose_cam", "display_name": "Rose"},
        files={"video": ("selfie.mp4", clip, "video/mp4")},
    )
    assert response.status_code == 201, response.text
    assert response.json()["capture_kind"] == "video"
    assert response.json()["scores"]["frames"] == 8
    # a clip sent as a frame, or nothing at all, is told how to send the capture
    wrong = client.post(
        "/v1/cameos",
        headers=headers,
        data={"handle": "rose_two", "display_name": "Rose"},
        files=[("frames", ("a.mp4", clip, "video/mp4"))] * 3,
    )
    assert wrong.status_code == 422 and wrong.json()["code"] == "enrolment_capture_invalid"


@pytest.mark.parametrize(
    ("frames", "code", "hint"),
    [
        (lambda: still_frames("kit_harington_1.jpg"), "enrolment_still_capture", "turning"),
        (lambda: still_frames("obama_1.jpg"), "enrolment_still_capture", "turning"),
        (two_people_frames, "enrolment_several_faces", "alone"),
        (lambda: mixed_frames("kit", "rose"), "enrolment_identity_mismatch", "yourself only"),
        (lambda: (faceless_frame(), *live_frames("kit")[1:]), "enrolment_no_face", "frame 1 of 4"),
    ],
    ids=["still-kit", "still-obama", "two-people", "mixed-identities", "no-face"],
)
def test_refused_captures_say_why_and_leave_nothing(client, services, frames, code, hint):
    owner, headers = make_principal(services, "user", name="Someone", age_assured=False)
    response = post_capture(client, headers, frames())
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == code and hint in problem["detail"]
    assert "/" not in problem["detail"].replace("/v1/", "")  # no server path
    with services.sessions() as s:
        assert s.scalars(select(FaceTemplateRow)).all() == []
        assert s.scalars(select(StoredEvent).where(StoredEvent.category == "consent")).all() == []
    assert [e.type for e in events(services, principal_stream(owner))] == [
        "PrincipalCreated",
        "TokenIssued",
    ]


def test_the_age_bar_refuses_an_estimate_under_it(client, services):
    """There are no photos of minors (nor may there be): the threshold and its plumbing are
    tested by a policy whose adult age is 80, which makes these adults (estimated 27-71)
    fall short. The same capture passes under the default policy (the first test)."""
    services.settings = services.settings.with_section(EnrolmentSettings(adult_age=80))
    owner, headers = make_principal(services, "user", name="Young", age_assured=False)
    response = post_capture(client, headers, live_frames("kit"))
    assert response.status_code == 422 and response.json()["code"] == "enrolment_under_age"
    assert "age-assurance provider" in response.json()["detail"]
    assert client.get("/v1/age-assurance/me", headers=headers).json()["assured"] is False
    # an account whose age a provider attested enrols all the same; the capture's check is
    # recorded as not passed and assures nothing
    provider, provider_h = make_principal(services, "age_assurance_provider", name="Vendor")
    attested = client.post(
        "/v1/age-assurance/attestations",
        headers=provider_h,
        json={"principal_id": owner, "reference": "vendor-check-81"},
    )
    assert attested.status_code == 201 and attested.json()["recorded"] is True
    enrolled = post_capture(client, headers, live_frames("kit"))
    assert enrolled.status_code == 201 and enrolled.json()["age_check_passed"] is False
    sources = [
        e.payload["source"]
        for e in events(services, principal_stream(owner))
        if e.type == "AgeAssured"
    ]
    assert sources == ["provider"]


def test_the_age_bar_is_the_policys_in_the_service_too(services):
    strict = ConsentService(services, policy=EnrolmentSettings(adult_age=40, age_margin=5))
    owner, _ = make_principal(services, "user", name="Kit", age_assured=False)
    frames = live_frames("kit")  # estimated 32-36
    with pytest.raises(EnrolmentUnderAge) as refused:
        strict.register(
            Actor(id=owner, role="user"),
            handle="kit_strict",
            display_name="Kit",
            audience=Audience.ONLY_ME,
            capture=Capture("frames", frames),
            faces=analysed(frames),
        )
    assert "45" in refused.value.detail and refused.value.status == 422


def test_only_a_liveness_provider_records_a_verdict_never_the_owner(client, services):
    owner, owner_h = make_principal(services, "user", "liveness_provider", name="Ada")
    _, stranger_h = make_principal(services, "user", name="Bo")
    _, provider_h = make_principal(services, "liveness_provider", name="IDV vendor")
    cameo = enrol_cameo(services, owner, "ada_cam", person="kit")
    verdict = {
        "liveness_reference": "idv:check/1",
        "liveness_result": "failed",
        "liveness_checked_at": "2026-12-01T10:00:00+00:00",
    }
    own = client.post(f"/v1/cameos/{cameo}/liveness", headers=owner_h, json=verdict)
    assert own.status_code == 403 and own.json()["code"] == "consent.owner_cannot_record_liveness"
    other = client.post(f"/v1/cameos/{cameo}/liveness", headers=stranger_h, json=verdict)
    assert other.status_code == 403 and other.json()["code"] == "forbidden"
    recorded = client.post(f"/v1/cameos/{cameo}/liveness", headers=provider_h, json=verdict)
    assert recorded.status_code == 200, recorded.text
    drain(services, ["consent-ledger"])
    may = client.get(f"/v1/cameos/{cameo}/may-i-use", headers=owner_h).json()
    assert may == {"cameo_id": cameo, "allowed": False, "reason": "liveness_not_passed"}
    last = events(services, cameo_stream(cameo))[-1]
    assert last.type == "CameoLivenessRecorded" and last.actor.role == "liveness_provider"
    missing = client.post("/v1/cameos/cam_nope/liveness", headers=provider_h, json=verdict)
    assert missing.status_code == 404


def test_generating_and_uploading_need_an_assured_account(client, services):
    from tests.utils.enrolment import png

    user, headers = make_principal(services, "user", name="New", age_assured=False)
    request = {"prompt": "a paper boat on a pond", "duration_s": 2.0}
    upload = {"file": ("pond.png", png(faceless_frame()), "image/png")}
    for response in (
        client.post("/v1/generations", headers=headers, json=request),
        client.post("/v1/uploads", headers=headers, files=upload),
    ):
        assert response.status_code == 403
        assert response.json()["code"] == "age_assurance_required"
        assert "age-assurance provider" in response.json()["detail"]
    # nobody assures themself: not the user, not a provider about their own account
    _, provider_h = make_principal(services, "age_assurance_provider", name="Vendor")
    provider = client.get("/v1/age-assurance/me", headers=provider_h).json()["principal_id"]
    self_attested = client.post(
        "/v1/age-assurance/attestations",
        headers=provider_h,
        json={"principal_id": provider, "reference": "me"},
    )
    assert self_attested.status_code == 403
    assert self_attested.json()["code"] == "age_assurance_self_attestation"
    by_user = client.post(
        "/v1/age-assurance/attestations",
        headers=headers,
        json={"principal_id": user, "reference": "trust me"},
    )
    assert by_user.status_code == 403
    unknown = client.post(
        "/v1/age-assurance/attestations",
        headers=provider_h,
        json={"principal_id": "p_nobody", "reference": "x"},
    )
    assert unknown.status_code == 404
    attest = {"principal_id": user, "reference": "vendor-check-7"}
    first = client.post("/v1/age-assurance/attestations", headers=provider_h, json=attest)
    again = client.post("/v1/age-assurance/attestations", headers=provider_h, json=attest)
    assert (first.json()["recorded"], again.json()["recorded"]) == (True, False)
    assert client.post("/v1/generations", headers=headers, json=request).status_code == 202
    assert client.post("/v1/uploads", headers=headers, files=upload).status_code == 201
    assured = [e for e in events(services, principal_stream(user)) if e.type == "AgeAssured"]
    assert len(assured) == 1 and assured[0].actor.role == "age_assurance_provider"
    assert assured[0].payload["reference"] == "vendor-check-7"


def test_an_account_assured_by_its_enrolment_may_generate(client, services):
    _, headers = make_principal(services, "user", name="Alex", age_assured=False)
    request = {"prompt": "a paper boat on a pond", "duration_s": 2.0}
    assert client.post("/v1/generations", headers=headers, json=request).status_code == 403
    register_cameo(client, headers, "alex_cam", person="alex")
    assert client.post("/v1/generations", headers=headers, json=request).status_code == 202


def test_reenrolment_replaces_the_template_and_keeps_the_person(client, services):
    owner, headers = make_principal(services, "user", name="Kit")
    _, other_h = make_principal(services, "user", name="Bo")
    cameo = register_cameo(client, headers, "kit_cam", person="kit")
    with services.sessions() as s:
        before = load_template(s, cameo)
    assert before is not None
    url = f"/v1/cameos/{cameo}/enrolment"
    again = client.post(url, headers=headers, files=capture_files(alternate_live_frames("kit")))
    assert again.status_code == 200, again.text
    assert again.json()["stream_version"] == 3
    assert again.json()["scores"]["previous_template_distance"] < 0.6
    with services.sessions() as s:
        after = load_template(s, cameo)
        rows = s.scalars(select(FaceTemplateRow)).all()
    assert after is not None and len(rows) == 1  # replaced, not added
    assert not np.array_equal(before.embeddings, after.embeddings)
    assert after.enrolled_at > before.enrolled_at
    types = [e.type for e in events(services, cameo_stream(cameo))]
    assert types == ["CameoRegistered", "CameoEnrolled", "CameoEnrolled"]
    # another person's face cannot be put behind this cameo
    swap = client.post(url, headers=headers, files=capture_files(live_frames("rose")))
    assert swap.status_code == 422 and swap.json()["code"] == "enrolment_identity_mismatch"
    # nor can anyone else enrol it, or see that it exists
    theirs = client.post(url, headers=other_h, files=capture_files(live_frames("kit")))
    assert theirs.status_code == 404
    with services.sessions() as s:
        kept = load_template(s, cameo)
    assert kept is not None and np.array_equal(kept.embeddings, after.embeddings)


def test_retiring_destroys_the_template(client, services):
    owner, headers = make_principal(services, "user", name="Kit")
    cameo = enrol_cameo(services, owner, "kit_cam", person="kit")
    other, _ = make_principal(services, "user", name="Rose")
    kept = enrol_cameo(services, other, "rose_cam", person="rose")
    assert client.post(f"/v1/cameos/{cameo}/retire", headers=headers).status_code == 200
    with services.sessions() as s:
        assert load_template(s, cameo) is None and s.get(FaceTemplateRow, cameo) is None
        assert [t.cameo_id for t in all_templates(s)] == [kept]
    last = events(services, cameo_stream(cameo))[-2:]
    assert [e.type for e in last] == ["CameoRetired", "CameoTemplateDestroyed"]
    assert last[1].payload == {"cameo_id": cameo, "reason": "retired"}
    drain(services, ["consent-ledger"])
    shown = client.get(f"/v1/cameos/{cameo}", headers=headers).json()
    assert shown["face_template"] is False and shown["retired_at"] is not None
    history = client.get(f"/v1/cameos/{cameo}/history", headers=headers).json()["history"]
    assert [h["action"] for h in history][-2:] == ["retired", "template_destroyed"]


def test_erasing_the_owners_data_destroys_the_template(services):
    owner, _ = make_principal(services, "user", name="Kit")
    cameo = enrol_cameo(services, owner, "kit_cam", person="kit")
    other, _ = make_principal(services, "user", name="Rose")
    kept = enrol_cameo(services, other, "rose_cam", person="rose")
    report = erase_personal_data(services, owner, ADMIN, settle_s=0.0)
    assert report.read_model_rows["consent_face_templates"] == 1
    with services.sessions() as s:
        assert s.get(FaceTemplateRow, cameo) is None
        assert [t.cameo_id for t in all_templates(s)] == [kept]
    stream = events(services, cameo_stream(cameo))
    assert stream[-1].type == "CameoTemplateDestroyed"
    assert stream[-1].payload == {"cameo_id": cameo, "reason": "erased"}
    # what the enrolment measured of the person reads as erased too
    enrolled = next(e for e in stream if e.type == "CameoEnrolled")
    assert enrolled.payload["scores"] == {}
    assert enrolled.payload["model_versions"]["embedding"].startswith("dlib")
