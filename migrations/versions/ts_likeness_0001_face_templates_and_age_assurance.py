"""cameo face templates (encrypted), enrolment on the ledger, age assurance on principals

``consent_face_templates`` holds one encrypted face template per enrolled cameo (written by
the consent service with the cameo's events, not projected: the events never hold it).
``consent_cameos`` learns when the cameo was enrolled from a capture and where its liveness
came from; cameos registered before keep NULL there (their liveness was asserted by the
caller). ``principals`` learns whether and how the account's age was assured (written with
the ``AgeAssured`` identity event, like the roles); existing accounts start unassured.

Revision ID: ts_likeness_0001
Revises: ts_consent_0002
Create Date: 2026-12-15 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "ts_likeness_0001"
down_revision: str | Sequence[str] | None = "ts_consent_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "consent_face_templates",
        sa.Column("cameo_id", sa.String(length=64), nullable=False),
        sa.Column("owner_id", sa.String(length=128), nullable=False),
        sa.Column("model_version", sa.String(length=128), nullable=False),
        sa.Column("embeddings", sa.Integer(), nullable=False),
        sa.Column("enrolled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "sealed_key",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("cameo_id", name=op.f("pk_consent_face_templates")),
    )
    op.create_index(
        op.f("ix_consent_face_templates_owner_id"),
        "consent_face_templates",
        ["owner_id"],
        unique=False,
    )
    with op.batch_alter_table("consent_cameos") as batch:
        batch.add_column(sa.Column("enrolled_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("liveness_source", sa.String(length=16), nullable=True))
    with op.batch_alter_table("principals") as batch:
        batch.add_column(sa.Column("age_assured_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("age_assurance_source", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("principals") as batch:
        batch.drop_column("age_assurance_source")
        batch.drop_column("age_assured_at")
    with op.batch_alter_table("consent_cameos") as batch:
        batch.drop_column("liveness_source")
        batch.drop_column("enrolled_at")
    op.drop_index(op.f("ix_consent_face_templates_owner_id"), table_name="consent_face_templates")
    op.drop_table("consent_face_templates")
