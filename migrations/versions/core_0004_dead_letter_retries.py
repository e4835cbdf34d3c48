"""dead letters an operator retried: when the retry applied them

Every dead letter is also an ``EventDeadLettered`` event (core/deadletters.py); the row keeps
the full error for operators and, from this revision, when a retry applied it.

Revision ID: core_0004
Revises: core_0003
Create Date: 2026-12-01 23:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "core_0004"
down_revision: str | Sequence[str] | None = "core_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("dead_letters") as batch:
        batch.add_column(sa.Column("retried_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("dead_letters") as batch:
        batch.drop_column("retried_at")
