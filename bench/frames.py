"""What the copy-detection benchmark's transforms share: the frame rate, the transform
signature and two small helpers."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

FPS = 24

# (frames, rng) -> (frames, fps, source range shown in seconds, bitrate or None)
Transform = Callable[
    [np.ndarray, np.random.Generator], tuple[np.ndarray, float, tuple[float, float], int | None]
]


def even(x: int) -> int:
    """The nearest even size at or below x (yuv420p needs even sides), at least 2."""
    return max(2, x - x % 2)


def full_range(frames: np.ndarray) -> tuple[float, float]:
    """The source range of a query that shows all of its source's frames."""
    return 0.0, len(frames) / FPS
