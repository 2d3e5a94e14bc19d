"""initial CRM schema

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("arr", sa.Float(), nullable=False),
        sa.Column("plan", sa.String(length=64), nullable=False),
        sa.Column("segment", sa.String(length=32), nullable=False),
        sa.Column("lifecycle_stage", sa.String(length=32), nullable=False),
        sa.Column("csm_owner", sa.String(length=254), nullable=False),
        sa.Column("health_score", sa.Integer(), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
    )
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_accounts_csm_owner"), ["csm_owner"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_accounts_lifecycle_stage"), ["lifecycle_stage"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_accounts_segment"), ["segment"], unique=False)

    op.create_table(
        "contacts",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("opted_out", sa.Boolean(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_contacts_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
    )
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contacts_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_contacts_email"), ["email"], unique=False)

    op.create_table(
        "contracts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("auto_renew", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("outcome_reason", sa.String(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_contracts_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contracts")),
    )
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contracts_account_id"), ["account_id"], unique=False)

    op.create_table(
        "csm_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("owner", sa.String(length=254), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.String(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("workflow_id", sa.String(length=255), nullable=True),
        sa.Column("idempotency_key", sa.String(length=400), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_csm_tasks_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_csm_tasks")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_csm_tasks_idempotency_key")),
    )
    with op.batch_alter_table("csm_tasks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_csm_tasks_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_csm_tasks_owner"), ["owner"], unique=False)
        batch_op.create_index(batch_op.f("ix_csm_tasks_status"), ["status"], unique=False)

    op.create_table(
        "email_sends",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=400), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("contact_id", sa.String(length=64), nullable=True),
        sa.Column("to_email", sa.String(length=254), nullable=False),
        sa.Column("template", sa.String(length=100), nullable=False),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=True),
        sa.Column("reason", sa.String(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("workflow_id", sa.String(length=255), nullable=True),
        sa.Column("step", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_email_sends_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_sends")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_email_sends_idempotency_key")),
    )
    with op.batch_alter_table("email_sends", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_email_sends_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_email_sends_status"), ["status"], unique=False)

    op.create_table(
        "health_scores",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("band", sa.String(length=16), nullable=False),
        sa.Column("components", sa.JSON(), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("idempotency_key", sa.String(length=400), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_health_scores_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_health_scores")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_health_scores_idempotency_key")),
    )
    with op.batch_alter_table("health_scores", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_health_scores_account_id"), ["account_id"], unique=False
        )

    op.create_table(
        "requirements_answers",
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("respondent_contact_id", sa.String(length=64), nullable=True),
        sa.Column("workflow_id", sa.String(length=255), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_requirements_answers_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_requirements_answers")),
    )
    op.create_table(
        "touchpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("summary", sa.String(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("workflow_id", sa.String(length=255), nullable=True),
        sa.Column("step", sa.String(length=100), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=400), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_touchpoints_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_touchpoints")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_touchpoints_idempotency_key")),
    )
    with op.batch_alter_table("touchpoints", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_touchpoints_account_id"), ["account_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_touchpoints_occurred_at"), ["occurred_at"], unique=False
        )

    op.create_table(
        "surveys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("contact_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("link", sa.String(length=500), nullable=False),
        sa.Column("workflow_id", sa.String(length=255), nullable=True),
        sa.Column("idempotency_key", sa.String(length=400), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_surveys_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_surveys_contact_id_contacts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surveys")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_surveys_idempotency_key")),
        sa.UniqueConstraint("token", name=op.f("uq_surveys_token")),
    )
    with op.batch_alter_table("surveys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_surveys_account_id"), ["account_id"], unique=False)

    op.create_table(
        "survey_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.String(), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["survey_id"], ["surveys.id"], name=op.f("fk_survey_responses_survey_id_surveys")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_responses")),
        sa.UniqueConstraint("survey_id", name=op.f("uq_survey_responses_survey_id")),
    )


def downgrade() -> None:

    op.drop_table("survey_responses")
    with op.batch_alter_table("surveys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_surveys_account_id"))

    op.drop_table("surveys")
    with op.batch_alter_table("touchpoints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_touchpoints_occurred_at"))
        batch_op.drop_index(batch_op.f("ix_touchpoints_account_id"))

    op.drop_table("touchpoints")
    op.drop_table("requirements_answers")
    with op.batch_alter_table("health_scores", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_health_scores_account_id"))

    op.drop_table("health_scores")
    with op.batch_alter_table("email_sends", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_email_sends_status"))
        batch_op.drop_index(batch_op.f("ix_email_sends_account_id"))

    op.drop_table("email_sends")
    with op.batch_alter_table("csm_tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_csm_tasks_status"))
        batch_op.drop_index(batch_op.f("ix_csm_tasks_owner"))
        batch_op.drop_index(batch_op.f("ix_csm_tasks_account_id"))

    op.drop_table("csm_tasks")
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contracts_account_id"))

    op.drop_table("contracts")
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contacts_email"))
        batch_op.drop_index(batch_op.f("ix_contacts_account_id"))

    op.drop_table("contacts")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_accounts_segment"))
        batch_op.drop_index(batch_op.f("ix_accounts_lifecycle_stage"))
        batch_op.drop_index(batch_op.f("ix_accounts_csm_owner"))

    op.drop_table("accounts")
