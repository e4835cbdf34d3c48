"""What the generator API answers (``...Public``): the job row's internal fields (blob
addresses, error texts, removal holds, failure counts) stay out."""

from __future__ import annotations

from pydantic import BaseModel, Field

from core.openapi import Timestamp


class JobPublic(BaseModel):
    generation_id: str
    status: str = Field(examples=["approved", "started", "completed", "published", "blocked"])
    tier: str | None
    backend: str | None
    model_id: str | None
    asset_id: str | None
    failure_reason: str | None = Field(description="a stable reason code, never an error text")
    blocked_categories: list[str]
    downloadable: bool
    updated_at: Timestamp
