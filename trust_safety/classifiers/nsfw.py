"""NSFW detection with NudeNet's ONNX detector (shipped inside the ``nudenet`` wheel).

The detector finds body parts with labels such as ``FEMALE_BREAST_EXPOSED``; an image's NSFW
score is the highest confidence among the *exposed* labels that matter for sexual content.
Covered parts, faces and feet are reported but do not count.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from core.once import once
from trust_safety.classifiers.errors import ClassifierUnavailable, InvalidClassifierInput

EXPLICIT_LABELS: frozenset[str] = frozenset(
    {
        "FEMALE_BREAST_EXPOSED",
        "FEMALE_GENITALIA_EXPOSED",
        "MALE_GENITALIA_EXPOSED",
        "BUTTOCKS_EXPOSED",
        "ANUS_EXPOSED",
    }
)


@dataclass(frozen=True, slots=True)
class NsfwDetection:
    label: str
    score: float
    box: tuple[int, int, int, int]  # x, y, width, height in pixels


@dataclass(frozen=True, slots=True)
class NsfwResult:
    score: float
    detections: tuple[NsfwDetection, ...]

    @property
    def explicit_labels(self) -> tuple[str, ...]:
        return tuple(sorted({d.label for d in self.detections if d.label in EXPLICIT_LABELS}))


def score_detections(raw: Iterable[Mapping[str, Any]]) -> NsfwResult:
    """Turn NudeNet's raw detections into a typed result with an image-level score."""
    detections: list[NsfwDetection] = []
    for item in raw:
        try:
            x, y, w, h = (int(v) for v in item["box"])
            detections.append(NsfwDetection(str(item["class"]), float(item["score"]), (x, y, w, h)))
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidClassifierInput(f"malformed NudeNet detection {item!r}: {exc}") from exc
    score = max((d.score for d in detections if d.label in EXPLICIT_LABELS), default=0.0)
    return NsfwResult(score, tuple(sorted(detections, key=lambda d: -d.score)))


def check_image(image: npt.NDArray[Any]) -> npt.NDArray[np.uint8]:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        raise InvalidClassifierInput("expected a uint8 numpy image")
    if image.ndim != 3 or image.shape[2] != 3:
        raise InvalidClassifierInput(f"expected an HxWx3 BGR image, got shape {image.shape}")
    if min(image.shape[:2]) < 16:
        raise InvalidClassifierInput(
            f"image too small to classify: {image.shape[1]}x{image.shape[0]}"
        )
    return image


class NudeNetClassifier:
    """Loads the bundled 320n ONNX model once; thread-safe ``classify`` on BGR uint8 images."""

    model_id = "nudenet-320n@3.4"

    def __init__(self) -> None:
        try:
            from nudenet import NudeDetector
        except ImportError as exc:  # pragma: no cover - dependency missing from the env
            raise ClassifierUnavailable(f"nudenet is not installed: {exc}") from exc
        self._detector = NudeDetector()
        self._lock = threading.Lock()

    def classify(self, image_bgr: npt.NDArray[Any]) -> NsfwResult:
        image = check_image(image_bgr)
        with (
            self._lock
        ):  # onnxruntime sessions are thread-safe, nudenet's pre-processing is not audited
            raw = self._detector.detect(np.ascontiguousarray(image))
        return score_detections(raw)


@once
def shared_nudenet() -> NudeNetClassifier:
    return NudeNetClassifier()
