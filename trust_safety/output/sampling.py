"""Frame sampling for output moderation."""

from __future__ import annotations

import numpy as np

from trust_safety.output.errors import InvalidFrames

DEFAULT_RATE_HZ = 2.0


def sample_indices(
    n_frames: int, fps: float, rate_hz: float = DEFAULT_RATE_HZ
) -> list[tuple[int, float]]:
    """(frame index, time in seconds) at ``rate_hz`` starting at t=0; a clip shorter than one
    sampling period still gets its first frame checked."""
    if n_frames <= 0:
        raise InvalidFrames("a video with no frames cannot be moderated")
    if not fps > 0 or not rate_hz > 0:
        raise InvalidFrames(f"fps and rate must be positive, got fps={fps}, rate={rate_hz}")
    duration = n_frames / fps
    times = list(np.arange(0.0, duration, 1.0 / rate_hz))
    out: list[tuple[int, float]] = []
    for t in times:
        idx = min(n_frames - 1, int(round(t * fps)))
        if not out or out[-1][0] != idx:
            out.append((idx, round(idx / fps, 4)))
    return out
