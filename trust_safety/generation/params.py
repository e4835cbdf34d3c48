"""What a requester may ask for, validated before anything is appended."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from contracts.generation import GenerationKind, GenerationParameters, Tier

MAX_DURATION_S = 20.0
MAX_CAMEOS = 4
DEFAULT_FPS = 24

Resolution = Literal["360p", "480p", "720p", "1080p"]
AspectRatio = Literal["16:9", "9:16", "1:1", "4:3", "3:4", "21:9"]
_SHORT_SIDE = {"360p": 360, "480p": 480, "720p": 720, "1080p": 1080}
_RATIO = {
    "16:9": (16, 9),
    "9:16": (9, 16),
    "1:1": (1, 1),
    "4:3": (4, 3),
    "3:4": (3, 4),
    "21:9": (21, 9),
}

Identifier = Annotated[
    str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
]


class GenerationRequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: GenerationKind = "text_to_video"
    prompt: str = Field(min_length=1, max_length=2000)
    negative_prompt: str | None = Field(default=None, max_length=1000)
    duration_s: float = Field(default=5.0, gt=0.0, le=MAX_DURATION_S)
    resolution: Resolution = "720p"
    aspect_ratio: AspectRatio = "16:9"
    fps: int = Field(default=DEFAULT_FPS, ge=8, le=60)
    seed: int | None = Field(default=None, ge=0, le=2**32 - 1)
    tier: Tier = "free"
    upload_id: Identifier | None = None
    source_generation_id: Identifier | None = None
    remix_of: list[Identifier] = Field(default_factory=list, max_length=4)
    cameo_ids: list[Identifier] = Field(default_factory=list, max_length=MAX_CAMEOS)
    territory: str | None = Field(default=None, pattern=r"^[A-Za-z]{2}$")

    @field_validator("territory")
    @classmethod
    def _a_real_territory(cls, value: str | None) -> str | None:
        # A made-up code ("XX") would otherwise be stored as the request's territory; the
        # opt-out registry owns which codes are real.
        if value is None:
            return None
        from trust_safety.optout.public import territory_code

        try:
            return territory_code(value)
        except ValueError as exc:
            raise ValueError(str(exc)) from None

    @model_validator(mode="after")
    def _kind_needs_its_inputs(self) -> GenerationRequestIn:
        if self.kind == "image_to_video" and self.upload_id is None:
            raise ValueError("image_to_video needs upload_id (an approved image upload)")
        if self.kind != "image_to_video" and self.upload_id is not None:
            raise ValueError("upload_id is only accepted for image_to_video")
        if self.kind == "extend" and self.source_generation_id is None:
            raise ValueError("extend needs source_generation_id (the video to continue)")
        if self.kind == "remix" and not (self.source_generation_id or self.remix_of):
            raise ValueError("remix needs source_generation_id or remix_of")
        if self.kind in ("text_to_video", "image_to_video") and (
            self.source_generation_id or self.remix_of
        ):
            raise ValueError(f"{self.kind} takes no source generation")
        return self

    def lineage(self) -> tuple[str | None, list[str]]:
        """(extends, remix_of) as stored on the event."""
        if self.kind == "extend":
            return self.source_generation_id, []
        if self.kind == "remix":
            parents = list(
                dict.fromkeys(
                    [
                        *([self.source_generation_id] if self.source_generation_id else []),
                        *self.remix_of,
                    ]
                )
            )
            return None, parents
        return None, []

    def parameters(self) -> GenerationParameters:
        """The render parameters: the requester's choices and the frame size they imply."""
        width, height = self.frame_size()
        chosen = self.model_dump(include=set(GenerationParameters.model_fields))
        return GenerationParameters(**chosen, width=width, height=height)

    def frame_size(self) -> tuple[int, int]:
        """Width and height: the resolution is the short side, rounded to a multiple of 8."""
        short = _SHORT_SIDE[self.resolution]
        w, h = _RATIO[self.aspect_ratio]
        if w >= h:
            return _round8(short * w / h), short
        return short, _round8(short * h / w)


def _round8(value: float) -> int:
    return int(round(value / 8.0)) * 8
