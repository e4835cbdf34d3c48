"""Likeness figures: face verification, harmless outputs, age estimates and latency.

Run: .venv/bin/python bench/likeness.py [--quick] [--outputs N] [--verbose]

(a) Face verification on the photos in tests/data/faces and transformed copies of each
    (scaled down, JPEG q30, cropped to the face, mirrored, brighter, darker, a frame of an
    H.264 clip made with core/video.py): the true-accept rate at MATCH_DISTANCE over every
    same-person pair, the false-accept rate over every cross-person pair, and the margin
    between them (smallest cross-person distance minus largest same-person one).
    two_people.jpg is left out: its Biden face is the same pixels as biden_1.jpg.
(b) Output moderation of harmless procedural outputs with no faces (the procedural
    backend's render_clip on many harmless prompts), through the output moderation's own
    classifiers and moderate_frames: the false-block rate of the ``minors`` and ``likeness``
    categories (and of any category).
(c) The age model's estimates on every adult photo, and the fraction under 18 (and under the
    upload and enrolment bars), with their spread across the transformed copies.
(d) Latency per frame of detection, embedding and age, per upload and per second of output,
    against the OpenCV Haar path it replaced (its cascades, run here in the same process).

Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402
from PIL import Image  # noqa: E402

from core.video import decode_frames, encode_mp4  # noqa: E402
from trust_safety.classifiers.face_model import MATCH_DISTANCE  # noqa: E402
from trust_safety.classifiers.faces import (  # noqa: E402
    Face,
    FaceAnalyzer,
    face_distance,
    nearest_distance,
)

FACES = ROOT / "tests" / "data" / "faces"
UPLOAD_BAR = 25.0  # trust_safety/uploads/settings.py: adult_age 18 + age_margin 7
ENROLMENT_BAR = 28.0  # trust_safety/consent/settings.py: adult_age 18 + age_margin 10

RGB = np.ndarray


def load_photos() -> dict[str, RGB]:
    photos = {}
    for path in sorted(FACES.iterdir()):
        if path.suffix.lower() in {".jpg", ".png"} and path.stem != "two_people":
            with Image.open(path) as image:
                photos[path.stem] = np.asarray(image.convert("RGB"), np.uint8)
    return photos


def identity(stem: str) -> str:
    return stem.rsplit("_", 1)[0]


# -- transforms ----------------------------------------------------------------------------------


def _even(image: RGB, max_side: int) -> RGB:
    h, w = image.shape[:2]
    scale = min(1.0, max_side / max(h, w))
    size = (max(2, int(w * scale) // 2 * 2), max(2, int(h * scale) // 2 * 2))
    return np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), np.uint8)


def scale_down(image: RGB, face: Face) -> RGB:
    h, w = image.shape[:2]
    return np.asarray(cv2.resize(image, (w // 2, h // 2), interpolation=cv2.INTER_AREA))


def jpeg_q30(image: RGB, face: Face) -> RGB:
    out = io.BytesIO()
    Image.fromarray(image).save(out, format="JPEG", quality=30)
    return np.asarray(Image.open(io.BytesIO(out.getvalue())).convert("RGB"), np.uint8)


def crop_to_face(image: RGB, face: Face) -> RGB:
    """What a person cropping the photo to the face would upload: the face and a margin."""
    b = face.box
    cx, cy, half = b.x + b.width / 2, b.y + b.height / 2, max(b.width, b.height)
    h, w = image.shape[:2]
    x0, y0 = max(0, int(cx - half)), max(0, int(cy - half))
    x1, y1 = min(w, int(cx + half)), min(h, int(cy + half))
    return np.ascontiguousarray(image[y0:y1, x0:x1])


def mirror(image: RGB, face: Face) -> RGB:
    return np.ascontiguousarray(image[:, ::-1])


def brighter(image: RGB, face: Face) -> RGB:
    lut = np.clip(255.0 * (np.arange(256) / 255.0) ** 0.55, 0, 255).astype(np.uint8)
    return np.asarray(cv2.LUT(image, lut), np.uint8)


def darker(image: RGB, face: Face) -> RGB:
    return np.asarray(image.astype(np.float32) * 0.35, np.uint8)


def h264_frame(image: RGB, face: Face) -> RGB:
    """A frame of a short H.264 clip of the photo (720 px, crf 30), decoded back."""
    frame = _even(image, 720)
    with tempfile.TemporaryDirectory() as tmp:
        path = encode_mp4(np.stack([frame] * 6), 24, Path(tmp) / "clip.mp4", crf=30)
        frames, _ = decode_frames(path)
    return np.ascontiguousarray(frames[3])


TRANSFORMS: dict[str, Callable[[RGB, Face], RGB]] = {
    "scale_0.5": scale_down,
    "jpeg_q30": jpeg_q30,
    "crop": crop_to_face,
    "mirror": mirror,
    "brighter": brighter,
    "darker": darker,
    "h264": h264_frame,
}
QUICK_TRANSFORMS = ("jpeg_q30", "mirror", "h264")


@dataclass(frozen=True)
class Sample:
    photo: str
    person: str
    transform: str
    face: Face


def largest(faces: list[Face]) -> Face | None:
    return max(faces, key=lambda f: f.box.width * f.box.height) if faces else None


def analyse_samples(
    analyzer: FaceAnalyzer, photos: dict[str, RGB], transforms: Iterable[str]
) -> tuple[list[Sample], dict[str, list[str]]]:
    samples: list[Sample] = []
    missed: dict[str, list[str]] = {}
    chosen = list(transforms)
    for stem, image in photos.items():
        original = largest(analyzer.analyze(image))
        if original is None:
            missed.setdefault("original", []).append(stem)
            continue
        samples.append(Sample(stem, identity(stem), "original", original))
        for name in chosen:
            face = largest(analyzer.analyze(TRANSFORMS[name](image, original)))
            if face is None:
                missed.setdefault(name, []).append(stem)
            else:
                samples.append(Sample(stem, identity(stem), name, face))
    return samples, missed


def verification(samples: list[Sample]) -> dict[str, Any]:
    same: list[float] = []
    same_cross_photo: list[float] = []
    cross: list[tuple[float, str, str]] = []
    for a, b in itertools.combinations(samples, 2):
        assert a.face.embedding is not None and b.face.embedding is not None
        d = face_distance(a.face.embedding, b.face.embedding)
        if a.person == b.person:
            same.append(d)
            if a.photo != b.photo:
                same_cross_photo.append(d)
        else:
            cross.append((d, f"{a.photo}/{a.transform}", f"{b.photo}/{b.transform}"))
    cross_d = sorted(c[0] for c in cross)
    far = sum(d <= MATCH_DISTANCE for d in cross_d) / len(cross_d)
    tar = sum(d <= MATCH_DISTANCE for d in same) / len(same)
    # The tightest threshold with a false-accept rate of at most 0.001, and the TAR there.
    allowed = int(0.001 * len(cross_d))
    at_far = cross_d[allowed] - 1e-6 if allowed < len(cross_d) else float("inf")
    closest = min(cross)
    worst_same = max(same)
    return {
        "samples": len(samples),
        "same_pairs": len(same),
        "same_pairs_cross_photo": len(same_cross_photo),
        "cross_pairs": len(cross_d),
        "true_accept_rate": round(tar, 4),
        "true_accept_rate_cross_photo": round(
            sum(d <= MATCH_DISTANCE for d in same_cross_photo) / max(1, len(same_cross_photo)), 4
        ),
        "false_accept_rate": round(far, 5),
        # With no false accept in n pairs, the rate is under 3/n with 95 % confidence.
        "false_accept_rate_upper_95": round(
            3 / len(cross_d) if far == 0 else far + 1.96 * (far * (1 - far) / len(cross_d)) ** 0.5,
            5,
        ),
        "max_same_distance": round(worst_same, 4),
        "min_cross_distance": round(closest[0], 4),
        "closest_cross_pair": [closest[1], closest[2]],
        "distance_margin": round(closest[0] - worst_same, 4),
        "threshold_at_far_0.001": round(min(at_far, 2.0), 4),
        "true_accept_rate_at_far_0.001": round(sum(d <= at_far for d in same) / len(same), 4),
        "same_distance_p50": round(statistics.median(same), 4),
        "cross_distance_p50": round(statistics.median(cross_d), 4),
    }


def ages(samples: list[Sample]) -> dict[str, Any]:
    every = [s.face.age for s in samples if s.face.age is not None]
    originals = {s.photo: s.face.age for s in samples if s.transform == "original"}
    spread: dict[str, float] = {}
    for photo in originals:
        values = [s.face.age for s in samples if s.photo == photo and s.face.age is not None]
        spread[photo] = max(values) - min(values)
    by_transform: dict[str, float] = {}
    for name in {s.transform for s in samples}:
        deltas = [
            abs(float(s.face.age) - float(originals[s.photo] or 0))
            for s in samples
            if s.transform == name and s.face.age is not None and originals.get(s.photo)
        ]
        by_transform[name] = round(statistics.mean(deltas), 2) if deltas else 0.0
    return {
        "estimates": {p: a for p, a in sorted(originals.items())},
        "adult_estimated_minor_rate": round(sum(a < 18 for a in every) / len(every), 4),
        "under_upload_bar_rate": round(sum(a < UPLOAD_BAR for a in every) / len(every), 4),
        "under_enrolment_bar_rate": round(sum(a < ENROLMENT_BAR for a in every) / len(every), 4),
        "min_estimate": min(every),
        "max_estimate": max(every),
        "max_spread_across_transforms": round(max(spread.values()), 1),
        "range_by_photo": {
            p: [
                min(s.face.age for s in samples if s.photo == p and s.face.age is not None),
                max(s.face.age for s in samples if s.photo == p and s.face.age is not None),
            ]
            for p in sorted(originals)
        },
        "mean_abs_change_by_transform": dict(sorted(by_transform.items())),
        "estimates_counted": len(every),
    }


# -- latency -------------------------------------------------------------------------------------


class HaarBaseline:
    """The replaced path: OpenCV's frontal and profile cascades (as uploads ran them), plus the
    eye cascade that output moderation used to confirm a face."""

    def __init__(self) -> None:
        root = Path(cv2.data.haarcascades)  # type: ignore[attr-defined]
        self.frontal = cv2.CascadeClassifier(str(root / "haarcascade_frontalface_default.xml"))
        self.profile = cv2.CascadeClassifier(str(root / "haarcascade_profileface.xml"))
        self.eyes = cv2.CascadeClassifier(str(root / "haarcascade_eye.xml"))

    def detect(self, rgb: RGB) -> list[tuple[int, int, int, int]]:
        image = _even(rgb, 640)
        gray = cv2.equalizeHist(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY))
        side = max(20, int(min(gray.shape) * 0.08))
        boxes: list[tuple[int, int, int, int]] = []
        for cascade in (self.frontal, self.profile):
            found = cascade.detectMultiScale(
                gray, scaleFactor=1.1, minNeighbors=5, minSize=(side, side)
            )
            boxes += [tuple(int(v) for v in box) for box in found]  # type: ignore[misc]
        return boxes

    def detect_confirmed(self, rgb: RGB) -> int:
        image = _even(rgb, 640)
        gray = cv2.equalizeHist(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY))
        confirmed = 0
        for x, y, w, h in self.detect(image):
            upper = gray[y : y + h // 2 + h // 8, x : x + w]
            if upper.size and len(
                self.eyes.detectMultiScale(upper, 1.1, 3, minSize=(max(4, w // 10),) * 2)
            ):
                confirmed += 1
        return confirmed


def _ms(fn: Callable[[], Any], repeat: int) -> float:
    """The best of ``repeat`` runs, in ms: the machine is shared, and the best run is the one
    least disturbed by others."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return min(times)


