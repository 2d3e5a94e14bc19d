"""console users: who signs in to the CS console, and failed sign-ins for the lockout

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "console_users",
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("password_set_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("email", name=op.f("pk_console_users")),
    )
    op.create_table(
        "console_sign_in_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_sign_in_failures")),
    )
    with op.batch_alter_table("console_sign_in_failures", schema=None) as batch_op:
        batch_op.create_index(
            "ix_console_sign_in_failures_email_failed_at", ["email", "failed_at"], unique=False
        )


def downgrade() -> None:
    op.drop_table("console_sign_in_failures")
    op.drop_table("console_users")
