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

    @model_validator(mode="after")
    def _clip_both_or_neither(self) -> OutputModerationSettings:
        if (self.clip_model is None) != (self.clip_checkpoint is None):
            raise ValueError(
                "set both CLEARFRAME_OUTPUT_MODERATION_CLIP_MODEL and _CLIP_CHECKPOINT, or neither"
            )
        return self
