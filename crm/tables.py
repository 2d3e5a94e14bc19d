"""SQLModel tables of the CRM store. Activity-side only: workflows see `domain.models`.

A row's `to_model()` is its domain model, read from the columns of the same names (pydantic's
`from_attributes`): the model's validators and enums apply as they would to any input."""

from __future__ import annotations

from contextvars import ContextVar
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Dialect, Index, TypeDecorator
from sqlmodel import Field, SQLModel

from domain import models


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the offset otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the CRM store; pass an aware datetime")
        utc = value.astimezone(UTC)
        # SQLite stores text; keep it naive-UTC so lexical order is chronological order.
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# Deterministic constraint names, so later migrations can refer to them on every backend.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# Inside an activity: when the workflow asked for the work (activities.context sets it), so every
# row a workflow causes carries workflow time, also under time skipping. Elsewhere: the clock.
CAUSED_AT: ContextVar[datetime | None] = ContextVar("caused_at", default=None)


def utcnow() -> datetime:
    return CAUSED_AT.get() or datetime.now(UTC)


class AccountRow(SQLModel, table=True):
    __tablename__ = "accounts"

    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    arr: float
    plan: str = Field(max_length=64)
    segment: str = Field(max_length=32, index=True)
    lifecycle_stage: str = Field(max_length=32, index=True)
    csm_owner: str = Field(max_length=254, index=True)
    health_score: int | None = None
    timezone: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=UtcDateTime)
    updated_at: datetime = Field(sa_type=UtcDateTime)
    segment_key: str | None = Field(default=None, max_length=64)

    def to_model(self) -> models.Account:
        return models.Account.model_validate(self, from_attributes=True)


class ContactRow(SQLModel, table=True):
    __tablename__ = "contacts"

    id: str = Field(primary_key=True, max_length=64)
    account_id: str = Field(foreign_key="accounts.id", index=True, max_length=64)
    name: str = Field(max_length=200)
    email: str = Field(max_length=254, index=True)
    role: str = Field(max_length=32)
    opted_out: bool = False
    timezone: str | None = Field(default=None, max_length=64)

    def to_model(self) -> models.Contact:
        return models.Contact.model_validate(self, from_attributes=True)


class ContractRow(SQLModel, table=True):
    __tablename__ = "contracts"

    id: int | None = Field(default=None, primary_key=True)
    account_id: str = Field(foreign_key="accounts.id", index=True, max_length=64)
    start_date: date
    end_date: date
    value: float
    auto_renew: bool = False
    status: str = Field(max_length=32)
    outcome_reason: str | None = None
    created_at: datetime = Field(sa_type=UtcDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)

    def to_model(self) -> models.Contract:
        return models.Contract.model_validate(self, from_attributes=True)


