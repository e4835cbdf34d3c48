"""per-stream tracking and a store watermark per consumer replace offset checkpoints

Consumers used to skip any delivery whose Kafka offset or global position was not above the
partition's checkpoint, which dropped events republished after newer ones and everything on a
broker whose offsets started again. They now track the last applied version of each stream and
a watermark in the store (see core/projections.py).

Data: a consumer that tailed the SQL store keeps its position as its watermark. A Kafka
consumer's per-partition checkpoints become the lowest of their positions (events below it
were applied in every partition); what it had applied above that is recorded per stream from
the outbox's partitions, so nothing is applied twice and nothing is skipped.

Revision ID: core_0002
Revises: merge_0001
Create Date: 2026-12-01 20:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "core_0002"
down_revision: str | Sequence[str] | None = "merge_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "consumer_watermarks",
        sa.Column("consumer", sa.String(length=128), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer", name=op.f("pk_consumer_watermarks")),
    )
    op.create_table(
        "stream_tracking",
        sa.Column("consumer", sa.String(length=128), nullable=False),
        sa.Column("stream_id", sa.String(length=264), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "stream_id", name=op.f("pk_stream_tracking")),
    )
    conn = op.get_bind()
    # SQL-tail consumers: their position is a watermark already.
    conn.execute(
        sa.text(
            "INSERT INTO consumer_watermarks (consumer, position, updated_at) "
            "SELECT consumer, last_position, updated_at FROM checkpoints WHERE source = 'sql'"
        )
    )
    # Kafka consumers: in each (topic, partition) everything up to last_position was applied.
    # The topic is '<prefix>.<category>'.
    conn.execute(
        sa.text(
            "INSERT INTO stream_tracking (consumer, stream_id, version) "
            "SELECT c.consumer, e.stream_id, MAX(e.version) FROM checkpoints c "
            "JOIN outbox o ON o.partition = c.partition AND o.position <= c.last_position "
            "JOIN events e ON e.position = o.position "
            "WHERE c.source <> 'sql' AND c.source LIKE '%.' || e.category "
            "GROUP BY c.consumer, e.stream_id"
        )
    )
    conn.execute(
        sa.text(
            "INSERT INTO consumer_watermarks (consumer, position, updated_at) "
            "SELECT consumer, MIN(last_position), MAX(updated_at) FROM checkpoints "
            "WHERE source <> 'sql' AND consumer NOT IN (SELECT consumer FROM consumer_watermarks) "
            "GROUP BY consumer"
        )
    )
    op.drop_table("checkpoints")


def downgrade() -> None:
    op.create_table(
        "checkpoints",
        sa.Column("consumer", sa.String(length=128), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("last_position", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "source", "partition", name=op.f("pk_checkpoints")),
    )
    # Only the watermark can be carried back: the per-stream tracking above it is dropped, so
    # the old runner may apply those events again.
    op.execute(
        "INSERT INTO checkpoints (consumer, source, partition, \"offset\", last_position, "
        "updated_at) SELECT consumer, 'sql', 0, position, position, updated_at "
        "FROM consumer_watermarks"
    )
    op.drop_table("stream_tracking")
    op.drop_table("consumer_watermarks")
