"""feed read models

Revision ID: feed_0001
Revises: 
Create Date: 2026-11-22 03:27:48.380569
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = 'feed_0001'
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ('feed',)
depends_on: str | Sequence[str] | None = 'core_0001'


def upgrade() -> None:
    op.create_table('feed_account_holds',
    sa.Column('action_id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=128), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('until', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('action_id', name=op.f('pk_feed_account_holds'))
    )
    with op.batch_alter_table('feed_account_holds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feed_account_holds_user_id'), ['user_id'], unique=False)

    op.create_table('feed_assets',
    sa.Column('asset_id', sa.String(length=200), nullable=False),
    sa.Column('owner_id', sa.String(length=128), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('parent_id', sa.String(length=200), nullable=True),
    sa.Column('title', sa.String(length=500), nullable=True),
    sa.Column('featured_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('removed', sa.Boolean(), nullable=False),
    sa.Column('restricted', sa.Boolean(), nullable=False),
    sa.Column('age_restricted', sa.Boolean(), nullable=False),
    sa.Column('labels', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.PrimaryKeyConstraint('asset_id', name=op.f('pk_feed_assets'))
    )
    with op.batch_alter_table('feed_assets', schema=None) as batch_op:
        batch_op.create_index('ix_feed_assets_featured', ['featured_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_feed_assets_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_feed_assets_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index('ix_feed_assets_recent', ['removed', 'restricted', 'published_at', 'asset_id'], unique=False)

    op.create_table('feed_follows',
    sa.Column('follower_id', sa.String(length=128), nullable=False),
    sa.Column('followee_id', sa.String(length=128), nullable=False),
    sa.PrimaryKeyConstraint('follower_id', 'followee_id', name=op.f('pk_feed_follows'))
    )
    with op.batch_alter_table('feed_follows', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feed_follows_followee_id'), ['followee_id'], unique=False)

    op.create_table('feed_holds',
    sa.Column('asset_id', sa.String(length=200), nullable=False),
    sa.Column('hold_key', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('label', sa.String(length=280), nullable=True),
    sa.PrimaryKeyConstraint('asset_id', 'hold_key', name=op.f('pk_feed_holds'))
    )
    with op.batch_alter_table('feed_holds', schema=None) as batch_op:
        batch_op.create_index('ix_feed_holds_key', ['hold_key'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('feed_holds', schema=None) as batch_op:
        batch_op.drop_index('ix_feed_holds_key')

    op.drop_table('feed_holds')
    with op.batch_alter_table('feed_follows', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feed_follows_followee_id'))

    op.drop_table('feed_follows')
    with op.batch_alter_table('feed_assets', schema=None) as batch_op:
        batch_op.drop_index('ix_feed_assets_recent')
        batch_op.drop_index(batch_op.f('ix_feed_assets_parent_id'))
        batch_op.drop_index(batch_op.f('ix_feed_assets_owner_id'))
        batch_op.drop_index('ix_feed_assets_featured')

    op.drop_table('feed_assets')
    with op.batch_alter_table('feed_account_holds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feed_account_holds_user_id'))

    op.drop_table('feed_account_holds')