class TouchpointRow(SQLModel, table=True):
    __tablename__ = "touchpoints"
    __table_args__ = (
        # An account's timeline newest first, and its last touch (the console).
        Index("ix_touchpoints_account_id_occurred_at", "account_id", "occurred_at"),
        # Entries of one kind across accounts, e.g. the stage changes (the managers' report).
        Index("ix_touchpoints_kind_occurred_at", "kind", "occurred_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    account_id: str = Field(foreign_key="accounts.id", index=True, max_length=64)
    kind: str = Field(max_length=32)
    summary: str
    occurred_at: datetime = Field(sa_type=UtcDateTime, index=True)
    workflow_id: str | None = Field(default=None, max_length=255)
    step: str | None = Field(default=None, max_length=100)
    details: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    idempotency_key: str | None = Field(default=None, unique=True, max_length=400)

    def to_model(self) -> models.Touchpoint:
        assert self.id is not None
        return models.Touchpoint.model_validate(self, from_attributes=True)


class CsmTaskRow(SQLModel, table=True):
    __tablename__ = "csm_tasks"

    id: int | None = Field(default=None, primary_key=True)
    account_id: str = Field(foreign_key="accounts.id", index=True, max_length=64)
    owner: str = Field(max_length=254, index=True)
    title: str = Field(max_length=300)
    description: str = ""
    due_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    priority: str = Field(max_length=16)
    status: str = Field(max_length=16, index=True)
    outcome: str | None = None
    created_at: datetime = Field(sa_type=UtcDateTime)
    completed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    workflow_id: str | None = Field(default=None, max_length=255)
    idempotency_key: str | None = Field(default=None, unique=True, max_length=400)

    def to_model(self) -> models.CsmTask:
        assert self.id is not None
        return models.CsmTask.model_validate(self, from_attributes=True)


class SurveyRow(SQLModel, table=True):
    __tablename__ = "surveys"

    id: int | None = Field(default=None, primary_key=True)
    account_id: str = Field(foreign_key="accounts.id", index=True, max_length=64)
    contact_id: str = Field(foreign_key="contacts.id", max_length=64)
    kind: str = Field(max_length=16)
    topic: str = Field(max_length=200)
    token: str = Field(unique=True, max_length=64)
    link: str = Field(max_length=500)
    workflow_id: str | None = Field(default=None, max_length=255)
    idempotency_key: str = Field(unique=True, max_length=400)
    created_at: datetime = Field(sa_type=UtcDateTime)

    def to_model(self) -> models.Survey:
        assert self.id is not None
        return models.Survey(
            survey_id=self.id,
            account_id=self.account_id,
            contact_id=self.contact_id,
            kind=models.SurveyKind(self.kind),
            topic=self.topic,
            token=self.token,
            link=self.link,
            created_at=self.created_at,
            workflow_id=self.workflow_id,
        )


class SurveyResponseRow(SQLModel, table=True):
    __tablename__ = "survey_responses"

    id: int | None = Field(default=None, primary_key=True)
    # Unique: a survey link records one answer; later submissions return the first.
    survey_id: int = Field(foreign_key="surveys.id", unique=True)
    score: int
    comment: str = ""
    category: str = Field(max_length=16)
    responded_at: datetime = Field(sa_type=UtcDateTime)


class EmailSendRow(SQLModel, table=True):
    __tablename__ = "email_sends"

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(unique=True, max_length=400)
    account_id: str = Field(foreign_key="accounts.id", index=True, max_length=64)
    contact_id: str | None = Field(default=None, max_length=64)
    # Indexed: the contact governor counts recent sends per mailbox.
    to_email: str = Field(max_length=254, index=True)
    template: str = Field(max_length=100)
    subject: str = Field(max_length=500)
    category: str = Field(max_length=100)
    status: str = Field(max_length=16, index=True)
    provider: str = Field(max_length=16)
    message_id: str | None = Field(default=None, max_length=255)
    reason: str | None = None
    attempts: int = 0
    workflow_id: str | None = Field(default=None, max_length=255)
    step: str | None = Field(default=None, max_length=100)
    created_at: datetime = Field(sa_type=UtcDateTime)
    # Indexed: the managers' report counts the emails each contact got per week.
    sent_at: datetime | None = Field(default=None, sa_type=UtcDateTime, index=True)
    # Deferred sends: the earliest instant the governor lets this message go out.
    not_before: datetime | None = Field(default=None, sa_type=UtcDateTime)

    def to_model(self) -> models.EmailSend:
        return models.EmailSend.model_validate(self, from_attributes=True)


class RequirementsAnswersRow(SQLModel, table=True):
    __tablename__ = "requirements_answers"

    # One current questionnaire per account; a resubmission replaces it.
    account_id: str = Field(foreign_key="accounts.id", primary_key=True, max_length=64)
    answers: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    respondent_contact_id: str | None = Field(default=None, max_length=64)
    workflow_id: str | None = Field(default=None, max_length=255)
    recorded_at: datetime = Field(sa_type=UtcDateTime)


class HealthScoreRow(SQLModel, table=True):
    """Health history: one row per computation, with the facts and the rules that produced it."""

    __tablename__ = "health_scores"
    __table_args__ = (
        Index("ix_health_scores_account_id_computed_at", "account_id", "computed_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    account_id: str = Field(foreign_key="accounts.id", index=True, max_length=64)
    score: int
    band: str = Field(max_length=16)
    components: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    inputs: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    computed_at: datetime = Field(sa_type=UtcDateTime)
    idempotency_key: str | None = Field(default=None, unique=True, max_length=400)
    segment: str | None = Field(default=None, max_length=64)
    segmentation: str | None = Field(default=None, max_length=16)
    lifecycle_stage: str | None = Field(default=None, max_length=32)
    # Band cut-offs in force when scored (they are configuration and may change later).
    healthy_from: int | None = None
    at_risk_from: int | None = None


class ApiRequestKeyRow(SQLModel, table=True):
    """Idempotency keys the customer actions API accepted (support deliveries, event ids), with
    a fingerprint of what each stood for: a re-sent request is recognised as such, a different
    request under a used key is refused."""

    __tablename__ = "api_request_keys"

    # "<kind>:<scope>:<id>", e.g. "support:<delivery id>", "event:<account id>:<event id>".
    key: str = Field(primary_key=True, max_length=255)
    # SHA-256 (hex) of the request's meaningful content.
    fingerprint: str = Field(max_length=64)
    # Deleted after this instant: by then the request is refused as stale, or deduplicated by
    # Temporal and the journey alone.
    expires_at: datetime = Field(sa_type=UtcDateTime, index=True)


class HandoffRow(SQLModel, table=True):
    """One milestone of the cross-functional process map for one account (and one cycle of it:
    a yearly or per-contract milestone has one row per occurrence). The process-map workflow
    writes it on every state change; readers (CLI status, console) never ask Temporal."""

    __tablename__ = "handoffs"
    __table_args__ = (Index("ix_handoffs_account_id_due_at", "account_id", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: str = Field(foreign_key="accounts.id", max_length=64)
    # "<account id>:<milestone id>:<cycle>": the workflow upserts by it.
    key: str = Field(unique=True, max_length=255)
    milestone_id: str = Field(max_length=64)
    cycle: int = 0
    function: str = Field(max_length=64)
    title: str = Field(max_length=300)
    owner: str = Field(max_length=254, index=True)
    map_version: str = Field(max_length=64)
    state: str = Field(max_length=16, index=True)
    starts_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    due_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    opened_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    done_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    done_by: str | None = Field(default=None, max_length=254)
    evidence: str | None = None
    escalated_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    blocker: str | None = Field(default=None, max_length=500)
    task_id: int | None = None
    workflow_id: str | None = Field(default=None, max_length=255)
    updated_at: datetime = Field(sa_type=UtcDateTime)


class ConsoleUserRow(SQLModel, table=True):
    """A person who signs in to the CS console (`csflow users add`): a CSM sees the accounts
    and tasks they own, a manager sees all of them."""

    __tablename__ = "console_users"

    # Lower-cased, like task owners and accounts' csm_owner, which it is compared with.
    email: str = Field(primary_key=True, max_length=254)
    role: str = Field(max_length=16)
    # argon2-cffi's encoded hash (algorithm, parameters and salt included).
    password_hash: str = Field(max_length=255)
    created_at: datetime = Field(sa_type=UtcDateTime)
    # A session started before the password was last set is over (a new password signs out).
    password_set_at: datetime = Field(sa_type=UtcDateTime)


class ConsoleSignInFailureRow(SQLModel, table=True):
    """One failed console sign-in for an address, known or not (the answer is the same):
    enough of them in a short window lock the address out, across restarts."""

    __tablename__ = "console_sign_in_failures"
    __table_args__ = (Index("ix_console_sign_in_failures_email_failed_at", "email", "failed_at"),)

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254)
    failed_at: datetime = Field(sa_type=UtcDateTime)
