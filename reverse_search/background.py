"""A fixed background of non-matching frames: what scores are calibrated against.

A similarity means nothing by itself: unwhitened descriptors of any two frames are close to
each other (0.6 to 0.9 for unrelated clips), whitened ones are not (around 0), and CLIP's
space has its own spread. A query frame also brings its own bias: a flat, dark frame is
near every other flat, dark frame. So each query view is compared with this background,
and a neighbour counts only by how far it rises above the view's own background floor (see
``reverse_search.search.ScoreCalibration``).

The background must not depend on the archive: were it drawn from the archive, a score
would change meaning as the archive grows (and whenever whitening is refitted). It is drawn
here, deterministically, from a generative model of images: a "dead leaves" model (opaque
shapes of random colour with power-law sizes, occluding each other over a smooth colour
field, with some stripe textures and blur), the classic synthetic stand-in for the
statistics of natural images. The same frames are made on every machine and in every
process, and described by whatever embedder is deployed.
"""

from __future__ import annotations

import cv2
import numpy as np

BACKGROUND_FRAMES = 1024
BACKGROUND_SEED = 20_260_601
_HEIGHT, _WIDTH = 108, 192


def _colour(rng: np.random.Generator) -> tuple[float, float, float]:
    return tuple(float(c) for c in rng.uniform(16, 235, 3))  # type: ignore[return-value]


def _frame(rng: np.random.Generator) -> np.ndarray:
    h, w = _HEIGHT, _WIDTH
    # A smooth colour field: coarse random colours, upsampled.
    cells = int(rng.integers(2, 6))
    coarse = rng.uniform(16, 235, (cells, cells + 1, 3)).astype(np.float32)
    img = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    if rng.random() < 0.4:
        # a stripe texture over part of the field
        period = float(rng.uniform(4, 30))
        angle = float(rng.uniform(0, np.pi))
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        wave = np.sin((xx * np.cos(angle) + yy * np.sin(angle)) * 2 * np.pi / period)
        img += (wave[..., None] * rng.uniform(10, 50)).astype(np.float32)
    # Dead leaves: sizes from a power law (many small shapes, a few large), later ones on top.
    for _ in range(int(rng.integers(3, 40))):
        size = float(min(h, w) * (0.04 + 0.9 * rng.random() ** 2.5))
        cx, cy = float(rng.uniform(-0.1, 1.1) * w), float(rng.uniform(-0.1, 1.1) * h)
        colour = _colour(rng)
        kind = int(rng.integers(0, 3))
        if kind == 0:
            cv2.circle(img, (int(cx), int(cy)), max(1, int(size / 2)), colour, -1, cv2.LINE_AA)
        elif kind == 1:
            box = ((cx, cy), (size, size * float(rng.uniform(0.3, 1.5))), float(rng.uniform(0, 90)))
            points = cv2.boxPoints(box).astype(np.int32)
            cv2.fillConvexPoly(img, points, colour, cv2.LINE_AA)
        else:
            n = int(rng.integers(3, 7))
            angles = np.sort(rng.uniform(0, 2 * np.pi, n))
            radius = size / 2 * rng.uniform(0.5, 1.0, n)
            points = np.stack([cx + radius * np.cos(angles), cy + radius * np.sin(angles)], 1)
            cv2.fillPoly(img, [points.astype(np.int32)], colour, cv2.LINE_AA)
    if rng.random() < 0.3:
        img = cv2.GaussianBlur(img, (0, 0), float(rng.uniform(0.8, 3.0)))
    return np.clip(img, 0, 255).astype(np.uint8)


def background_frames(count: int = BACKGROUND_FRAMES, seed: int = BACKGROUND_SEED) -> np.ndarray:
    """``count`` RGB frames (count, 108, 192, 3), the same for the same arguments."""
    rng = np.random.default_rng(seed)
    return np.stack([_frame(rng) for _ in range(count)])
