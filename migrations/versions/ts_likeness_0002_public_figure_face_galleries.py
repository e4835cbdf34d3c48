"""public figures' face galleries (reference embeddings, encrypted)

``likeness_gallery_entries`` holds the reference embeddings admins attach to a listed public
figure, one row per attachment, encrypted under a key of the entry's own (sealed by the
keyring under the figure's subject key). The photos are never stored. Written with the
``PublicFigureFaceAdded`` / ``PublicFigureFaceRemoved`` events, not projected from them (the
events never hold the embeddings), so nothing is rebuilt.

Revision ID: ts_likeness_0002
Revises: ts_likeness_0001
Create Date: 2026-12-15 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "ts_likeness_0002"
down_revision: str | Sequence[str] | None = "ts_likeness_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "likeness_gallery_entries",
        sa.Column("entry_id", sa.String(length=64), nullable=False),
        sa.Column("public_figure_id", sa.String(length=128), nullable=False),
        sa.Column("model_version", sa.String(length=128), nullable=False),
        sa.Column("embeddings", sa.Integer(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "sealed_key",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_likeness_gallery_entries")),
    )
    op.create_index(
        op.f("ix_likeness_gallery_entries_public_figure_id"),
        "likeness_gallery_entries",
        ["public_figure_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_likeness_gallery_entries_public_figure_id"),
        table_name="likeness_gallery_entries",
    )
    op.drop_table("likeness_gallery_entries")
