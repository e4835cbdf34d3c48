"""Read model of the provenance domain: signed assets and their watermark serials."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base


class ProvAsset(Base):
    """One signed asset. Verification maps a detected serial to its generation here; the
    signer finds remix parents' files here."""

    __tablename__ = "prov_assets"

    asset_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    generation_id: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)
    requester_id: Mapped[str | None] = mapped_column(String(200))
    serial: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    tier: Mapped[str] = mapped_column(String(16), nullable=False)
    blob_address: Mapped[str] = mapped_column(String(80), nullable=False)
    download_blob_address: Mapped[str] = mapped_column(String(80), nullable=False)
    manifest_id: Mapped[str] = mapped_column(String(200), nullable=False)
    bytes: Mapped[int] = mapped_column(Integer, nullable=False)
    signed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    removed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


class ProvVisibility(Base):
    """A generation's visibility as the assets domain published it, kept by generation: it
    can be decided before the asset is signed, and the signed asset takes it then."""

    __tablename__ = "prov_visibility"

    generation_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    visibility: Mapped[str] = mapped_column(String(20), nullable=False)
