"""Likeness matches: output moderation finds enrolled cameos' faces in generated videos, decides
consent per request, and records each match; the owner sees them, with time ranges and a
thumbnail only they can open, and removes, reports or archives them."""

from __future__ import annotations

import base64
import io
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select

from contracts.ports import BLOB_STORE
from core.events import Actor, RecordedEvent, stream_id
from core.services import Services
from core.store import StoredEvent
from core.video import encode_mp4
from tests.generator.helpers import request_and_approve
from tests.trust_safety.likeness.clips import FPS, HEIGHT, WIDTH, face_clip, memo_classifiers
from tests.utils import contract_events as ce
from tests.utils import drain, make_principal
from tests.utils.enrolment import enrol_cameo
from trust_safety.classifiers.face_model import MATCH_DISTANCE
from trust_safety.classifiers.faces import shared_face_analyzer
from trust_safety.consent.facts import Audience
from trust_safety.consent.service import ConsentService
from trust_safety.likeness.matches import (
    MATCHES,
    Archive,
    LikenessMatchNotFound,
    ThumbnailUnreadable,
    match_stream,
    merge_ranges,
    open_thumbnail,
    seal_thumbnail,
)
from trust_safety.output.processor import CLASSIFIERS

CONSUMERS = [
    "output-moderation",
    "likeness-matches",
    "consent-ledger",
    "asset-visibility",
    "cases-queue",
    "cases-assets",  # a report names a published video the cases domain has seen
]


def test_consecutive_sampled_frames_merge_into_time_ranges() -> None:
    times = [0.0, 0.5, 1.0, 1.5, 2.0, 2.5]
    ranges = merge_ranges(times, [True, True, False, False, True, True], 0.5, 3.0)
    assert [(r.start_s, r.end_s) for r in ranges] == [(0.0, 1.0), (2.0, 3.0)]
    one = merge_ranges(times, [False, False, True, False, False, False], 0.5, 3.0)
    assert [(r.start_s, r.end_s) for r in one] == [(1.0, 1.5)]
    # The last range stops at the end of the video.
    assert merge_ranges([0.0, 0.5], [False, True], 0.5, 0.8)[0].end_s == 0.8
    assert merge_ranges(times, [False] * 6, 0.5, 3.0) == []


def test_a_thumbnail_opens_only_with_its_key_and_for_its_match() -> None:
    sealed, key = seal_thumbnail(b"\xff\xd8jpeg bytes", "cam_a", "g-1")
    assert b"jpeg bytes" not in sealed
    assert open_thumbnail(sealed, key, "cam_a", "g-1") == b"\xff\xd8jpeg bytes"
    _, other_key = seal_thumbnail(b"x", "cam_a", "g-1")
    for args in [
        (sealed, other_key, "cam_a", "g-1"),
        (sealed, key, "cam_b", "g-1"),  # moved to another cameo's match
        (sealed, key, "cam_a", "g-2"),
        (sealed, "[erased]", "cam_a", "g-1"),  # the owner's data was erased
        (sealed[:-1] + bytes([sealed[-1] ^ 1]), key, "cam_a", "g-1"),
    ]:
        with pytest.raises(ThumbnailUnreadable):
            open_thumbnail(*args)


@cache
def _encoded(tmp: Path) -> Path:
    return encode_mp4(face_clip(), FPS, tmp / "face.mp4")


def _completed(
    services: Services, tmp: Path, generation_id: str, requester: str, cameo_ids: list[str]
) -> None:
    """The gate approved the request and the generator rendered the clip with the face."""
    request_and_approve(
        services,
        generation_id,
        requester,
        "a walk in the park",
        cameo_ids=cameo_ids,
        width=WIDTH,
        height=HEIGHT,
        duration_s=3.0,
        fps=FPS,
    )
    blob = services.port(BLOB_STORE).put_file(_encoded(tmp))
    ce.append(
        services,
        ce.generation_completed(
            generation_id,
            master_blob=blob,
            width=WIDTH,
            height=HEIGHT,
            fps=FPS,
            frames=3 * FPS,
            duration_s=3.0,
        ),
    )


def _events(services: Services, sid: str) -> list[RecordedEvent]:
    return services.store.read_stream(sid)


