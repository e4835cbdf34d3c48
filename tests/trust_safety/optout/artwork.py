"""Reference artwork the tests and bench/optout_eval.py generate, and the transforms a
generated output might put it through (no real copyrighted media anywhere)."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

Image = np.ndarray


def artwork(seed: int, width: int = 480, height: int = 360) -> Image:
    """A 'character sheet': a textured backdrop, a figure made of shapes, a caption."""
    rng = np.random.default_rng(seed)
    img = np.zeros((height, width, 3), np.uint8)
    top, bottom = rng.integers(30, 225, 3), rng.integers(30, 225, 3)
    for y in range(height):
        img[y] = (top + (bottom - top) * y / height).astype(np.uint8)
    for _ in range(int(rng.integers(25, 40))):
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        kind = int(rng.integers(0, 4))
        cx, cy = int(rng.integers(0, width)), int(rng.integers(0, height))
        size = int(rng.integers(8, max(9, width // 6)))
        if kind == 0:
            cv2.circle(img, (cx, cy), size, colour, int(rng.choice([-1, 2, 4])))
        elif kind == 1:
            cv2.rectangle(img, (cx, cy), (cx + size, cy + size // 2), colour, -1)
        elif kind == 2:
            pts = rng.integers(-size, size, (int(rng.integers(3, 7)), 2)) + (cx, cy)
            cv2.fillPoly(img, [pts.astype(np.int32)], colour)
        else:
            cv2.line(img, (cx, cy), (cx + size, cy - size), colour, int(rng.integers(1, 5)))
    for k in range(int(rng.integers(2, 4))):
        text = "".join(chr(int(c)) for c in rng.integers(65, 91, int(rng.integers(4, 9))))
        cv2.putText(
            img,
            text,
            (int(rng.integers(5, width // 2)), int(40 + k * height // 4)),
            cv2.FONT_HERSHEY_SIMPLEX,
            float(rng.uniform(0.8, 1.6)),
            tuple(int(c) for c in rng.integers(0, 256, 3)),
            2,
        )
    return img


def _jpeg(img: Image, quality: int) -> Image:
    ok, data = cv2.imencode(".jpg", img[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    decoded = cv2.imdecode(data, cv2.IMREAD_COLOR)
    assert decoded is not None
    return np.ascontiguousarray(decoded[:, :, ::-1])


def crop(img: Image, keep: float = 0.7) -> Image:
    h, w = img.shape[:2]
    ch, cw = int(h * keep), int(w * keep)
    y, x = (h - ch) // 3, (w - cw) // 2
    return np.ascontiguousarray(img[y : y + ch, x : x + cw])


def scale(img: Image, factor: float = 0.6) -> Image:
    h, w = img.shape[:2]
    return cv2.resize(img, (int(w * factor), int(h * factor)), interpolation=cv2.INTER_AREA)


def colour_shift(img: Image, hue: int = 25, gain: float = 1.15) -> Image:
    hsv = cv2.cvtColor(img, cv2.COLOR_RGB2HSV).astype(np.int32)
    hsv[..., 0] = (hsv[..., 0] + hue) % 180
    hsv[..., 2] = np.clip(hsv[..., 2] * gain, 0, 255)
    return cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB)


def flip(img: Image) -> Image:
    return np.ascontiguousarray(img[:, ::-1])


def overlay(img: Image, background: Image, share: float = 0.5) -> Image:
    """The reference pasted, at ``share`` of the width, into another picture."""
    out = background.copy()
    h, w = out.shape[:2]
    small = cv2.resize(img, (int(w * share), int(w * share * img.shape[0] / img.shape[1])))
    y, x = (h - small.shape[0]) // 2, w - small.shape[1] - w // 20
    out[y : y + small.shape[0], x : x + small.shape[1]] = small
    return out


def reencode(img: Image) -> Image:
    return _jpeg(scale(img, 0.8), 35)


def transforms(background: Image) -> dict[str, Callable[[Image], Image]]:
    """The ordinary edits the matcher must survive, each named."""
    return {
        "identity": lambda i: i,
        "crop_70": crop,
        "scale_60": scale,
        "reencode_q35": reencode,
        "colour_shift": colour_shift,
        "flip": flip,
        "overlay_50": lambda i: overlay(i, background),
        "flip_crop_shift": lambda i: colour_shift(crop(flip(i), 0.8), 15),
    }


def fit(img: Image, width: int, height: int) -> Image:
    """``img`` letterboxed into a ``width x height`` frame (as a generator frames a still)."""
    out = np.full((height, width, 3), 20, np.uint8)
    s = min(width / img.shape[1], height / img.shape[0])
    small = cv2.resize(img, (max(2, int(img.shape[1] * s)), max(2, int(img.shape[0] * s))))
    y, x = (height - small.shape[0]) // 2, (width - small.shape[1]) // 2
    out[y : y + small.shape[0], x : x + small.shape[1]] = small
    return out


def drifting(img: Image, width: int, height: int, frames: int) -> np.ndarray:
    """A clip that slowly zooms into ``img`` (letterboxed): what an output showing it is."""
    base = fit(img, width, height)
    out = []
    for t in range(frames):
        z = 1.0 + 0.1 * t / max(1, frames - 1)
        m = cv2.getRotationMatrix2D((width / 2, height / 2), 0, z)
        out.append(cv2.warpAffine(base, m, (width, height), borderMode=cv2.BORDER_REFLECT))
    return np.stack(out)
