"""Read-model tables of the feed (written only by the feed projection)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base
from core.store import JsonType


class FeedAssetRow(Base):
    """An asset the feed has heard of; in feeds only once ``published_at`` is set."""

    __tablename__ = "feed_assets"

    asset_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    generation_id: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    owner_id: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    parent_generation_ids: Mapped[list[str]] = mapped_column(JsonType, nullable=False, default=list)
    title: Mapped[str | None] = mapped_column(String(500), nullable=True)
    featured_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Copied from feed_visibility so feed queries are one indexed scan.
    removed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    restricted: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    age_restricted: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    labels: Mapped[list[str]] = mapped_column(JsonType, nullable=False, default=list)

    __table_args__ = (
        Index("ix_feed_assets_recent", "removed", "restricted", "published_at", "asset_id"),
        Index("ix_feed_assets_featured", "featured_at"),
    )


class FeedRemixRow(Base):
    """One remix edge: ``child_asset_id`` remixes the generation ``parent_generation_id``."""

    __tablename__ = "feed_remixes"

    parent_generation_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    child_asset_id: Mapped[str] = mapped_column(String(200), primary_key=True)


class FeedVisibilityRow(Base):
    """The latest visibility of a generation's asset, as the assets domain published it. Kept
    by generation because it can arrive before the asset is signed; the asset row copies it."""

    __tablename__ = "feed_visibility"

    generation_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    removed: Mapped[bool] = mapped_column(Boolean, nullable=False)
    restricted: Mapped[bool] = mapped_column(Boolean, nullable=False)
    age_restricted: Mapped[bool] = mapped_column(Boolean, nullable=False)
    labels: Mapped[list[str]] = mapped_column(JsonType, nullable=False, default=list)


class FeedAccountHoldRow(Base):
    """A suspension (with its end) or a ban on an account: its assets leave every feed."""

    __tablename__ = "feed_account_holds"

    action_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class FeedFollowRow(Base):
    __tablename__ = "feed_follows"

    follower_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    followee_id: Mapped[str] = mapped_column(String(128), primary_key=True, index=True)
