"""provenance signed-asset registry

Revision ID: provenance_0001
Revises: core_0001
Create Date: 2026-11-22 03:36:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "provenance_0001"
down_revision: str | Sequence[str] | None = "core_0001"
branch_labels: str | Sequence[str] | None = ("provenance",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "prov_assets",
        sa.Column("asset_id", sa.String(length=200), nullable=False),
        sa.Column("generation_id", sa.String(length=200), nullable=False),
        sa.Column("requester_id", sa.String(length=200), nullable=True),
        sa.Column("serial", sa.String(length=16), nullable=False),
        sa.Column("tier", sa.String(length=16), nullable=False),
        sa.Column("blob_address", sa.String(length=80), nullable=False),
        sa.Column("download_blob_address", sa.String(length=80), nullable=False),
        sa.Column("manifest_id", sa.String(length=200), nullable=False),
        sa.Column("bytes", sa.Integer(), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("removed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("asset_id", name=op.f("pk_prov_assets")),
        sa.UniqueConstraint("generation_id", name=op.f("uq_prov_assets_generation_id")),
    )
    with op.batch_alter_table("prov_assets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_prov_assets_serial"), ["serial"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("prov_assets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_prov_assets_serial"))
    op.drop_table("prov_assets")
