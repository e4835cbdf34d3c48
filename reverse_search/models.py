"""Read-model tables of the reverse-search indexer (everything derived from events only).

Who may see which asset lives here, not in FAISS (which holds every signed asset): a public
lookup filters its candidates through ``rs_generations.visibility`` so a removal is effective
the moment its event is projected, in every process, whatever the age of the index snapshot
that process has loaded; investigators see every asset, flagged with that state.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Float, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from contracts.assets import Visibility
from core.db import Base
from core.privacy import personal_column
from core.store import JsonType


def publicly_resolvable(visibility: str | None) -> bool:
    """Public lookups (the C2PA soft-binding resolution) find an asset unless its generation
    is removed (by enforcement, its cameo owner or output moderation); restricted,
    age-restricted and labelled assets still resolve: they are shown, with limits."""
    return visibility != Visibility.REMOVED


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
    # The holds on the generation's asset and what they add up to, copied from the assets
    # domain's AssetVisibilityChanged; investigators' results are flagged with them, public
    # lookups skip ``removed``.
    holds: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, nullable=False)
    visibility: Mapped[str] = mapped_column(String(20), nullable=False, default="visible")


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
