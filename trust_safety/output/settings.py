"""Output moderation settings, read from ``CLEARFRAME_OUTPUT_MODERATION_*``."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from core.settings import DomainSettings


class OutputModerationSettings(DomainSettings):
    model_config = SettingsConfigDict(env_prefix="CLEARFRAME_OUTPUT_MODERATION_", extra="ignore")

    nudenet: bool = True
    faces: bool = True
    # open_clip zero-shot: both or neither (nothing is downloaded; the checkpoint is local).
    clip_model: str | None = None
    clip_checkpoint: Path | None = None
    clip_device: str = "cpu"
    sample_rate_hz: float = Field(default=2.0, ge=0.1, le=30)
    # A face estimated under adult_age + minor_age_margin switches the policy to its strict
    # minor thresholds (the age model overestimates teenagers: docs/likeness.md).
    adult_age: float = Field(default=18.0, gt=0, le=120)
    minor_age_margin: float = Field(default=7.0, ge=0, le=30)
    # The HOG score a face needs before its age counts (real faces ~0.9-2.7; textures < 0.3).
    min_face_score: float = Field(default=0.5, ge=0, le=5)

    @model_validator(mode="after")
    def _clip_both_or_neither(self) -> OutputModerationSettings:
        if (self.clip_model is None) != (self.clip_checkpoint is None):
            raise ValueError(
                "set both CLEARFRAME_OUTPUT_MODERATION_CLIP_MODEL and _CLIP_CHECKPOINT, or neither"
            )
        return self
