"""Read-model tables of the reverse-search indexer (everything derived from events only).

Which assets may match lives here, not in FAISS: a search filters its candidates through
``rs_assets`` so a removal is effective the moment its event is projected, in every process,
whatever the age of the index snapshot that process has loaded.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Float, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base
from core.privacy import personal_column
from core.store import JsonType


class GenerationRecord(Base):
    __tablename__ = "rs_generations"

    generation_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    account_id: Mapped[str | None] = mapped_column(String(128), index=True)
    prompt: Mapped[str | None] = mapped_column(Text, info=personal_column("account_id"))
    status: Mapped[str] = mapped_column(String(32), nullable=False)
    requested_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # [{"event", "at", ...decision fields}] in event order
    moderation: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, nullable=False)
    timeline: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, nullable=False)
    # Holds on every asset of the generation (a cameo owner removing their appearance).
    holds: Mapped[dict[str, str]] = mapped_column(JsonType, nullable=False)


class AssetRecord(Base):
    __tablename__ = "rs_assets"

    asset_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    generation_id: Mapped[str | None] = mapped_column(String(128), index=True)
    blob_address: Mapped[str | None] = mapped_column(String(80))
    manifest_id: Mapped[str | None] = mapped_column(String(255), index=True)
    watermark_payload: Mapped[str | None] = mapped_column(String(128), index=True)
    c2pa: Mapped[dict[str, Any]] = mapped_column(JsonType, nullable=False)
    signed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    duration_s: Mapped[float | None] = mapped_column(Float)
    # hold key -> reason; the asset matches only while no hold remains on it or its generation
    holds: Mapped[dict[str, str]] = mapped_column(JsonType, nullable=False)
    enforcement: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, nullable=False)


class AccountAction(Base):
    """Enforcement on accounts, shown with the generations those accounts made."""

    __tablename__ = "rs_account_actions"

    action_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(128), index=True, nullable=False)
    kind: Mapped[str] = mapped_column(String(64), nullable=False)
    category: Mapped[str | None] = mapped_column(String(128))
    taken_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    reversed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    puid: Mapped[str | None] = mapped_column(String(255))
