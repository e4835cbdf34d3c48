"""The model-backend protocol and the built-in procedural backend."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from generator.backends.procedural import (
    MAX_DURATION_S,
    MAX_FPS,
    MAX_SIDE,
    check_image,
    render_clip,
)
from generator.errors import InvalidRenderRequest


@dataclass(frozen=True)
class RenderRequest:
    """What to render. Sizes are pixels; frames = round(duration_s * fps).

    ``image``: an image-to-video request's input (RGB uint8), decoded from its upload."""

    prompt: str
    seed: int
    width: int
    height: int
    duration_s: float
    fps: int = 24
    negative_prompt: str | None = None
    image: NDArray[np.uint8] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.prompt, str) or not self.prompt.strip():
            raise InvalidRenderRequest("prompt must be a non-empty string")
        if (
            not isinstance(self.seed, int)
            or isinstance(self.seed, bool)
            or not 0 <= self.seed < 2**63
        ):
            raise InvalidRenderRequest(f"seed must be an integer in [0, 2**63), got {self.seed!r}")
        for name in ("width", "height"):
            side = getattr(self, name)
            if not isinstance(side, int) or not 16 <= side <= MAX_SIDE or side % 2:
                raise InvalidRenderRequest(
                    f"{name} must be an even integer in [16, {MAX_SIDE}] (H.264 yuv420p), got {side!r}"
                )
        if not isinstance(self.fps, int) or not 1 <= self.fps <= MAX_FPS:
            raise InvalidRenderRequest(
                f"fps must be an integer in [1, {MAX_FPS}], got {self.fps!r}"
            )
        if not math.isfinite(self.duration_s) or not 0 < self.duration_s <= MAX_DURATION_S:
            raise InvalidRenderRequest(
                f"duration_s must be in (0, {MAX_DURATION_S}], got {self.duration_s!r}"
            )
        if self.image is not None:
            check_image(self.image)

    @property
    def num_frames(self) -> int:
        return max(1, int(round(self.duration_s * self.fps)))


@dataclass(frozen=True)
class RenderedVideo:
    frames: np.ndarray  # uint8 RGB (T, H, W, 3)
    fps: int
    backend: str
    model_id: str


@runtime_checkable
class VideoBackend(Protocol):
    """A text-to-video model. ``render`` raises BackendFailed for failures worth a retry and
    BackendUnavailable / InvalidRenderRequest for ones that are not."""

    name: str
    model_id: str

    def render(self, request: RenderRequest) -> RenderedVideo: ...


class ProceduralBackend:
    """Built-in CPU backend. Not a learned model: a deterministic procedural renderer (see
    :mod:`generator.backends.procedural`) so that the embedded default and the tests produce
    real, distinct videos without weights or a GPU. An image-to-video input is composited
    into the clip, large and moving slowly (a face in it stays detectable)."""

    name = "procedural"
    model_id = "clearframe-procedural-v1"

    def render(self, request: RenderRequest) -> RenderedVideo:
        frames = render_clip(
            request.prompt,
            request.seed,
            request.width,
            request.height,
            request.duration_s,
            request.fps,
            image=request.image,
        )
        return RenderedVideo(
            frames=frames, fps=request.fps, backend=self.name, model_id=self.model_id
        )
