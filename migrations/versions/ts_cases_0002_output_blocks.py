"""cases: blocked outputs for the reviewers' queue

``cases_output_blocks`` (one row per generation output moderation blocked: the verdicts and
per-frame scores behind the block, its enforcement action and its release), written by the
``cases-output-blocks`` projection.

Revision ID: ts_cases_0002
Revises: ts_likeness_0003
Create Date: 2026-12-02 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "ts_cases_0002"
down_revision: str | Sequence[str] | None = "ts_likeness_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "cases_output_blocks",
        sa.Column("generation_id", sa.String(length=200), nullable=False),
        sa.Column("action_id", sa.String(length=64), nullable=True),
        sa.Column("requester_id", sa.String(length=128), nullable=True),
        sa.Column("policy_version", sa.String(length=100), nullable=True),
        sa.Column("blocked_categories", JSON, nullable=False),
        sa.Column("verdicts", JSON, nullable=False),
        sa.Column("frames", JSON, nullable=False),
        sa.Column("blocked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("release_appeal_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("generation_id", name=op.f("pk_cases_output_blocks")),
    )
    op.create_index(op.f("ix_cases_output_blocks_action_id"), "cases_output_blocks", ["action_id"])
    op.create_index(
        op.f("ix_cases_output_blocks_requester_id"), "cases_output_blocks", ["requester_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_cases_output_blocks_requester_id"), table_name="cases_output_blocks")
    op.drop_index(op.f("ix_cases_output_blocks_action_id"), table_name="cases_output_blocks")
    op.drop_table("cases_output_blocks")
