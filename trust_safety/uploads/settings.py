"""Upload face policy settings, read from ``CLEARFRAME_UPLOADS_*``."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from core.settings import DomainSettings


class UploadSettings(DomainSettings):
    model_config = SettingsConfigDict(env_prefix="CLEARFRAME_UPLOADS_", extra="ignore")

    # A face whose estimated age is under adult_age + age_margin is refused as a minor. The
    # age model's error on adults is several years (docs/likeness.md), and it overestimates
    # teenagers, so the margin keeps the bar above 18 on purpose.
    adult_age: int = Field(default=18, ge=1, le=120)
    age_margin: float = Field(default=4.0, ge=0, le=30)
