"""console sign-in: browser sessions and one-time login links

Written in the transaction of their identity events (core/browser_sessions.py), like the
API tokens: a session must work the moment it starts and stop the moment it ends.

Revision ID: core_0005
Revises: ts_hash_banks_0001
Create Date: 2026-12-02 22:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "core_0005"
down_revision: str | Sequence[str] | None = "ts_hash_banks_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "browser_sessions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("principal_id", sa.String(length=64), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("token_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["principal_id"],
            ["principals.id"],
            name=op.f("fk_browser_sessions_principal_id_principals"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["token_id"],
            ["api_tokens.id"],
            name=op.f("fk_browser_sessions_token_id_api_tokens"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_browser_sessions")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_browser_sessions_secret_hash")),
    )
    op.create_index("ix_browser_sessions_principal_id", "browser_sessions", ["principal_id"])
    op.create_index("ix_browser_sessions_token_id", "browser_sessions", ["token_id"])
    op.create_table(
        "login_links",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("principal_id", sa.String(length=64), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["principal_id"],
            ["principals.id"],
            name=op.f("fk_login_links_principal_id_principals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_login_links_token_hash")),
    )
    op.create_index("ix_login_links_principal_id", "login_links", ["principal_id"])


def downgrade() -> None:
    op.drop_index("ix_login_links_principal_id", table_name="login_links")
    op.drop_table("login_links")
    op.drop_index("ix_browser_sessions_token_id", table_name="browser_sessions")
    op.drop_index("ix_browser_sessions_principal_id", table_name="browser_sessions")
    op.drop_table("browser_sessions")