@pytest.fixture
def world(services: Services, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    services.override(CLASSIFIERS, list(memo_classifiers()))
    owner, owner_h = make_principal(services, "user")
    friend, friend_h = make_principal(services, "user")
    stranger, stranger_h = make_principal(services, "user")
    cameo = enrol_cameo(services, owner, "kit.h", person="kit", audience=Audience.APPROVED_PEOPLE)
    consent = ConsentService(services)
    consent.grant(Actor(id=owner, role="user"), cameo, friend, None)
    tmp = tmp_path_factory.mktemp("clips")
    _completed(services, tmp, "g-stranger", stranger, [])  # face, cameo not named
    _completed(services, tmp, "g-own", owner, [])  # the owner's own video
    _completed(services, tmp, "g-friend", friend, [cameo])  # named, and granted
    _completed(services, tmp, "g-unnamed", friend, [])  # granted, but not named
    drain(services, CONSUMERS)
    return {
        "cameo": cameo,
        "owner": (owner, owner_h),
        "friend": (friend, friend_h),
        "stranger": (stranger, stranger_h),
    }


def _matched(services: Services, cameo: str, generation_id: str) -> dict[str, Any]:
    (event,) = _events(services, match_stream(cameo, generation_id))
    assert event.type == "LikenessMatched"
    return dict(event.payload)


def test_every_face_of_a_cameo_in_an_output_is_a_match_and_consent_decides_the_output(
    services: Services, world: dict[str, Any]
) -> None:
    cameo = world["cameo"]
    decisions = {}
    for gid in ("g-stranger", "g-own", "g-friend", "g-unnamed"):
        (moderated,) = _events(services, stream_id("output", gid))
        decisions[gid] = moderated.payload
    assert decisions["g-own"]["decision"] == "allow"
    assert decisions["g-friend"]["decision"] == "allow"
    for gid in ("g-stranger", "g-unnamed"):
        assert decisions[gid]["decision"] == "block"
        assert decisions[gid]["blocked_categories"] == ["likeness"]
        likeness = next(v for v in decisions[gid]["verdicts"] if v["category"] == "likeness")
        assert likeness["subjects"] == [f"cameo:{cameo}"]
    # Harmless adult content: minors evaluated from the faces' ages, not blocked.
    minors = next(v for v in decisions["g-own"]["verdicts"] if v["category"] == "minors")
    assert minors["status"] == "evaluated" and minors["reason"] == "no_minor_faces"

    expected = {
        "g-stranger": (False, "not_named"),
        "g-own": (True, "owner"),
        "g-friend": (True, "named_and_allowed"),
        "g-unnamed": (False, "not_named"),
    }
    for gid, (consented, reason) in expected.items():
        m = _matched(services, cameo, gid)
        assert (m["consented"], m["consent_reason"]) == (consented, reason), gid
        assert m["output_blocked"] is not consented
        assert m["matched_as"] == "cameo" and m["owner_id"] == world["owner"][0]
        assert m["ranges"] == [{"start_s": 0.0, "end_s": 1.0}, {"start_s": 2.0, "end_s": 3.0}]
        assert m["frames_matched"] == 4 and m["frames_sampled"] == 6
        assert 0 < m["best_distance"] < MATCH_DISTANCE
        assert m["model_versions"]["embedding"] == "dlib_face_recognition_resnet_model_v1"
        assert m["thumbnail_blob"].startswith("sha256:")

    # The frame scores record every face (box, age, match distance), never an embedding.
    frame = decisions["g-stranger"]["frame_scores"][0]
    (face,) = frame["faces"]
    assert face["matches"][0]["subject_id"] == cameo and face["age"] > 18
    assert "embedding" not in face
    # The thumbnail's key is sealed in the stored event (the owner's personal data).
    with services.sessions() as s:
        stored = s.scalars(
            select(StoredEvent).where(StoredEvent.stream_id == match_stream(cameo, "g-own"))
        ).one()
    raw = stored.payload if isinstance(stored.payload, dict) else {}
    assert isinstance(raw.get("thumbnail_key"), dict) and "$sealed" in raw["thumbnail_key"]


def test_the_owner_sees_every_video_with_their_face_and_only_they_do(
    services: Services, client: Any, world: dict[str, Any]
) -> None:
    cameo = world["cameo"]
    _, owner_h = world["owner"]
    url = f"/v1/cameos/{cameo}/likeness"
    view = client.get(url, headers=owner_h)
    assert view.status_code == 200, view.text
    body = view.json()
    videos = {v["generation_id"]: v for v in body["videos"]}
    assert set(videos) == {"g-stranger", "g-own", "g-friend", "g-unnamed"}
    assert videos["g-friend"]["named"] and videos["g-friend"]["detected"]
    assert not videos["g-stranger"]["named"] and videos["g-stranger"]["detected"]
    assert videos["g-stranger"]["status"] == "blocked"
    assert videos["g-own"]["status"] == "draft"
    assert videos["g-own"]["time_ranges"] == [
        {"start_s": 0.0, "end_s": 1.0},
        {"start_s": 2.0, "end_s": 3.0},
    ]
    refused = {(r["generation_id"], r["stage"]) for r in body["refused_attempts"]}
    assert refused == {("g-stranger", "output"), ("g-unnamed", "output")}

    thumb = client.get(videos["g-stranger"]["thumbnail_url"], headers=owner_h)
    assert thumb.status_code == 200 and thumb.headers["cache-control"] == "private, no-store"
    data_url = thumb.json()["data_url"]
    assert data_url.startswith("data:image/jpeg;base64,")
    jpeg_bytes = base64.b64decode(data_url.split(",", 1)[1])
    image = np.asarray(Image.open(io.BytesIO(jpeg_bytes)).convert("RGB"))
    assert max(image.shape[:2]) <= 128
    # It is the owner's face: the analyzer finds it and it matches the enrolled template.
    big = np.asarray(Image.fromarray(image).resize((image.shape[1] * 3, image.shape[0] * 3)))
    faces = shared_face_analyzer().analyze(big, estimate_age=False)
    assert len(faces) == 1

    # Nobody else sees the view or the face: not the creator, not an admin.
    _, admin_h = make_principal(services, "user", "admin")
    for headers in (world["stranger"][1], world["friend"][1], admin_h):
        assert client.get(url, headers=headers).status_code == 404
        assert client.get(videos["g-own"]["thumbnail_url"], headers=headers).status_code == 404
    assert client.get(url).status_code == 401
    assert (
        client.get(f"/v1/cameos/{cameo}/likeness/no-such/thumbnail", headers=owner_h).status_code
        == 404
    )
    assert client.get("/v1/cameos/bad%20id/likeness", headers=owner_h).status_code == 422


def test_the_owner_archives_removes_and_reports(
    services: Services, client: Any, world: dict[str, Any]
) -> None:
    cameo = world["cameo"]
    owner, owner_h = world["owner"]
    base = f"/v1/cameos/{cameo}/likeness"

    # archive: an event on the match stream; the match leaves the default list
    assert client.post(f"{base}/g-own/archive", headers=world["stranger"][1]).status_code == 404
    assert client.post(f"{base}/g-own/archive", headers=owner_h).status_code == 200
    assert client.post(f"{base}/g-own/archive", headers=owner_h).status_code == 200  # idempotent
    assert [e.type for e in _events(services, match_stream(cameo, "g-own"))] == [
        "LikenessMatched",
        "LikenessMatchArchived",
    ]
    drain(services, CONSUMERS)
    listed = {v["generation_id"] for v in client.get(base, headers=owner_h).json()["videos"]}
    assert "g-own" not in listed
    everything = client.get(base, headers=owner_h, params={"include_archived": "true"}).json()
    assert {v["generation_id"]: v["archived"] for v in everything["videos"]}["g-own"] is True
    assert client.post(f"{base}/g-none/archive", headers=owner_h).status_code == 404

    # remove: the consent ledger's hold, for a video that does not name the cameo too
    publish(services, "g-unnamed", "asset-unnamed", world["friend"][0])
    drain(services, CONSUMERS)
    blocked = client.post(f"{base}/g-stranger/remove", headers=owner_h, json={})
    assert blocked.status_code == 409  # a blocked output was never published
    removed = client.post(f"{base}/g-friend/remove", headers=owner_h, json={"reason": "no"})
    assert removed.status_code == 202, removed.text
    assert (
        client.post(f"{base}/g-friend/remove", headers=world["friend"][1], json={}).status_code
        == 404
    )
    cameo_events = [e for e in _events(services, stream_id("consent", cameo))]
    assert cameo_events[-1].type == "CameoAppearanceRemoved"
    assert cameo_events[-1].payload["generation_id"] == "g-friend"
    drain(services, CONSUMERS)
    asset = _events(services, stream_id("asset", "g-friend"))
    assert asset[-1].type == "AssetVisibilityChanged"
    assert asset[-1].payload["hold"]["key"] == f"cameo:{cameo}"
    videos = {v["generation_id"]: v for v in client.get(base, headers=owner_h).json()["videos"]}
    assert videos["g-friend"]["status"] == "removed" and videos["g-friend"]["removed_by_you"]
    again = client.post(f"{base}/g-friend/remove", headers=owner_h, json={})
    assert again.status_code == 409

    # report: a draft cannot be reported; a published video files a report in the cases queue
    assert client.post(f"{base}/g-own/report", headers=owner_h, json={}).status_code == 409
    reported = client.post(f"{base}/g-unnamed/report", headers=owner_h, json={})
    assert reported.status_code == 409  # blocked: never visible to anyone but its creator
    publish(services, "g-own", "asset-own", owner)
    drain(services, CONSUMERS)
    filed = client.post(
        f"{base}/g-own/report", headers=owner_h, json={"explanation": "this is my face, not ok"}
    )
    assert filed.status_code == 201, filed.text
    report_id, case_id = filed.json()["report_id"], filed.json()["case_id"]
    assert case_id.startswith("asset:asset-own:")
    case = _events(services, stream_id("report", case_id))
    assert case and case[0].type == "ReportFiled"
    assert case[0].payload["report_category"] == "likeness_without_consent"
    assert _events(services, match_stream(cameo, "g-own"))[-1].type == "LikenessMatchReported"
    assert client.post(f"{base}/g-own/report", headers=owner_h, json={}).status_code == 409
    drain(services, CONSUMERS)
    everything = client.get(base, headers=owner_h, params={"include_archived": "true"}).json()
    own = next(v for v in everything["videos"] if v["generation_id"] == "g-own")
    assert own["report_id"] == report_id and own["status"] == "published"


def publish(services: Services, generation_id: str, asset_id: str, requester: str) -> None:
    ce.append(
        services,
        ce.asset_signed(generation_id, asset_id, requester),
        ce.asset_published(generation_id, asset_id),
    )


def test_a_prompt_refused_for_the_cameo_is_a_refused_attempt(
    services: Services, client: Any, world: dict[str, Any]
) -> None:
    cameo = world["cameo"]
    stranger, _ = world["stranger"]
    ce.append(
        services,
        ce.generation_requested("g-asked", stranger, cameo_ids=[cameo]),
        ce.prompt_moderated(
            "g-asked",
            stranger,
            approved=False,
            reason_category="cameo_consent",
            stage="consent",
            consent={
                "allowed": False,
                "decisions": [
                    {
                        "cameo_id": cameo,
                        "principal_id": stranger,
                        "allowed": False,
                        "reason": "not_approved",
                    }
                ],
            },
        ),
    )
    drain(services, ["likeness-matches"])
    body = client.get(f"/v1/cameos/{cameo}/likeness", headers=world["owner"][1]).json()
    prompt = [r for r in body["refused_attempts"] if r["generation_id"] == "g-asked"]
    assert prompt == [
        {
            "generation_id": "g-asked",
            "requester_id": stranger,
            "stage": "consent",
            "reason": "not_approved",
            "at": prompt[0]["at"],
        }
    ]


def test_the_aggregate_refuses_someone_elses_match() -> None:
    from core.aggregate import fold

    state = fold(MATCHES, []).state
    with pytest.raises(LikenessMatchNotFound):
        MATCHES.decide(state, Archive("anyone"))


def test_the_view_rebuilds_to_the_same_rows(services: Services, world: dict[str, Any]) -> None:
    from trust_safety.likeness.owner_view import LikenessMatches, LikenessMatchRow

    def rows() -> list[tuple[Any, ...]]:
        with services.read_sessions() as s:
            return [
                (r.cameo_id, r.generation_id, r.consented, r.output_blocked, r.ranges)
                for r in s.scalars(
                    select(LikenessMatchRow).order_by(LikenessMatchRow.generation_id)
                )
            ]

    before = rows()
    assert len(before) == 4
    projection = LikenessMatches()
    with services.sessions() as s, s.begin():
        projection.reset(s)
    assert rows() == []
    with services.sessions() as s, s.begin():
        for event in services.store.iter_all(categories=projection.categories):
            projection.apply(s, event)
    assert rows() == before


def test_a_public_figures_face_passes_only_through_their_own_cameo(
    services: Services, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from tests.trust_safety.likeness.clips import jpeg
    from trust_safety.likeness.gallery import ReferencePhoto, add_reference_faces

    services.override(CLASSIFIERS, list(memo_classifiers()))
    admin = Actor(id="admin-1", role="admin")
    analyzer = shared_face_analyzer()
    for figure, photo_name in (("pf-barack-obama", "obama_2.jpg"), ("pf-joe-biden", "biden_2.jpg")):
        add_reference_faces(
            services, analyzer, figure, [ReferencePhoto(photo_name, jpeg(photo_name))], admin
        )
    obama, _ = make_principal(services, "user")
    stranger, _ = make_principal(services, "user")
    # Obama's own cameo, enrolled from a capture and linked to the figure by an operator.
    cameo = enrol_cameo(
        services, obama, "barack", person="obama", public_figure_id="pf-barack-obama"
    )
    tmp = tmp_path_factory.mktemp("figures")

    def rendered(generation_id: str, requester: str, photo_name: str) -> None:
        request_and_approve(
            services,
            generation_id,
            requester,
            "a speech",
            width=WIDTH,
            height=HEIGHT,
            duration_s=1.0,
            fps=FPS,
        )
        clip = face_clip(photo_name, crop=True)[:FPS]
        blob = services.port(BLOB_STORE).put_file(
            encode_mp4(clip, FPS, tmp / f"{generation_id}.mp4")
        )
        ce.append(
            services,
            ce.generation_completed(
                generation_id,
                master_blob=blob,
                width=WIDTH,
                height=HEIGHT,
                fps=FPS,
                frames=FPS,
                duration_s=1.0,
            ),
        )

    rendered("g-obama-own", obama, "obama_1.jpg")  # the figure, through his own cameo
    rendered("g-obama-fake", stranger, "obama_1.jpg")
    rendered("g-biden", stranger, "biden_1.jpg")  # a figure with no cameo at all
    drain(services, CONSUMERS)

    def decision(generation_id: str) -> dict[str, Any]:
        (moderated,) = _events(services, stream_id("output", generation_id))
        return dict(moderated.payload)

    assert decision("g-obama-own")["decision"] == "allow"
    fake = decision("g-obama-fake")
    assert fake["decision"] == "block" and fake["blocked_categories"] == ["likeness"]
    likeness = next(v for v in fake["verdicts"] if v["category"] == "likeness")
    assert likeness["subjects"] == [f"cameo:{cameo}", "public_figure:pf-barack-obama"]
    (face,) = fake["frame_scores"][0]["faces"]
    kinds = {m["kind"]: m for m in face["matches"]}
    assert kinds["public_figure"]["cameo_id"] == cameo  # attributed to the figure's own cameo
    biden = decision("g-biden")
    assert biden["decision"] == "block"
    likeness = next(v for v in biden["verdicts"] if v["category"] == "likeness")
    assert likeness["subjects"] == ["public_figure:pf-joe-biden"]

    # The figure's cameo owner sees both videos of his face; nobody owns Biden's match.
    own = _matched(services, cameo, "g-obama-own")
    assert own["consented"] and own["consent_reason"] == "owner"
    faked = _matched(services, cameo, "g-obama-fake")
    assert not faked["consented"] and faked["output_blocked"]
    assert faked["public_figure_id"] == "pf-barack-obama"
    with services.read_sessions() as s:
        from trust_safety.likeness.owner_view import LikenessMatchRow

        assert (
            s.scalars(
                select(LikenessMatchRow.generation_id).where(
                    LikenessMatchRow.generation_id == "g-biden"
                )
            ).all()
            == []
        )
