"""Which generation an asset belongs to (enforcement names assets, streams are generations)."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base


class AssetDirectoryRow(Base):
    __tablename__ = "assets_directory"

    asset_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    generation_id: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)
