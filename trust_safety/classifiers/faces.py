"""Face detection with OpenCV's bundled Haar cascades (``cv2.data.haarcascades``).

Haar cascades are fast and need no downloaded weights; they miss some profile and small faces,
so callers sample several frames and treat any detection as "a real person may be present".
The cascade files ship with opencv-python 4.x; OpenCV 5 dropped them, which is reported as
``ClassifierUnavailable`` rather than as "no faces".
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy.typing as npt

from core.once import once
from trust_safety.classifiers.errors import ClassifierUnavailable
from trust_safety.classifiers.nsfw import check_image

FRONTAL = "haarcascade_frontalface_default.xml"
PROFILE = "haarcascade_profileface.xml"


@dataclass(frozen=True, slots=True)
class FaceBox:
    x: int
    y: int
    width: int
    height: int
    cascade: str


def cascade_path(name: str) -> Path:
    import cv2

    root = getattr(getattr(cv2, "data", None), "haarcascades", None)
    if root is None or not hasattr(cv2, "CascadeClassifier"):
        raise ClassifierUnavailable(
            f"OpenCV {cv2.__version__} has no Haar cascades; install opencv-python 4.x"
        )
    path = Path(root) / name
    if not path.is_file():
        raise ClassifierUnavailable(f"Haar cascade {name} not found under {root}")
    return path


class HaarFaceDetector:
    """Frontal and profile cascades; a face is reported when either fires.

    ``min_face_fraction`` ignores faces smaller than that fraction of the shorter image side:
    tiny far-away faces in crowds are not what the likeness rule is about, and they are where
    Haar false positives cluster.
    """

    model_id = "opencv-haar-frontal+profile"

    def __init__(
        self,
        *,
        scale_factor: float = 1.1,
        min_neighbors: int = 5,
        min_face_fraction: float = 0.08,
        max_side: int = 640,
    ) -> None:
        import cv2

        self._frontal = cv2.CascadeClassifier(str(cascade_path(FRONTAL)))
        self._profile = cv2.CascadeClassifier(str(cascade_path(PROFILE)))
        if self._frontal.empty() or self._profile.empty():
            raise ClassifierUnavailable("an OpenCV Haar cascade failed to load")
        self._scale_factor = scale_factor
        self._min_neighbors = min_neighbors
        self._min_face_fraction = min_face_fraction
        self._max_side = max_side
        self._lock = threading.Lock()

    def detect(self, image_bgr: npt.NDArray[Any]) -> list[FaceBox]:
        import cv2

        image: npt.NDArray[Any] = check_image(image_bgr)
        height, width = image.shape[:2]
        # Downscale large frames first: detection cost grows with area, accuracy does not.
        scale = min(1.0, self._max_side / max(height, width))
        if scale < 1.0:
            image = cv2.resize(
                image, (int(width * scale), int(height * scale)), interpolation=cv2.INTER_AREA
            )
        gray = cv2.equalizeHist(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY))
        min_side = max(20, int(min(gray.shape) * self._min_face_fraction))
        boxes: list[FaceBox] = []
        with self._lock:  # CascadeClassifier is not documented as thread-safe
            for name, cascade in ((FRONTAL, self._frontal), (PROFILE, self._profile)):
                found = cascade.detectMultiScale(
                    gray,
                    scaleFactor=self._scale_factor,
                    minNeighbors=self._min_neighbors,
                    minSize=(min_side, min_side),
                )
                for x, y, w, h in found:
                    boxes.append(
                        FaceBox(
                            int(x / scale), int(y / scale), int(w / scale), int(h / scale), name
                        )
                    )
        return boxes


@once
def shared_face_detector() -> HaarFaceDetector:
    return HaarFaceDetector()
