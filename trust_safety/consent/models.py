"""Read-model tables of the consent ledger (written only by the ConsentLedger projection)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base
from core.privacy import personal_column
from core.store import JsonType


class CameoRow(Base):
    __tablename__ = "consent_cameos"

    cameo_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner_id: Mapped[str] = mapped_column(String(128), nullable=False, index=True)
    handle: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    display_name: Mapped[str] = mapped_column(
        String(80), nullable=False, info=personal_column("owner_id")
    )
    audience: Mapped[str] = mapped_column(String(20), nullable=False)
    liveness_reference: Mapped[str] = mapped_column(
        String(256), nullable=False, info=personal_column("owner_id")
    )
    liveness_result: Mapped[str] = mapped_column(String(16), nullable=False)
    liveness_checked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    # "capture" (the service checked the enrolment capture) or "provider" (a liveness
    # provider's verdict); NULL for cameos registered with a liveness the caller asserted.
    liveness_source: Mapped[str | None] = mapped_column(String(16), nullable=True)
    enrolled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    public_figure_id: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # Facts folded into this record (consent events plus appearances from other streams).
    version: Mapped[int] = mapped_column(Integer, nullable=False)


class CameoPersonRow(Base):
    """The owner's latest explicit decision about one person (grant or revocation)."""

    __tablename__ = "consent_people"

    cameo_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    granted: Mapped[bool] = mapped_column(Boolean, nullable=False)
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class CameoHistoryRow(Base):
    __tablename__ = "consent_history"

    cameo_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    actor_id: Mapped[str] = mapped_column(String(128), nullable=False)
    action: Mapped[str] = mapped_column(String(32), nullable=False)
    subject_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JsonType, nullable=False, default=dict)


class CameoAppearanceRow(Base):
    """A draft or published video that uses a cameo, whoever made it."""

    __tablename__ = "consent_appearances"
    __table_args__ = (Index("ix_consent_appearances_generation", "generation_id"),)

    cameo_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    generation_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    creator_id: Mapped[str] = mapped_column(String(128), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    asset_id: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)
    first_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    removed_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)


class ConsentGenerationRow(Base):
    """Which cameos a generation uses and who asked for it (from the generation stream), and
    whether its video is removed (from the asset stream, which may be heard first: then the
    requester is not known yet)."""

    __tablename__ = "consent_generations"

    generation_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    requester_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    cameo_ids: Mapped[list[str]] = mapped_column(JsonType, nullable=False, default=list)
    asset_id: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)
    removed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    removed_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    # Set once the generation failed for good (GenerationFailed's reason, e.g. consent_revoked).
    failure_reason: Mapped[str | None] = mapped_column(String(64), nullable=True)
