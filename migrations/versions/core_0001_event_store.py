"""event store, outbox, checkpoints, dead letters, leases, auth

Revision ID: core_0001
Revises: 
Create Date: 2026-11-22 03:16:30.314130
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = 'core_0001'
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("core",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('checkpoints',
    sa.Column('consumer', sa.String(length=128), nullable=False),
    sa.Column('source', sa.String(length=255), nullable=False),
    sa.Column('partition', sa.Integer(), nullable=False),
    sa.Column('offset', sa.BigInteger(), nullable=False),
    sa.Column('last_position', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('consumer', 'source', 'partition', name=op.f('pk_checkpoints'))
    )
    op.create_table('dead_letters',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('consumer', sa.String(length=128), nullable=False),
    sa.Column('event_id', sa.Uuid(), nullable=False),
    sa.Column('position', sa.BigInteger(), nullable=False),
    sa.Column('event_type', sa.String(length=128), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('failed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dead_letters'))
    )
    with op.batch_alter_table('dead_letters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dead_letters_consumer'), ['consumer'], unique=False)

    op.create_table('event_store_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('position', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_store_head'))
    )
    op.create_table('events',
    sa.Column('stream_id', sa.String(length=264), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('position', sa.BigInteger(), nullable=False),
    sa.Column('event_id', sa.Uuid(), nullable=False),
    sa.Column('category', sa.String(length=63), nullable=False),
    sa.Column('type', sa.String(length=128), nullable=False),
    sa.Column('schema_version', sa.Integer(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.String(length=128), nullable=False),
    sa.Column('actor_role', sa.String(length=32), nullable=False),
    sa.Column('correlation_id', sa.Uuid(), nullable=False),
    sa.Column('causation_id', sa.Uuid(), nullable=True),
    sa.Column('payload', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.PrimaryKeyConstraint('stream_id', 'version', name=op.f('pk_events')),
    sa.UniqueConstraint('event_id', name=op.f('uq_events_event_id')),
    sa.UniqueConstraint('position', name=op.f('uq_events_position'))
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index('ix_events_category_position', ['category', 'position'], unique=False)
        batch_op.create_index('ix_events_type_position', ['type', 'position'], unique=False)
    # The head row is created here, not lazily, so two first appends cannot race to insert it.
    op.bulk_insert(sa.table('event_store_head', sa.column('id', sa.Integer), sa.column('position', sa.BigInteger)),
                   [{'id': 1, 'position': 0}])

    op.create_table('leases',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('holder', sa.String(length=128), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_leases'))
    )
    op.create_table('principals',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('roles', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_principals'))
    )
    op.create_table('api_tokens',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('principal_id', sa.String(length=64), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['principal_id'], ['principals.id'], name=op.f('fk_api_tokens_principal_id_principals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_principal_id'), ['principal_id'], unique=False)

    op.create_table('outbox',
    sa.Column('position', sa.BigInteger(), nullable=False),
    sa.Column('topic_category', sa.String(length=63), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('partition', sa.Integer(), nullable=True),
    sa.Column('offset', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['position'], ['events.position'], name=op.f('fk_outbox_position_events'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('position', name=op.f('pk_outbox'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_unpublished', ['position'], unique=False, sqlite_where=sa.text('published_at IS NULL'), postgresql_where=sa.text('published_at IS NULL'))



def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_unpublished', sqlite_where=sa.text('published_at IS NULL'), postgresql_where=sa.text('published_at IS NULL'))

    op.drop_table('outbox')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_principal_id'))

    op.drop_table('api_tokens')
    op.drop_table('principals')
    op.drop_table('leases')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_type_position')
        batch_op.drop_index('ix_events_category_position')

    op.drop_table('events')
    op.drop_table('event_store_head')
    with op.batch_alter_table('dead_letters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dead_letters_consumer'))

    op.drop_table('dead_letters')
    op.drop_table('checkpoints')
