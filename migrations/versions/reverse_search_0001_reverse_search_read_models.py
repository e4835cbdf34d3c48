"""reverse search read models

Revision ID: reverse_search_0001
Revises: core_0001
Create Date: 2026-11-22 03:27:34.680964
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "reverse_search_0001"
down_revision: str | Sequence[str] | None = "core_0001"
branch_labels: str | Sequence[str] | None = ("reverse_search",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rs_account_actions",
        sa.Column("action_id", sa.String(length=128), nullable=False),
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=128), nullable=True),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reversed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("puid", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("action_id", name=op.f("pk_rs_account_actions")),
    )
    with op.batch_alter_table("rs_account_actions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rs_account_actions_account_id"), ["account_id"], unique=False
        )

    op.create_table(
        "rs_assets",
        sa.Column("asset_id", sa.String(length=128), nullable=False),
        sa.Column("generation_id", sa.String(length=128), nullable=True),
        sa.Column("blob_address", sa.String(length=80), nullable=True),
        sa.Column("manifest_id", sa.String(length=255), nullable=True),
        sa.Column("watermark_payload", sa.String(length=128), nullable=True),
        sa.Column(
            "c2pa",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column(
            "holds",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "enforcement",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("asset_id", name=op.f("pk_rs_assets")),
    )
    with op.batch_alter_table("rs_assets", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rs_assets_generation_id"), ["generation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_rs_assets_manifest_id"), ["manifest_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_rs_assets_watermark_payload"), ["watermark_payload"], unique=False
        )

    op.create_table(
        "rs_generations",
        sa.Column("generation_id", sa.String(length=128), nullable=False),
        sa.Column("account_id", sa.String(length=128), nullable=True),
        sa.Column("prompt", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "moderation",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "timeline",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "holds",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("generation_id", name=op.f("pk_rs_generations")),
    )
    with op.batch_alter_table("rs_generations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rs_generations_account_id"), ["account_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("rs_generations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rs_generations_account_id"))

    op.drop_table("rs_generations")
    with op.batch_alter_table("rs_assets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rs_assets_watermark_payload"))
        batch_op.drop_index(batch_op.f("ix_rs_assets_manifest_id"))
        batch_op.drop_index(batch_op.f("ix_rs_assets_generation_id"))

    op.drop_table("rs_assets")
    with op.batch_alter_table("rs_account_actions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rs_account_actions_account_id"))

    op.drop_table("rs_account_actions")
