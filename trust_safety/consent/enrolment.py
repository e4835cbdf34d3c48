"""Enrolment from the capture: the service checks the selfie video (or frames) itself.

A cameo's face is enrolled from what the owner records, never from what a client claims.
The capture must show, in every sampled frame, exactly one face; the same person throughout
(each frame's face within ``max_identity_distance`` of the frames' medoid); a head that
moves (the widest change of yaw or pitch across the frames reaches ``min_pose_range``: moving,
scaling or rotating a photo in its plane leaves both unchanged, so a still photo held to the
camera is refused); and an adult (the median age estimate at least ``adult_age +
age_margin``, no frame under ``adult_age``). What passes becomes a template of a few
embeddings spread across the poses seen (trust_safety/consent/templates.py).

Known limits (docs/consent_and_optout.md): the pose check works on 5 landmarks, so a printed
photo *tilted* towards or away from the camera changes the ratios as a head would; a replayed
video of the person, or a screen, passes it. A liveness provider's verdict (the
``liveness_provider`` role) is the stronger check, and a failed one blocks the cameo.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from trust_safety.classifiers.face_model import embedding_version
from trust_safety.classifiers.faces import Face, FaceAnalyzer, face_distance
from trust_safety.consent.errors import (
    EnrolmentCaptureInvalid,
    EnrolmentCaptureTooLarge,
    EnrolmentIdentityMismatch,
    EnrolmentNoFace,
    EnrolmentSeveralFaces,
    EnrolmentStillCapture,
    EnrolmentUnderAge,
)
from trust_safety.consent.settings import EnrolmentSettings

Frame = npt.NDArray[np.uint8]
CaptureKind = Literal["video", "frames"]

_RECORD_AGAIN = (
    "record a short selfie video (or several photos) of your face alone, in good light, "
    "turning your head slowly left and right"
)


@dataclass(frozen=True)
class Capture:
    """The decoded liveness capture: RGB frames in recording order."""

    kind: CaptureKind
    frames: tuple[Frame, ...]


@dataclass(frozen=True)
class EnrolmentResult:
    """What the capture showed. ``embeddings`` is biometric: it goes to the template store
    only; ``scores`` and ``model_versions`` are what the event may carry."""

    kind: CaptureKind
    embeddings: npt.NDArray[np.float32]
    model_version: str
    model_versions: dict[str, str]
    scores: dict[str, float]
    age_passed: bool
    age_median: float = field(default=0.0)


def decode_capture(
    video: bytes | None, images: Sequence[bytes], policy: EnrolmentSettings
) -> Capture:
    """The capture's frames (RGB), from one selfie video or from several image frames,
    sniffed and bounded by the upload limits."""
    from trust_safety.uploads.limits import UploadLimits
    from trust_safety.uploads.media import decode_image, decode_video
    from trust_safety.uploads.sniffing import SNIFF_BYTES, sniff_media_type

    if (video is None) == (not images):
        raise EnrolmentCaptureInvalid(
            "send the capture as one selfie video (field 'video') or as "
            f"{policy.min_frames}-{policy.max_frames} photos (field 'frames'), not both"
        )
    total = (len(video) if video is not None else 0) + sum(len(i) for i in images)
    if total > policy.max_capture_bytes:
        raise EnrolmentCaptureTooLarge(
            f"the capture is {total} bytes; at most {policy.max_capture_bytes} are accepted "
            "(a few seconds of video is enough)"
        )
    limits = UploadLimits(
        max_image_bytes=policy.max_capture_bytes,
        max_video_bytes=policy.max_capture_bytes,
        max_video_seconds=policy.max_video_seconds,
        sampled_frames=policy.video_frames,
    )
    if video is not None:
        media_type = sniff_media_type(video[:SNIFF_BYTES])
        if not media_type.is_video:
            raise EnrolmentCaptureInvalid(
                f"the 'video' field holds {media_type.value}; send an MP4, MOV or WebM clip, "
                "or send photos in the 'frames' field"
            )
        decoded = decode_video(video, media_type, limits)
        return Capture("video", tuple(_rgb(f) for f in decoded.frames))
    if not policy.min_frames <= len(images) <= policy.max_frames:
        raise EnrolmentCaptureInvalid(
            f"send {policy.min_frames}-{policy.max_frames} photos; got {len(images)}"
        )
    frames = []
    for index, data in enumerate(images):
        media_type = sniff_media_type(data[:SNIFF_BYTES])
        if media_type.is_video:
            raise EnrolmentCaptureInvalid(
                f"frame {index + 1} is a video; send photos in 'frames' or one clip in 'video'"
            )
        frames.append(_rgb(decode_image(data, media_type, limits).frames[0]))
    return Capture("frames", tuple(frames))


def _rgb(bgr: Frame) -> Frame:
    return np.ascontiguousarray(bgr[:, :, ::-1])


def _medoid(embeddings: npt.NDArray[np.float32]) -> tuple[int, list[float]]:
    """The frame whose face is closest to all the others', and each frame's distance to it."""
    n = embeddings.shape[0]
    pairwise = [[face_distance(embeddings[i], embeddings[j]) for j in range(n)] for i in range(n)]
    centre = min(range(n), key=lambda i: sum(pairwise[i]))
    return centre, pairwise[centre]


def _spread(faces: Sequence[Face], start: int, size: int) -> list[int]:
    """Up to ``size`` frames spread across the poses seen: farthest-point sampling in
    (yaw, pitch), starting from the medoid."""
    points = np.array([(f.pose.yaw, f.pose.pitch) for f in faces], np.float64)
    chosen = [start]
    nearest = np.linalg.norm(points - points[start], axis=1)
    while len(chosen) < min(size, len(faces)):
        nearest[chosen] = -1.0
        pick = int(np.argmax(nearest))
        if nearest[pick] < 0:
            break
        chosen.append(pick)
        nearest = np.minimum(nearest, np.linalg.norm(points - points[pick], axis=1))
    return sorted(chosen)


def analyse_capture(
    analyzer: FaceAnalyzer,
    capture: Capture,
    policy: EnrolmentSettings,
    *,
    faces: Sequence[Sequence[Face]] | None = None,
    age_assured_elsewhere: bool = False,
) -> EnrolmentResult:
    """Check the capture; the first refusal found raises, with what to do about it.

    ``faces``: the frames' faces when already analysed (tests reuse them).
    ``age_assured_elsewhere``: the account's age was attested by a provider or an operator,
    so an estimate under the bar does not refuse the enrolment (it is recorded all the same).
    """
    count = len(faces) if faces is not None else len(capture.frames)
    if count < 2:
        raise EnrolmentCaptureInvalid(f"the capture has {count} frame(s); {_RECORD_AGAIN}")
    per_frame: list[list[Face]] = []
    for index in range(count):
        # frame by frame, so a refused capture stops costing at its first bad frame
        found = list(faces[index]) if faces is not None else analyzer.analyze(capture.frames[index])
        if not found:
            raise EnrolmentNoFace(
                f"no face was found in frame {index + 1} of {count}; {_RECORD_AGAIN}, "
                "keeping your whole face in view"
            )
        if len(found) > 1:
            raise EnrolmentSeveralFaces(
                f"frame {index + 1} shows {len(found)} faces; only you may be in the capture: "
                "record again alone"
            )
        per_frame.append(found)
    chosen: list[Face] = [found[0] for found in per_frame]
    embeddings = np.stack([_embedding(f) for f in chosen])
    centre, distances = _medoid(embeddings)
    worst = max(distances)
    if worst > policy.max_identity_distance:
        strangers = [i + 1 for i, d in enumerate(distances) if d > policy.max_identity_distance]
        raise EnrolmentIdentityMismatch(
            f"frame(s) {_frames_text(strangers)} show a different person from the rest "
            f"(distance {worst:.2f}, at most {policy.max_identity_distance:.2f}); "
            "record one continuous capture of yourself only"
        )
    yaws = [f.pose.yaw for f in chosen]
    pitches = [f.pose.pitch for f in chosen]
    yaw_range, pitch_range = max(yaws) - min(yaws), max(pitches) - min(pitches)
    pose_range = max(yaw_range, pitch_range)
    if pose_range < policy.min_pose_range:
        raise EnrolmentStillCapture(
            f"your head barely moved across the capture (pose change {pose_range:.3f}, at "
            f"least {policy.min_pose_range:.3f} is needed), as with a photo held to the "
            "camera; record yourself live, turning your head slowly left and right"
        )
    ages = [f.age for f in chosen if f.age is not None]
    age_median = statistics.median(ages) if ages else 0.0
    age_min = min(ages) if ages else 0.0
    bar = policy.adult_age + policy.age_margin
    age_passed = len(ages) == len(chosen) and age_median >= bar and age_min >= policy.adult_age
    if not age_passed and not age_assured_elsewhere:
        raise EnrolmentUnderAge(
            f"the capture does not show an adult clearly enough (estimated age {age_median:.0f}, "
            f"lowest {age_min:.0f}; enrolment needs {bar:g} or more, {policy.adult_age} in every "
            "frame, because age estimates are imprecise). If you are an adult, have your age "
            "verified by an age-assurance provider and enrol again; you may also record "
            "again facing the camera in good light"
        )
    keep = _spread(chosen, centre, policy.template_size)
    versions = dict(analyzer.model_versions)
    scores: dict[str, float] = {
        "frames": float(len(chosen)),
        "faces": float(sum(len(found) for found in per_frame)),
        "worst_identity_distance": round(worst, 4),
        "pose_range": round(pose_range, 4),
        "yaw_range": round(yaw_range, 4),
        "pitch_range": round(pitch_range, 4),
        "age_median": round(age_median, 1),
        "age_min": round(age_min, 1),
        "adult_age": float(policy.adult_age),
        "age_margin": float(policy.age_margin),
        "age_check_passed": 1.0 if age_passed else 0.0,
        "min_pose_range": policy.min_pose_range,
        "max_identity_distance": policy.max_identity_distance,
        "embeddings": float(len(keep)),
    }
    return EnrolmentResult(
        kind=capture.kind,
        embeddings=embeddings[keep].astype(np.float32),
        model_version=embedding_version(versions),
        model_versions=versions,
        scores=scores,
        age_passed=age_passed,
        age_median=age_median,
    )


def _embedding(face: Face) -> Any:
    if face.embedding is None:  # pragma: no cover - analyse() always embeds here
        raise EnrolmentCaptureInvalid("a face could not be embedded; record again")
    return face.embedding


def _frames_text(numbers: Sequence[int]) -> str:
    shown = ", ".join(str(n) for n in numbers[:8])
    return shown + (f" and {len(numbers) - 8} more" if len(numbers) > 8 else "")
