"""What ``/v1/uploads`` answers (``UploadPublic``): the outcome and the file's facts; the
classifier scores, face boxes and evidence stay in the decision record."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class UploadPublic(BaseModel):
    upload_id: str
    outcome: Literal["approved", "refused"]
    reason_category: str | None = Field(description="why it was refused (a category only)")
    media_type: str = Field(examples=["image/png", "video/mp4"])
    width: int
    height: int
    duration_s: float | None = Field(description="clips only")
    sha256: str
