"""console indexes: an account's timeline by time, entries of a kind by time, emails by send time

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("touchpoints", schema=None) as batch_op:
        batch_op.create_index(
            "ix_touchpoints_account_id_occurred_at", ["account_id", "occurred_at"], unique=False
        )
        batch_op.create_index(
            "ix_touchpoints_kind_occurred_at", ["kind", "occurred_at"], unique=False
        )
    with op.batch_alter_table("email_sends", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_email_sends_sent_at"), ["sent_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("email_sends", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_email_sends_sent_at"))
    with op.batch_alter_table("touchpoints", schema=None) as batch_op:
        batch_op.drop_index("ix_touchpoints_kind_occurred_at")
        batch_op.drop_index("ix_touchpoints_account_id_occurred_at")
