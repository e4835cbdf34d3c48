"""Upload face policy settings, read from ``CLEARFRAME_UPLOADS_*``."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from core.settings import DomainSettings


class UploadSettings(DomainSettings):
    model_config = SettingsConfigDict(env_prefix="CLEARFRAME_UPLOADS_", extra="ignore")

    # A face whose estimated age is under adult_age + age_margin is refused as a minor. The
    # age model's error is several years and it overestimates teenagers (a 12-year-old was
    # estimated at 25; docs/likeness.md), so the bar sits at 25, where output moderation
    # treats a face as a possible minor. The adults in tests/data/faces were estimated at 27
    # to 71, in every transformed copy too (bench/likeness.py).
    adult_age: int = Field(default=18, ge=1, le=120)
    age_margin: float = Field(default=7.0, ge=0, le=30)