def _model_ms(analyzer: FaceAnalyzer, frame: RGB, repeat: int) -> tuple[list[float], list[float]]:
    """Landmarks + embedding, and age, per face, timed on the analyzer's own models (its
    private parts: the public ``analyze`` runs them all under one lock)."""
    import dlib

    embed, age = [], []
    model = analyzer._ages()
    for box in analyzer.detect(frame):
        rect = dlib.rectangle(box.x, box.y, box.x + box.width, box.y + box.height)
        trbl = (box.y, box.x + box.width, box.y + box.height, box.x)

        def embedding(r: Any = rect) -> Any:
            return analyzer._embedder.compute_face_descriptor(frame, analyzer._landmarks(frame, r))

        embed.append(_ms(embedding, repeat))
        age.append(_ms(partial(model.predict, frame, [trbl]), repeat))
    return embed, age


class BenchLikeness:
    """The uploads' LikenessCheck over templates held in memory (the SQL scan excluded)."""

    def __init__(self, templates: dict[str, np.ndarray], owner: str) -> None:
        self.templates, self.owner = templates, owner

    def match(self, embeddings: np.ndarray, *, model_version: str) -> list[list[Any]]:
        from trust_safety.likeness.index import FaceMatch

        out = []
        for row in embeddings:
            found = [
                FaceMatch("cameo", cameo, self.owner, nearest_distance(t, row))
                for cameo, t in self.templates.items()
            ]
            out.append(
                sorted((m for m in found if m.distance <= MATCH_DISTANCE), key=lambda m: m.distance)
            )
        return out

    def permissions(self, uploader_id: str, cameo_ids: Iterable[str]) -> Any:
        from trust_safety.uploads.faces import CameoPermissions, UsableCameo

        return CameoPermissions({c: UsableCameo(c, None) for c in cameo_ids})


