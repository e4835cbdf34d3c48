"""Generated clips with a real face in them, and classifiers that analyse each distinct frame
once per process (the suites moderate the same clips many times)."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from generator.backends.procedural import render_clip
from trust_safety.output.classifiers import FrameClassifier, FrameScores

FACES = Path(__file__).resolve().parents[2] / "data" / "faces"
WIDTH, HEIGHT, FPS = 320, 184, 4


@cache
def photo(name: str, side: int = 480) -> np.ndarray:
    image = Image.open(FACES / name).convert("RGB")
    image.thumbnail((side, side))
    return np.asarray(image, dtype=np.uint8)


def jpeg(name: str, side: int = 480) -> bytes:
    out = io.BytesIO()
    Image.fromarray(photo(name, side)).save(out, format="JPEG", quality=92)
    return out.getvalue()


@cache
def portrait(name: str) -> np.ndarray:
    """The photo cropped around its face (head and shoulders), for photos whose face is a
    small part of the picture."""
    from tests.utils.enrolment import face_crop

    return np.asarray(face_crop(name, zoom=1.2), dtype=np.uint8)


@cache
def face_clip(
    name: str = "kit_harington_2.jpg", prompt: str = "a walk in the park", *, crop: bool = False
) -> np.ndarray:
    """Three seconds at 4 fps: the photo's face during the first and the last second, the
    scene alone in between. Sampled at 2 Hz, the face is on the samples at 0, 0.5, 2 and
    2.5 s, so its time ranges are [0, 1] and [2, 3]. ``crop``: place the photo's
    :func:`portrait` instead of the whole photo."""
    image = portrait(name) if crop else photo(name)
    face = render_clip(prompt, 5, WIDTH, HEIGHT, 3.0, fps=FPS, image=image)
    bare = render_clip(prompt, 5, WIDTH, HEIGHT, 3.0, fps=FPS)
    clip = face.copy()
    clip[FPS : 2 * FPS] = bare[FPS : 2 * FPS]
    return clip


class Memo:
    """A real classifier whose verdict on each distinct frame is computed once."""

    def __init__(self, inner: FrameClassifier) -> None:
        self.inner = inner
        self.name = inner.name
        self.categories = inner.categories
        self.analyses_faces = getattr(inner, "analyses_faces", False)
        self.model_versions: dict[str, str] = dict(getattr(inner, "model_versions", {}))
        self._seen: dict[bytes, FrameScores] = {}

    def classify(self, frames: Sequence[np.ndarray]) -> list[FrameScores]:
        keys = [hashlib.sha256(np.ascontiguousarray(f).tobytes()).digest() for f in frames]
        todo = [(k, f) for k, f in zip(keys, frames, strict=True) if k not in self._seen]
        if todo:
            for (k, _), scores in zip(todo, self.inner.classify([f for _, f in todo]), strict=True):
                self._seen[k] = scores
        return [self._seen[k] for k in keys]


@cache
def memo_classifiers() -> tuple[Any, ...]:
    """The default output classifiers (NudeNet and the dlib face analyzer), memoised."""
    from trust_safety.output.classifiers import DlibFaceClassifier, NudeNetClassifier

    return (Memo(NudeNetClassifier()), Memo(DlibFaceClassifier()))
