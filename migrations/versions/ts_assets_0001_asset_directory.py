"""asset directory

Revision ID: ts_assets_0001
Revises: core_0001
Create Date: 2026-11-22 04:29:29.786485
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = 'ts_assets_0001'
down_revision: str | Sequence[str] | None = "core_0001"
branch_labels: str | Sequence[str] | None = ('ts_assets',)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('assets_directory',
    sa.Column('asset_id', sa.String(length=200), nullable=False),
    sa.Column('generation_id', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('asset_id', name=op.f('pk_assets_directory')),
    sa.UniqueConstraint('generation_id', name=op.f('uq_assets_directory_generation_id'))
    )


def downgrade() -> None:
    op.drop_table('assets_directory')
