"""merge the domain branches: one head, so `alembic upgrade head` works

Revision ID: merge_0001
Revises: feed_0001, generator_0001, provenance_0001, reverse_search_0001, ts_assets_0001, ts_cases_0001, ts_consent_0001, ts_gate_0001
Create Date: 2026-11-22 04:31:23.446809
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'merge_0001'
down_revision: str | Sequence[str] | None = ('feed_0001', 'generator_0001', 'provenance_0001', 'reverse_search_0001', 'ts_assets_0001', 'ts_cases_0001', 'ts_consent_0001', 'ts_gate_0001')
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
