from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tests.trust_safety.uploads.media_factory import encode, gradient, mp4, on_canvas, photo
from trust_safety.classifiers.errors import InvalidClassifierInput
from trust_safety.classifiers.faces import shared_face_analyzer
from trust_safety.classifiers.nsfw import NsfwResult, score_detections, shared_nudenet
from trust_safety.uploads.errors import (
    CorruptMedia,
    MediaLimitExceeded,
    UnsupportedMediaType,
    UploadTooLarge,
)
from trust_safety.uploads.limits import UploadLimits
from trust_safety.uploads.moderation import UploadModerator, UploadRefusal
from trust_safety.uploads.sniffing import MediaType, sniff_media_type


@pytest.fixture(scope="module")
def moderator() -> UploadModerator:
    return UploadModerator(shared_nudenet(), shared_face_analyzer())


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"\xff\xd8\xff\xe0" + b"\0" * 20, MediaType.JPEG),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 20, MediaType.PNG),
        (b"GIF89a" + b"\0" * 20, MediaType.GIF),
        (b"RIFF\0\0\0\0WEBPVP8 " + b"\0" * 8, MediaType.WEBP),
        (b"\0\0\0\x20ftypisom" + b"\0" * 12, MediaType.MP4),
        (b"\0\0\0\x14ftypqt  " + b"\0" * 12, MediaType.QUICKTIME),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm" + b"\0" * 8, MediaType.WEBM),
    ],
)
def test_sniffing_reads_magic_bytes(head: bytes, expected: MediaType) -> None:
    assert sniff_media_type(head) is expected


@pytest.mark.parametrize(
    "head",
    [
        b"%PDF-1.7" + b"\0" * 20,
        b"<html><body>hello</body>",
        b"\0\0\0\x18ftypheic" + b"\0" * 12,
        b"\x1a\x45\xdf\xa3" + b"matroska" * 3,
        b"short",
    ],
)
def test_sniffing_refuses_everything_else(head: bytes) -> None:
    with pytest.raises(UnsupportedMediaType) as err:
        sniff_media_type(head)
    assert err.value.status == 415


def test_benign_image_is_approved_and_the_declared_type_is_only_recorded(
    moderator: UploadModerator,
) -> None:
    data = encode(gradient(320, 240), ".png")
    decision = moderator.moderate(data, uploader_id="u1", likeness=None, declared_type="image/jpeg")
    assert decision.approved and decision.media_type is MediaType.PNG
    record = decision.to_record()
    assert record["declared_type_mismatch"] is True
    assert (record["width"], record["height"]) == (320, 240)
    assert record["nsfw_score"] < 0.45 and record["faces"] == []


def test_without_a_likeness_check_every_face_is_refused(moderator: UploadModerator) -> None:
    # Fail closed: nothing can say whose face it is, so nobody may show it.
    refused = moderator.moderate(
        encode(photo("rose_leslie_2.jpg", 400)), uploader_id="u1", likeness=None
    )
    assert refused.reason is UploadRefusal.REAL_PERSON and len(refused.faces) == 1
    assert refused.faces[0].verdict.value == "real_person" and refused.faces[0].matches == ()
    assert refused.user_view() == {"outcome": "refused", "reason_category": "real_person"}
    assert refused.to_record()["faces"][0]["box"] == refused.faces[0].face.box.as_list()


class ExplicitClassifier:
    """Reports explicit content for every frame: exercises the refusal path, which real
    test images cannot (the suite ships no explicit imagery)."""

    def classify(self, image_bgr: Any) -> NsfwResult:
        return score_detections(
            [{"class": "FEMALE_BREAST_EXPOSED", "score": 0.91, "box": [1, 2, 3, 4]}]
        )


