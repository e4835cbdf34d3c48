"""Read model of the generator: one row per generation job, from approval to download."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base
from core.store import JsonType


class GenerationJobRow(Base):
    __tablename__ = "gen_jobs"

    generation_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    requester_id: Mapped[str | None] = mapped_column(String(200), index=True)
    status: Mapped[str] = mapped_column(String(32), nullable=False)
    tier: Mapped[str | None] = mapped_column(String(16))
    backend: Mapped[str | None] = mapped_column(String(64))
    model_id: Mapped[str | None] = mapped_column(String(200))
    master_blob: Mapped[str | None] = mapped_column(String(80))
    asset_id: Mapped[str | None] = mapped_column(String(200), index=True)
    download_blob: Mapped[str | None] = mapped_column(String(80))
    failure_reason: Mapped[str | None] = mapped_column(String(64))
    failure_error: Mapped[str | None] = mapped_column(Text)
    failures: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    blocked_categories: Mapped[list[Any]] = mapped_column(JsonType, nullable=False, default=list)
    published: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    removed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # the asset's visibility as the assets domain published it; ``removed`` refuses downloads
    visibility: Mapped[str] = mapped_column(String(20), nullable=False, default="visible")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
