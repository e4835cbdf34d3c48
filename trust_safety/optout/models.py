"""Read-model tables of the opt-out registry (written only by the OptOutRegistry projection)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base
from core.privacy import personal_column
from core.store import JsonType


class OptOutRow(Base):
    __tablename__ = "optout_entries"

    optout_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    rights_holder_id: Mapped[str] = mapped_column(String(128), nullable=False, index=True)
    rights_holder_name: Mapped[str] = mapped_column(
        String(200), nullable=False, info=personal_column("rights_holder_id")
    )
    terms: Mapped[dict[str, Any]] = mapped_column(JsonType, nullable=False)
    reference_media: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, nullable=False)
    scopes: Mapped[list[str]] = mapped_column(JsonType, nullable=False)
    territories: Mapped[list[str]] = mapped_column(JsonType, nullable=False)
    filed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    history: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, nullable=False, default=list)
    # Global position of the last event folded in: the compiled matcher is keyed by the
    # registry's highest position, so it is rebuilt exactly when an opt-out changes.
    position: Mapped[int] = mapped_column(Integer, nullable=False)


class OptOutBlockRow(Base):
    """One generation this opt-out blocked: its request at the prompt gate, or its output.

    The generation id is the key that makes a redelivered event count once; the rights
    holder's view never shows it (nor who asked, nor the prompt)."""

    __tablename__ = "optout_blocks"

    optout_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    generation_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    blocked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    stage: Mapped[str] = mapped_column(String(16), nullable=False)  # prompt / output
    # What of the holder's own filing matched: terms (prompt) or reference sha256s (output).
    matched: Mapped[list[str]] = mapped_column(JsonType, nullable=False, default=list)
