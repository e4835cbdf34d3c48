"""subject keys for crypto-shredding personal data; events name whose personal data they seal

``subject_keys`` holds one data key per person and generation, wrapped under the deployment's
secret key; an erasure deletes the key material and keeps the row (when it was erased).
``events.personal_subject`` names the person whose fields the payload holds sealed (NULL for
events holding none), so a reader opens only those payloads. Events written before this
revision hold no sealed fields (see docs/privacy.md).

Revision ID: core_0003
Revises: core_0002
Create Date: 2026-12-03 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "core_0003"
down_revision: str | Sequence[str] | None = "core_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "subject_keys",
        sa.Column("subject_id", sa.String(length=128), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("subject_id", "generation", name=op.f("pk_subject_keys")),
    )
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("personal_subject", sa.String(length=128), nullable=True))
    op.create_index(
        "ix_events_personal_subject",
        "events",
        ["personal_subject"],
        sqlite_where=sa.text("personal_subject IS NOT NULL"),
        postgresql_where=sa.text("personal_subject IS NOT NULL"),
    )


def downgrade() -> None:
    # Sealed fields cannot be opened by the older code: downgrading loses them (they stay
    # encrypted in the payloads, and their keys go with this table).
    op.drop_index("ix_events_personal_subject", table_name="events")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("personal_subject")
    op.drop_table("subject_keys")
