"""optout: blocks by stage (prompt or output) and what of the filing matched; consent: failed
generations

``optout_blocks`` gains ``stage`` (``prompt``: the gate refused the request; ``output``:
output moderation blocked the video) and ``matched`` (the holder's terms, or the sha256 of
the reference files the output showed). Rows written before this were all prompt refusals.
``consent_generations`` gains ``failure_reason`` (a generation that failed for good: its
appearances show ``failed``).

Revision ID: ts_optout_0001
Revises: ts_cases_0002
Create Date: 2026-12-02 06:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "ts_optout_0001"
down_revision: str | Sequence[str] | None = "ts_cases_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    # Server defaults only to fill the rows already there; the projection writes both.
    with op.batch_alter_table("optout_blocks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("stage", sa.String(length=16), nullable=False, server_default="prompt")
        )
        batch_op.add_column(
            sa.Column("matched", JSON, nullable=False, server_default=sa.text("'[]'"))
        )
    with op.batch_alter_table("optout_blocks", schema=None) as batch_op:
        batch_op.alter_column("stage", server_default=None)
        batch_op.alter_column("matched", server_default=None)
    with op.batch_alter_table("consent_generations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failure_reason", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("consent_generations", schema=None) as batch_op:
        batch_op.drop_column("failure_reason")
    with op.batch_alter_table("optout_blocks", schema=None) as batch_op:
        batch_op.drop_column("matched")
        batch_op.drop_column("stage")
