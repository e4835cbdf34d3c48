"""the consent ledger asks the feed's follow graph instead of keeping its own copy

The mutual-follows audience reads the ``follow_graph`` port, which the feed answers from
``feed_follows``; ``consent_follows`` is dropped, with the ledger's tracking of the feed's
streams it no longer follows. Nothing is rebuilt: the ledger's other tables are unchanged.

Revision ID: ts_consent_0002
Revises: visibility_0001
Create Date: 2026-12-10 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "ts_consent_0002"
down_revision: str | Sequence[str] | None = "visibility_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEDGER = "consent-ledger"


def upgrade() -> None:
    op.drop_table("consent_follows")
    # left behind, these rows would claim feed streams the ledger no longer reads
    op.get_bind().execute(
        sa.text(
            "DELETE FROM stream_tracking WHERE consumer = :consumer AND stream_id LIKE 'feed-%'"
        ).bindparams(consumer=LEDGER)
    )


def downgrade() -> None:
    op.create_table(
        "consent_follows",
        sa.Column("follower_id", sa.String(length=128), nullable=False),
        sa.Column("followee_id", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("follower_id", "followee_id", name=op.f("pk_consent_follows")),
    )
    # The old ledger fills its copy of the follows by replay: every table of it is emptied
    # and its tracking forgotten, so it rebuilds from the event store on its next start.
    for table in (
        "consent_cameos",
        "consent_people",
        "consent_history",
        "consent_appearances",
        "consent_generations",
    ):
        op.execute(sa.text(f"DELETE FROM {table}"))
    bind = op.get_bind()
    bind.execute(
        sa.text("DELETE FROM stream_tracking WHERE consumer = :consumer").bindparams(
            consumer=LEDGER
        )
    )
    bind.execute(
        sa.text(
            "UPDATE consumer_watermarks SET position = 0 WHERE consumer = :consumer"
        ).bindparams(consumer=LEDGER)
    )