def latency(
    analyzer: FaceAnalyzer, photos: dict[str, RGB], samples: list[Sample], quick: bool
) -> dict[str, Any]:
    from generator.backends.procedural import render_clip
    from trust_safety.classifiers.nsfw import shared_nudenet
    from trust_safety.uploads.moderation import UploadModerator

    haar = HaarBaseline()
    repeat = 3
    frames = [_even(image, 800) for image in photos.values()][: 4 if quick else 8]
    detect, embed, age, full, haar_ms = [], [], [], [], []
    for frame in frames:
        detect.append(_ms(partial(analyzer.detect, frame), repeat))
        full.append(_ms(partial(analyzer.analyze, frame), repeat))
        haar_ms.append(_ms(partial(haar.detect, frame), repeat))
        e, a = _model_ms(analyzer, frame, repeat)
        embed += e
        age += a
    figures: dict[str, Any] = {
        "frame_px": "photos at 800 px (the analyzer's working size); best of the repeats",
        "detect_ms_per_frame": round(statistics.median(detect), 1),
        "embed_ms_per_face": round(statistics.median(embed), 1),
        "age_ms_per_face": round(statistics.median(age), 1),
        "dlib_all_ms_per_frame": round(statistics.median(full), 1),
        "haar_ms_per_frame": round(statistics.median(haar_ms), 1),
    }

    # Per upload: a JPEG photo through the whole upload moderation (decode, NudeNet, faces,
    # matching, the policy), against what the Haar path did (decode, NudeNet, cascades).
    nudenet = shared_nudenet()
    templates = {
        f"cam_{s.photo}": s.face.embedding[None, :]
        for s in samples
        if s.transform == "original" and s.face.embedding is not None
    }  # type: ignore[index]
    moderator = UploadModerator(nudenet, analyzer)
    likeness = BenchLikeness(templates, "owner")
    uploads = []
    for image in list(photos.values())[: 3 if quick else 6]:
        out = io.BytesIO()
        Image.fromarray(_even(image, 1200)).save(out, format="JPEG", quality=90)
        uploads.append(out.getvalue())

    def old_upload(data: bytes) -> None:
        from trust_safety.uploads.limits import UploadLimits
        from trust_safety.uploads.media import decode_media
        from trust_safety.uploads.sniffing import sniff_media_type

        decoded = decode_media(data, sniff_media_type(data[:64]), UploadLimits())
        for frame in decoded.frames:
            nudenet.classify(frame)
            haar.detect(np.ascontiguousarray(frame[:, :, ::-1]))

    new = [
        _ms(partial(moderator.moderate, d, uploader_id="owner", likeness=likeness), repeat)
        for d in uploads
    ]
    old = [_ms(partial(old_upload, d), repeat) for d in uploads]
    figures["upload_ms"] = round(statistics.median(new), 1)
    figures["upload_ms_haar"] = round(statistics.median(old), 1)

    # Per second of output: the face stage on the frames output moderation samples (2 Hz),
    # on a faceless procedural clip and on one with a face composited into it (720p).
    from trust_safety.output.moderation import DEFAULT_OUTPUT_POLICY

    rate = DEFAULT_OUTPUT_POLICY.sample_rate_hz
    plain = render_clip("a paper boat drifting on a calm lake", 7, 1280, 720, 2.0, 8)
    kit = photos.get("kit_harington_2")
    with_face = render_clip("a portrait in a garden", 7, 1280, 720, 2.0, 8, image=kit)
    for label, clip in (("no_face", plain), ("one_face", with_face)):
        picks = clip[:: max(1, int(len(clip) / (rate * 2)))][: int(rate * 2)]
        dlib_s = statistics.median(_ms(partial(analyzer.analyze, f), repeat) for f in picks)
        haar_s = statistics.median(_ms(partial(haar.detect_confirmed, f), repeat) for f in picks)
        figures[f"output_face_ms_per_second_{label}"] = round(dlib_s * rate, 1)
        figures[f"output_face_ms_per_second_{label}_haar"] = round(haar_s * rate, 1)
        figures[f"output_faces_found_{label}"] = len(analyzer.analyze(picks[0]))
    return figures


