"""What other domains may import from the generator (see core/READY.md: only public.py
crosses domain boundaries)."""

from __future__ import annotations

from generator.backends.procedural import render_clip
from generator.encoding import decode_frames, encode_mp4, probe_fps

__all__ = ["decode_frames", "encode_mp4", "probe_fps", "render_clip"]