def test_explicit_uploads_are_refused_before_face_consent_is_considered() -> None:
    moderator = UploadModerator(ExplicitClassifier(), shared_face_analyzer())
    decision = moderator.moderate(
        encode(photo("kit_harington_2.jpg", 400)), uploader_id="u1", likeness=None
    )
    # the face alone would be refused as real_person; sexual content is the reason given
    assert decision.reason is UploadRefusal.SEXUAL and len(decision.faces) == 1
    assert decision.nsfw_labels == ("FEMALE_BREAST_EXPOSED",)


def test_score_detections_counts_only_exposed_labels() -> None:
    result = score_detections(
        [
            {"class": "FACE_FEMALE", "score": 0.95, "box": [0, 0, 5, 5]},
            {"class": "BELLY_COVERED", "score": 0.9, "box": [0, 0, 5, 5]},
            {"class": "BUTTOCKS_EXPOSED", "score": 0.3, "box": [0, 0, 5, 5]},
        ]
    )
    assert result.score == pytest.approx(0.3) and result.explicit_labels == ("BUTTOCKS_EXPOSED",)
    with pytest.raises(InvalidClassifierInput):
        score_detections([{"class": "X"}])


def test_classifiers_reject_bad_arrays() -> None:
    with pytest.raises(InvalidClassifierInput):
        shared_face_analyzer().detect(np.zeros((100, 100), np.uint8))
    with pytest.raises(InvalidClassifierInput):
        shared_nudenet().classify(np.zeros((100, 100, 3), np.float32))


@pytest.mark.parametrize(("width", "height"), [(32, 200), (5000, 300)])
def test_image_resolution_limits(moderator: UploadModerator, width: int, height: int) -> None:
    with pytest.raises(MediaLimitExceeded):
        moderator.moderate(encode(gradient(width, height), ".png"), uploader_id="u1", likeness=None)


def test_corrupt_and_oversized_uploads(moderator: UploadModerator) -> None:
    data = encode(gradient(200, 200), ".jpg")
    with pytest.raises(CorruptMedia):
        moderator.moderate(data[: len(data) // 3], uploader_id="u1", likeness=None)
    small = UploadModerator(
        shared_nudenet(), shared_face_analyzer(), limits=UploadLimits(max_image_bytes=100)
    )
    with pytest.raises(UploadTooLarge) as err:
        small.moderate(data, uploader_id="u1", likeness=None)
    assert err.value.status == 413


def test_video_is_sampled_and_checked(moderator: UploadModerator) -> None:
    frames = [np.roll(gradient(320, 240), i * 8, axis=1) for i in range(20)]
    decision = moderator.moderate(
        mp4(frames, fps=10), uploader_id="u1", likeness=None, declared_type="video/mp4"
    )
    assert decision.approved and decision.media_type is MediaType.MP4
    assert decision.duration_s == pytest.approx(2.0, abs=0.15)
    assert (decision.width, decision.height) == (320, 240)
    face_clip = mp4([on_canvas(photo("kit_harington_2.jpg"), 320, 240)] * 4, fps=2)
    refused = moderator.moderate(face_clip, uploader_id="u1", likeness=None)
    assert refused.reason is UploadRefusal.REAL_PERSON
    # each sampled frame's face, with the frame's time in the clip
    times = [f.time_s for f in refused.faces]
    assert len(times) >= 4 and all(t is not None and 0 <= t < 2.0 for t in times)


def test_video_limits(moderator: UploadModerator) -> None:
    long_clip = mp4([gradient(128, 96)] * 42, fps=2)  # 21 s
    with pytest.raises(MediaLimitExceeded, match="21"):
        moderator.moderate(long_clip, uploader_id="u1", likeness=None)
    wide = mp4([gradient(2048, 128)] * 2, fps=2)
    with pytest.raises(MediaLimitExceeded, match="1080p"):
        moderator.moderate(wide, uploader_id="u1", likeness=None)
    with pytest.raises(CorruptMedia):
        moderator.moderate(b"\0\0\0\x20ftypisom" + b"\0" * 400, uploader_id="u1", likeness=None)
