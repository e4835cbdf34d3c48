"""Limits on input media; typed, with safe defaults, overridable per deployment."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class UploadLimits:
    max_image_bytes: int = 20 * 1024 * 1024
    max_video_bytes: int = 200 * 1024 * 1024
    min_side: int = 64
    max_image_side: int = 4096
    # Video inputs (extend/remix sources) stay within what the generator outputs.
    max_video_long_side: int = 1920
    max_video_short_side: int = 1080
    max_video_seconds: float = 20.0
    max_video_fps: float = 60.0
    # Frames sampled from a video for the NSFW and face checks.
    sampled_frames: int = 6
