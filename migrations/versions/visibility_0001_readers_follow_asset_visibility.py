"""readers copy the asset visibility the assets domain decides, instead of counting holds

The feed, reverse search, provenance, the generator's jobs and the consent ledger follow
``AssetVisibilityChanged`` (stream category ``asset``) and drop their own hold tables and
columns; each keeps the visibility by generation, since it can be decided before the asset is
signed. Their tables are emptied and their tracking forgotten, so each rebuilds from the event
store on its next start (the store is the source of truth; docs/events.md).

Revision ID: visibility_0001
Revises: core_0004
Create Date: 2026-12-04 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "visibility_0001"
down_revision: str | Sequence[str] | None = "core_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

# consumer -> the tables it writes; all are rebuilt by replay
REBUILT = {
    "feed": ("feed_assets", "feed_remixes", "feed_account_holds", "feed_follows"),
    "generation-jobs": ("gen_jobs",),
    "provenance-assets": ("prov_assets",),
    "reverse-search-indexer": ("rs_generations", "rs_assets", "rs_account_actions"),
    "consent-ledger": (
        "consent_cameos",
        "consent_people",
        "consent_history",
        "consent_appearances",
        "consent_generations",
        "consent_follows",
    ),
}


def _forget_read_models() -> None:
    # The old rows hold the readers' own hold counts; replay writes them from the asset stream.
    for tables in REBUILT.values():
        for table in tables:
            op.execute(sa.text(f"DELETE FROM {table}"))
    consumers: sa.BindParameter[list[str]] = sa.bindparam(
        "consumers", list(REBUILT), expanding=True
    )
    op.get_bind().execute(
        sa.text("DELETE FROM stream_tracking WHERE consumer IN :consumers").bindparams(consumers)
    )
    op.get_bind().execute(
        sa.text(
            "UPDATE consumer_watermarks SET position = 0 WHERE consumer IN :consumers"
        ).bindparams(consumers)
    )


def upgrade() -> None:
    _forget_read_models()
    op.drop_table("feed_holds")
    op.create_table(
        "feed_visibility",
        sa.Column("generation_id", sa.String(length=200), nullable=False),
        sa.Column("removed", sa.Boolean(), nullable=False),
        sa.Column("restricted", sa.Boolean(), nullable=False),
        sa.Column("age_restricted", sa.Boolean(), nullable=False),
        sa.Column("labels", JSON, nullable=False),
        sa.PrimaryKeyConstraint("generation_id", name=op.f("pk_feed_visibility")),
    )
    op.create_table(
        "prov_visibility",
        sa.Column("generation_id", sa.String(length=200), nullable=False),
        sa.Column("visibility", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("generation_id", name=op.f("pk_prov_visibility")),
    )
    with op.batch_alter_table("gen_jobs") as batch:
        batch.drop_column("removal_holds")
        batch.add_column(sa.Column("visibility", sa.String(length=20), nullable=False))
    with op.batch_alter_table("rs_assets") as batch:
        batch.drop_column("holds")
    with op.batch_alter_table("rs_generations") as batch:
        batch.add_column(sa.Column("visibility", sa.String(length=20), nullable=False))
    with op.batch_alter_table("consent_generations") as batch:
        batch.alter_column("requester_id", existing_type=sa.String(length=128), nullable=True)
        batch.add_column(sa.Column("removed", sa.Boolean(), nullable=False))
        batch.add_column(sa.Column("removed_reason", sa.String(length=500), nullable=True))


def downgrade() -> None:
    _forget_read_models()
    with op.batch_alter_table("consent_generations") as batch:
        batch.drop_column("removed_reason")
        batch.drop_column("removed")
        batch.alter_column("requester_id", existing_type=sa.String(length=128), nullable=False)
    with op.batch_alter_table("rs_generations") as batch:
        batch.drop_column("visibility")
    with op.batch_alter_table("rs_assets") as batch:
        batch.add_column(sa.Column("holds", JSON, nullable=False))
    with op.batch_alter_table("gen_jobs") as batch:
        batch.drop_column("visibility")
        batch.add_column(sa.Column("removal_holds", JSON, nullable=False))
    op.drop_table("prov_visibility")
    op.drop_table("feed_visibility")
    op.create_table(
        "feed_holds",
        sa.Column("asset_id", sa.String(length=200), nullable=False),
        sa.Column("hold_key", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("label", sa.String(length=280), nullable=True),
        sa.PrimaryKeyConstraint("asset_id", "hold_key", name=op.f("pk_feed_holds")),
    )
    op.create_index("ix_feed_holds_key", "feed_holds", ["hold_key"], unique=False)
