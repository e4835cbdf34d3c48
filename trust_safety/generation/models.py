"""Read model of generation requests, for polling and listing (table ``gen_requests``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, DateTime, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base
from core.privacy import personal_column
from core.store import JsonType
from trust_safety.cases.output_blocks import block_action_id


def review_of(generation_id: str, status: str) -> dict[str, str] | None:
    """What the requester of a blocked output can do: ask a person to review the block."""
    if status != "blocked":
        return None
    return {
        "decision_id": block_action_id(generation_id),
        "how": "POST /v1/appeals with this decision_id and why the block is wrong; a reviewer "
        "who was not involved decides, and a released video is signed and delivered as usual",
    }


class GenerationRequestRow(Base):
    __tablename__ = "gen_requests"

    generation_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    requester_id: Mapped[str] = mapped_column(String(64), index=True, nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    status: Mapped[str] = mapped_column(String(32), nullable=False)
    prompt: Mapped[str] = mapped_column(Text, nullable=False, info=personal_column("requester_id"))
    duration_s: Mapped[float] = mapped_column(Float, nullable=False)
    width: Mapped[int] = mapped_column(Integer, nullable=False)
    height: Mapped[int] = mapped_column(Integer, nullable=False)
    aspect_ratio: Mapped[str] = mapped_column(String(8), nullable=False)
    tier: Mapped[str] = mapped_column(String(8), nullable=False)
    seed: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    upload_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    extends: Mapped[str | None] = mapped_column(String(64), nullable=True)
    remix_of: Mapped[list[str]] = mapped_column(JsonType, nullable=False, default=list)
    cameo_ids: Mapped[list[str]] = mapped_column(JsonType, nullable=False, default=list)
    reason_category: Mapped[str | None] = mapped_column(String(64), nullable=True)
    prompt_rewritten: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    asset_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    position: Mapped[int] = mapped_column(BigInteger, nullable=False)

    def public(self) -> dict[str, Any]:
        """What the requester sees: parameters, status, the reason *category* only, and for a
        blocked output how to contest it."""
        return {
            "generation_id": self.generation_id,
            "kind": self.kind,
            "status": self.status,
            "prompt": self.prompt,
            "duration_s": self.duration_s,
            "width": self.width,
            "height": self.height,
            "aspect_ratio": self.aspect_ratio,
            "tier": self.tier,
            "seed": self.seed,
            "upload_id": self.upload_id,
            "extends": self.extends,
            "remix_of": list(self.remix_of),
            "cameo_ids": list(self.cameo_ids),
            "reason_category": self.reason_category,
            "review": review_of(self.generation_id, self.status),
            "prompt_rewritten": self.prompt_rewritten,
            "asset_id": self.asset_id,
            "requested_at": self.requested_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }
