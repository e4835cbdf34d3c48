"""Harmless media for the hash bank tests: random shapes on a coloured ground, and short
clips of moving shapes. Nothing here is or resembles harmful media; the banks in these tests
hold hashes of these pictures only."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from tests.trust_safety.uploads import media_factory


def scene(seed: int, width: int = 320, height: int = 240) -> Image.Image:
    rng = np.random.default_rng(seed)
    image = Image.new("RGB", (width, height), tuple(int(v) for v in rng.integers(0, 255, 3)))
    draw = ImageDraw.Draw(image)
    for _ in range(30):
        x0, y0 = int(rng.integers(-40, width)), int(rng.integers(-40, height))
        x1, y1 = x0 + int(rng.integers(10, 120)), y0 + int(rng.integers(10, 90))
        fill = tuple(int(v) for v in rng.integers(0, 255, 3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)([x0, y0, x1, y1], fill=fill)
    return image.filter(ImageFilter.GaussianBlur(1))


def encoded(image: Image.Image, fmt: str = "PNG", **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def clip_frames(
    seed: int, seconds: int = 3, fps: int = 8, size: tuple[int, int] = (160, 128)
) -> list[np.ndarray]:
    """A clip whose picture changes every second (a new scene each second, drifting)."""
    frames = []
    for t in range(seconds * fps):
        base = scene(seed * 100 + t // fps, *size)
        shift = (t % fps) * 2
        frames.append(np.roll(np.asarray(base), shift, axis=1))
    return frames


def mp4(frames: list[np.ndarray], fps: int = 8) -> bytes:
    """These frames are RGB (PIL), the upload factory's default is OpenCV's BGR."""
    return media_factory.mp4(frames, fps=fps, pixel_format="rgb24")


def hash_file(path: Path, lines: list[tuple[str, str]]) -> Path:
    """A hash file in threatexchange's local file format: '<signal type> <hash>' a line."""
    path.write_text("".join(f"{t} {s}\n" for t, s in lines), encoding="utf-8")
    return path
