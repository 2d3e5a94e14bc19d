"""health history details, dynamic segment, email deferral

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("segment_key", sa.String(length=64), nullable=True))

    with op.batch_alter_table("health_scores", schema=None) as batch_op:
        batch_op.add_column(sa.Column("segment", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("segmentation", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("lifecycle_stage", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("healthy_from", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("at_risk_from", sa.Integer(), nullable=True))
        batch_op.create_index(
            "ix_health_scores_account_id_computed_at", ["account_id", "computed_at"], unique=False
        )

    with op.batch_alter_table("email_sends", schema=None) as batch_op:
        batch_op.add_column(sa.Column("not_before", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_email_sends_to_email"), ["to_email"], unique=False)


def downgrade() -> None:
    # Plain ALTER TABLE ... DROP COLUMN (SQLite >= 3.35): a batch rebuild would drop and recreate
    # `accounts`, which the other tables' foreign keys forbid once it holds rows.
    with op.batch_alter_table("email_sends", schema=None, recreate="never") as batch_op:
        batch_op.drop_index(batch_op.f("ix_email_sends_to_email"))
        batch_op.drop_column("not_before")

    with op.batch_alter_table("health_scores", schema=None, recreate="never") as batch_op:
        batch_op.drop_index("ix_health_scores_account_id_computed_at")
        batch_op.drop_column("at_risk_from")
        batch_op.drop_column("healthy_from")
        batch_op.drop_column("lifecycle_stage")
        batch_op.drop_column("segmentation")
        batch_op.drop_column("segment")

    with op.batch_alter_table("accounts", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("segment_key")
