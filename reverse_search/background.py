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
statistics of natural images, and textures (fractal noise, strokes, blobs), where unrelated
natural frames come closest to each other. The same frames are made on every machine and in every
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


def _frame(rng: np.random.Generator, field: np.ndarray | None = None) -> np.ndarray:
    h, w = _HEIGHT, _WIDTH
    if field is not None:
        img = field
    else:
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


def _noise_texture(rng: np.random.Generator) -> np.ndarray:
    """Fractal noise: white noise shaped to a 1/f^beta spectrum (clouds, foliage, water,
    sand as beta falls), each channel a mix of shared and own noise."""
    h, w = _HEIGHT, _WIDTH
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.rfftfreq(w)[None, :]
    radius = np.sqrt(fx**2 + fy**2)
    radius[0, 0] = 1.0
    beta = float(rng.uniform(0.6, 2.4))
    shaped = []
    for _ in range(2):
        spectrum = np.fft.rfft2(rng.normal(size=(h, w))) / radius ** (beta / 1.0)
        field = np.fft.irfft2(spectrum, s=(h, w))
        shaped.append((field - field.mean()) / (field.std() + 1e-9))
    shared, own = shaped
    mix = rng.uniform(0.3, 1.0, 3)
    base = rng.uniform(40, 200, 3)
    spread = rng.uniform(15, 60, 3)
    img = np.stack(
        [
            base[c] + spread[c] * (mix[c] * shared + (1 - mix[c]) * np.roll(own, 7 * c, 0))
            for c in range(3)
        ],
        axis=-1,
    )
    return img.astype(np.float32)


def _strokes(rng: np.random.Generator) -> np.ndarray:
    """Many short strokes around a dominant direction (grass, hair, rain, brushwork), or
    many small blobs (gravel, pebbles, crowds far away)."""
    h, w = _HEIGHT, _WIDTH
    img = np.full((h, w, 3), rng.uniform(30, 200, 3), np.float32)
    palette = rng.uniform(16, 235, (int(rng.integers(2, 6)), 3))
    angle = float(rng.uniform(0, np.pi))
    blobs = rng.random() < 0.4
    for _ in range(int(rng.integers(150, 700))):
        colour = tuple(float(c) for c in palette[int(rng.integers(len(palette)))])
        x, y = float(rng.uniform(0, w)), float(rng.uniform(0, h))
        if blobs:
            cv2.circle(img, (int(x), int(y)), int(rng.integers(1, 6)), colour, -1, cv2.LINE_AA)
        else:
            a = angle + float(rng.normal(0, 0.35))
            length = float(rng.uniform(3, 18))
            end = (int(x + length * np.cos(a)), int(y + length * np.sin(a)))
            cv2.line(img, (int(x), int(y)), end, colour, int(rng.integers(1, 3)), cv2.LINE_AA)
    return img


def background_frames(count: int = BACKGROUND_FRAMES, seed: int = BACKGROUND_SEED) -> np.ndarray:
    """``count`` RGB frames (count, 108, 192, 3), the same for the same arguments: a quarter
    each of shapes over smooth colour, shapes over a texture, fractal-noise textures, and
    strokes or blobs (natural textures are where unrelated frames come closest to each
    other)."""
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(count):
        kind = i % 4
        if kind == 0:
            frames.append(_frame(rng))
            continue
        if kind == 1:
            # shapes over a textured ground, not a smooth one
            frames.append(_frame(rng, _noise_texture(rng)))
            continue
        img = _noise_texture(rng) if kind == 2 else _strokes(rng)
        if rng.random() < 0.3:
            img = cv2.GaussianBlur(img, (0, 0), float(rng.uniform(0.6, 2.0)))
        frames.append(np.clip(img, 0, 255).astype(np.uint8))
    return np.stack(frames)
