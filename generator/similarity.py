"""How alike two frames look: the measure the generation-kind tests and
``bench/generation_kinds.py`` use to show that image-to-video starts from its image and that
an extend continues its source (first frame against the source, beside an unrelated clip's).

SSIM (Wang et al., 2004) on luma at a fixed working size with an 11-tap Gaussian window:
1.0 for identical frames, near 0 for unrelated ones. Frames of different sizes are compared
at the working size, so a source image and the frame it was fitted into can be compared.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

WORKING_SIZE = (128, 72)  # width, height
_C1 = (0.01 * 255) ** 2
_C2 = (0.03 * 255) ** 2


def _luma(frame: NDArray[np.uint8]) -> NDArray[np.float64]:
    arr = np.asarray(frame)
    if arr.ndim != 3 or arr.shape[2] != 3:
        raise ValueError(f"expected an RGB frame shaped (H, W, 3), got {arr.shape}")
    grey = cv2.cvtColor(np.ascontiguousarray(arr, dtype=np.uint8), cv2.COLOR_RGB2GRAY)
    return cv2.resize(grey, WORKING_SIZE, interpolation=cv2.INTER_AREA).astype(np.float64)


def frame_similarity(a: NDArray[np.uint8], b: NDArray[np.uint8]) -> float:
    """Mean SSIM of two RGB uint8 frames' luma, in [-1, 1]."""
    x, y = _luma(a), _luma(b)

    def blur(img: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray(cv2.GaussianBlur(img, (11, 11), 1.5), dtype=np.float64)

    mx, my = blur(x), blur(y)
    vx = blur(x * x) - mx * mx
    vy = blur(y * y) - my * my
    cov = blur(x * y) - mx * my
    ssim = ((2 * mx * my + _C1) * (2 * cov + _C2)) / ((mx * mx + my * my + _C1) * (vx + vy + _C2))
    return float(ssim.mean())