# -- harmless outputs ----------------------------------------------------------------------------

SUBJECTS = (
    "an ocean at dawn",
    "a paper boat on a pond",
    "a cat asleep on a windowsill",
    "a lighthouse in fog",
    "autumn leaves falling",
    "a bowl of ripe oranges",
    "a mountain lake at noon",
    "a field of sunflowers",
    "rain on a city street at night",
    "a hot air balloon over hills",
    "a snowy pine forest",
    "a koi pond",
    "a desert at sunset",
    "a steaming cup of tea",
    "a vintage bicycle by a wall",
    "fireworks over a harbour",
    "a waterfall in a jungle",
    "a red fox in snow",
    "a sailboat on a windy sea",
    "a candle flickering",
    "clouds drifting over a valley",
    "a hummingbird at a flower",
    "a train crossing a bridge",
    "a stack of old books",
)
STYLES = ("", ", watercolour", ", in the style of an old film", ", aerial view", ", slow motion")


def harmless_prompts(n: int) -> list[str]:
    combos = [f"{s}{style}" for style in STYLES for s in SUBJECTS]
    return combos[:n]


def outputs(n: int, verbose: bool) -> dict[str, Any]:
    from generator.backends.procedural import render_clip
    from trust_safety.output.moderation import DEFAULT_OUTPUT_POLICY, moderate_frames
    from trust_safety.output.processor import build_classifiers
    from trust_safety.output.settings import OutputModerationSettings

    classifiers = build_classifiers(OutputModerationSettings())
    fps = 8
    blocked: dict[str, int] = {}
    blocked_outputs: dict[str, list[str]] = {}
    any_blocked = 0
    faces_seen = 0
    started = time.perf_counter()
    prompts = harmless_prompts(n)
    for seed, prompt in enumerate(prompts):
        clip = render_clip(prompt, seed, 480, 270, 2.0, fps)
        result = moderate_frames(clip, fps, classifiers, DEFAULT_OUTPUT_POLICY, likeness=_no_one)
        faces_seen += len(result.faces)
        if result.blocked:
            any_blocked += 1
            blocked_outputs[f"{prompt} (seed {seed})"] = list(result.blocked_categories)
            if verbose:
                print("BLOCKED", prompt, result.to_payload())
        for category in result.blocked_categories:
            blocked[category] = blocked.get(category, 0) + 1
    elapsed = time.perf_counter() - started
    return {
        "outputs": len(prompts),
        "output_px": "480x270, 2 s at 8 fps",
        "classifiers": [c.name for c in classifiers],
        "output_false_block_rate": round(any_blocked / len(prompts), 4),
        "minors_false_block_rate": round(blocked.get("minors", 0) / len(prompts), 4),
        "likeness_false_block_rate": round(blocked.get("likeness", 0) / len(prompts), 4),
        "blocked_by_category": blocked,
        "blocked_outputs": blocked_outputs,
        "faces_detected": faces_seen,
        "outputs_s": round(elapsed, 1),
    }


