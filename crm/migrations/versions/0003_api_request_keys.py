"""api request keys: support delivery ids and event ids the API has seen

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_request_keys",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_api_request_keys")),
    )
    with op.batch_alter_table("api_request_keys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_api_request_keys_expires_at"), ["expires_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("api_request_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_request_keys_expires_at"))
    op.drop_table("api_request_keys")
