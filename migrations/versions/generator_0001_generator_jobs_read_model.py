"""generator jobs read model

Revision ID: generator_0001
Revises: core_0001
Create Date: 2026-11-22 03:34:24.803118
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "generator_0001"
down_revision: str | Sequence[str] | None = "core_0001"
branch_labels: str | Sequence[str] | None = ("generator",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "gen_jobs",
        sa.Column("generation_id", sa.String(length=200), nullable=False),
        sa.Column("requester_id", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("tier", sa.String(length=16), nullable=True),
        sa.Column("backend", sa.String(length=64), nullable=True),
        sa.Column("model_id", sa.String(length=200), nullable=True),
        sa.Column("master_blob", sa.String(length=80), nullable=True),
        sa.Column("asset_id", sa.String(length=200), nullable=True),
        sa.Column("download_blob", sa.String(length=80), nullable=True),
        sa.Column("failure_reason", sa.String(length=64), nullable=True),
        sa.Column("failure_error", sa.Text(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column(
            "blocked_categories",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("removed", sa.Boolean(), nullable=False),
        sa.Column(
            "removal_holds",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("generation_id", name=op.f("pk_gen_jobs")),
    )
    with op.batch_alter_table("gen_jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_gen_jobs_requester_id"), ["requester_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("gen_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_gen_jobs_requester_id"))
    op.drop_table("gen_jobs")