def _no_one(embeddings: np.ndarray) -> list[list[Any]]:
    """The likeness judge when nobody is enrolled: every face matches no one."""
    return [[] for _ in range(len(embeddings))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer transforms, outputs, repeats")
    parser.add_argument("--outputs", type=int, default=None, help="harmless outputs (100)")
    parser.add_argument("--verbose", action="store_true", help="print blocked outputs")
    args = parser.parse_args()
    n_outputs = args.outputs or (20 if args.quick else 100)

    analyzer = FaceAnalyzer()
    photos = load_photos()
    started = time.perf_counter()
    transforms = QUICK_TRANSFORMS if args.quick else tuple(TRANSFORMS)
    samples, missed = analyse_samples(analyzer, photos, transforms)
    figures: dict[str, Any] = {
        "bench": "likeness",
        "quick": args.quick,
        "photos": len(photos),
        "transforms": ["original", *transforms],
        "match_distance": MATCH_DISTANCE,
        "model_versions": analyzer.model_versions,
        "not_detected": missed,
    }
    figures.update(verification(samples))
    figures.update(ages(samples))
    figures["verification_s"] = round(time.perf_counter() - started, 1)
    figures.update(latency(analyzer, photos, samples, args.quick))
    figures.update(outputs(n_outputs, args.verbose))
    for key, value in figures.items():
        if key != "bench":
            print(f"{key:>40}: {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
