"""likeness matches: the cameo owner's view of the videos their face was found in

``likeness_matches`` (one row per cameo found in a generation, with the owner's archive,
report and removal), ``likeness_generations`` (what became of those generations) and
``likeness_refusals`` (requests refused because of a cameo), all written by the
``likeness-matches`` projection.

Revision ID: ts_likeness_0003
Revises: ts_likeness_0002
Create Date: 2026-12-15 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "ts_likeness_0003"
down_revision: str | Sequence[str] | None = "ts_likeness_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "likeness_matches",
        sa.Column("cameo_id", sa.String(length=64), nullable=False),
        sa.Column("generation_id", sa.String(length=64), nullable=False),
        sa.Column("owner_id", sa.String(length=128), nullable=False),
        sa.Column("creator_id", sa.String(length=128), nullable=True),
        sa.Column("matched_as", sa.String(length=16), nullable=False),
        sa.Column("public_figure_id", sa.String(length=128), nullable=True),
        sa.Column("ranges", JSON, nullable=False),
        sa.Column("best_distance", sa.Float(), nullable=False),
        sa.Column("best_time_s", sa.Float(), nullable=False),
        sa.Column("frames_matched", sa.Integer(), nullable=False),
        sa.Column("frames_sampled", sa.Integer(), nullable=False),
        sa.Column("consented", sa.Boolean(), nullable=False),
        sa.Column("consent_reason", sa.String(length=40), nullable=False),
        sa.Column("output_blocked", sa.Boolean(), nullable=False),
        sa.Column("blocked_categories", JSON, nullable=False),
        sa.Column("thumbnail_blob", sa.String(length=80), nullable=True),
        sa.Column("thumbnail_key", sa.String(length=64), nullable=True),
        sa.Column("matched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("report_id", sa.String(length=64), nullable=True),
        sa.Column("case_id", sa.String(length=260), nullable=True),
        sa.Column("removed_by_owner_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("cameo_id", "generation_id", name=op.f("pk_likeness_matches")),
    )
    op.create_index(
        op.f("ix_likeness_matches_owner_id"), "likeness_matches", ["owner_id"], unique=False
    )
    op.create_table(
        "likeness_generations",
        sa.Column("generation_id", sa.String(length=64), nullable=False),
        sa.Column("asset_id", sa.String(length=64), nullable=True),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("removed", sa.Boolean(), nullable=False),
        sa.Column("removed_reason", sa.String(length=500), nullable=True),
        sa.Column("cameo_holds", JSON, nullable=False),
        sa.PrimaryKeyConstraint("generation_id", name=op.f("pk_likeness_generations")),
    )
    op.create_table(
        "likeness_refusals",
        sa.Column("cameo_id", sa.String(length=64), nullable=False),
        sa.Column("generation_id", sa.String(length=64), nullable=False),
        sa.Column("requester_id", sa.String(length=128), nullable=True),
        sa.Column("stage", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("refused_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("cameo_id", "generation_id", name=op.f("pk_likeness_refusals")),
    )


def downgrade() -> None:
    op.drop_table("likeness_refusals")
    op.drop_table("likeness_generations")
    op.drop_index(op.f("ix_likeness_matches_owner_id"), table_name="likeness_matches")
    op.drop_table("likeness_matches")
