"""generator jobs found by asset id (the console's player and frames for a reported asset)

Revision ID: generator_0002
Revises: core_0005
Create Date: 2026-12-03 11:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "generator_0002"
down_revision: str | Sequence[str] | None = "core_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("gen_jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_gen_jobs_asset_id"), ["asset_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("gen_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_gen_jobs_asset_id"))
