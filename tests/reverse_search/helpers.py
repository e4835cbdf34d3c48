"""Small real clips for reverse-search tests, made with the project's procedural renderer."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from generator.backends.procedural import render_clip

WIDTH, HEIGHT, FPS = 160, 96, 24


@lru_cache(maxsize=64)
def clip(index: int, duration_s: float = 6.0) -> np.ndarray:
    frames = render_clip(f"test clip number {index}", index, WIDTH, HEIGHT, duration_s, FPS)
    frames.setflags(write=False)
    return frames
