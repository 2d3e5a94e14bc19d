"""What a CSM does with a task in the CRM: complete it (with an outcome), snooze it (its due
time moves, it stays open) or reassign it (to another owner), and list tasks.

Each change is recorded on the account's timeline as a `task` touchpoint saying who did what and
when ("Task completed by casey@...: Prepare renewal (renewed on the call)"), in the same
transaction as the change. Completing a task that is closed already changes nothing (the
workflows close their own tasks when the cause resolves; a person may get there second); snoozing
or reassigning a closed task is refused (`TaskClosed`), and an unknown id is `UnknownTask`.

Used by the typed API (`starter.task_api`, which also tells the task's workflow), and through it by
the CLI (`csflow task ...`) and the HTTP API (`/v1/tasks`). Writes go through the store given;
callers that must not create a database pass `crm.database.get_existing_store()`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy import case
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from crm.database import Store
from crm.tables import AccountRow, CsmTaskRow
from crm.timeline import record_task_touchpoint
from domain.addresses import checked_email, normalize_email
from domain.input_checks import check_date, check_text, one_line
from domain.models import CsmTask, TaskPriority, TaskStatus, Touchpoint

# Most urgent first.
_PRIORITY_RANK = {
    TaskPriority.URGENT.value: 0,
    TaskPriority.HIGH.value: 1,
    TaskPriority.NORMAL.value: 2,
    TaskPriority.LOW.value: 3,
}
_STATUS_RANK = {TaskStatus.OPEN.value: 0, TaskStatus.DONE.value: 1, TaskStatus.CANCELLED.value: 2}
MAX_LISTED = 1000


# An email address (trimmed, lower-cased), as task owners are stored.
Email = Annotated[
    str, Field(max_length=254, json_schema_extra={"format": "email"}), AfterValidator(checked_email)
]
Outcome = Annotated[str, Field(min_length=1, max_length=2000), AfterValidator(check_text)]
Moment = Annotated[AwareDatetime, AfterValidator(check_date)]


class TaskCompletionRequest(BaseModel):
    """Completing a task: what came of it, and who did it (default: the task's owner)."""

    model_config = ConfigDict(extra="forbid")

    outcome: Outcome = Field(description="what came of it, e.g. 'renewed on the call'")
    by: Email | None = Field(default=None, description="who completed it (default: its owner)")


class TaskSnoozeRequest(BaseModel):
    """Snoozing a task: it stays open and falls due again at `until` (in the future)."""

    model_config = ConfigDict(extra="forbid")

    until: Moment = Field(description="when the task falls due again; with a time zone")
    by: Email | None = Field(default=None, description="who snoozed it (default: its owner)")


class TaskReassignment(BaseModel):
    """Giving a task to another owner."""

    model_config = ConfigDict(extra="forbid")

    owner: Email = Field(description="the new owner's email address")
    by: Email | None = Field(
        default=None, description="who reassigned it (default: its current owner)"
    )


class TaskAction(StrEnum):
    COMPLETED = "completed"
    SNOOZED = "snoozed"
    REASSIGNED = "reassigned"


class TaskView(CsmTask):
    """A task with the name of its account."""

    account_name: str | None = None

    def task(self) -> CsmTask:
        """The task as workflows know it (the `task_completed` signal's argument)."""
        return CsmTask.model_validate(self.model_dump(exclude={"account_name"}))


class TaskChange(BaseModel):
    """What a complete, snooze or reassign did."""

    task: TaskView
    action: TaskAction
    changed: bool = Field(
        description="false when there was nothing to do (a closed task completed again, the "
        "same owner or due time)"
    )
    by: str = Field(description="who did it")
    touchpoint: Touchpoint | None = Field(
        default=None, description="the timeline entry recorded (none when nothing changed)"
    )


class UnknownTask(LookupError):
    def __init__(self, task_id: int) -> None:
        super().__init__(f"no task {task_id}")
        self.task_id = task_id


class TaskClosed(Exception):
    """Snoozing or reassigning a task that is done or cancelled."""

    def __init__(self, task: CsmTask, action: TaskAction) -> None:
        verb = "snoozed" if action == TaskAction.SNOOZED else "reassigned"
        super().__init__(f"task {task.id} is {task.status.value}: only open tasks can be {verb}")
        self.task = task
        self.action = action


class InputRefused(ValueError):
    """A value the request model accepts but the moment does not (a snooze into the past)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _now(now: datetime | None) -> datetime:
    return (now or datetime.now(UTC)).astimezone(UTC)


def _moment(value: datetime) -> str:
    return f"{value.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def _locked_task(session: Session, task_id: int) -> CsmTaskRow:
    # FOR UPDATE on PostgreSQL: a workflow closing the task at the same moment waits for us.
    row = session.get(CsmTaskRow, task_id, with_for_update=True)
    if row is None:
        raise UnknownTask(task_id)
    return row


def _view(session: Session, row: CsmTaskRow) -> TaskView:
    account = session.get(AccountRow, row.account_id)
    return TaskView(
        **row.to_model().model_dump(), account_name=account.name if account is not None else None
    )


def _unchanged(session: Session, row: CsmTaskRow, action: TaskAction, by: str) -> TaskChange:
    """The answer when the task already is as asked: nothing recorded."""
    return TaskChange(task=_view(session, row), action=action, changed=False, by=by)


def _changed(
    session: Session,
    row: CsmTaskRow,
    action: TaskAction,
    summary: str,
    by: str,
    now: datetime,
    *,
    idempotency_key: str | None = None,
    **details: Any,
) -> TaskChange:
    """Note the change made to `row` on the account's timeline and answer with both."""
    touchpoint = record_task_touchpoint(
        session,
        row,
        summary,
        idempotency_key,
        occurred_at=now,
        action=action.value,
        by=by,
        **details,
    )
    return TaskChange(
        task=_view(session, row),
        action=action,
        changed=True,
        by=by,
        touchpoint=touchpoint.to_model(),
    )


def complete_task(
    store: Store, task_id: int, request: TaskCompletionRequest, *, now: datetime | None = None
) -> TaskChange:
    """Close the task as done with its outcome; a closed task is returned as it is."""
    now = _now(now)
    try:
        with store.session() as session:
            row = _locked_task(session, task_id)
            by = request.by or row.owner
            if row.status != TaskStatus.OPEN.value:
                return _unchanged(session, row, TaskAction.COMPLETED, by)
            row.status = TaskStatus.DONE.value
            row.outcome = request.outcome
            row.completed_at = now
            return _changed(
                session,
                row,
                TaskAction.COMPLETED,
                f"Task completed by {by}: {row.title} ({one_line(request.outcome, 500)})",
                by,
                now,
                # The key a workflow's own completion uses too: a task closes once on the timeline.
                idempotency_key=f"task-closed:{row.id}",
                outcome=request.outcome,
            )
    except IntegrityError:
        # A workflow closed the task between our read and our write: it is closed, as asked.
        with store.session() as session:
            row = _locked_task(session, task_id)
            return _unchanged(session, row, TaskAction.COMPLETED, request.by or row.owner)


def snooze_task(
    store: Store, task_id: int, request: TaskSnoozeRequest, *, now: datetime | None = None
) -> TaskChange:
    """Move an open task's due time to `request.until` (which must lie in the future)."""
    now = _now(now)
    until = request.until.astimezone(UTC)
    if until <= now:
        raise InputRefused("until", f"{_moment(until)} is not in the future (it is {_moment(now)})")
    with store.session() as session:
        row = _locked_task(session, task_id)
        by = request.by or row.owner
        if row.status != TaskStatus.OPEN.value:
            raise TaskClosed(row.to_model(), TaskAction.SNOOZED)
        previous = row.due_at
        if previous == until:
            return _unchanged(session, row, TaskAction.SNOOZED, by)
        row.due_at = until
        was = f", was {_moment(previous)}" if previous else ""
        return _changed(
            session,
            row,
            TaskAction.SNOOZED,
            f"Task snoozed by {by} until {_moment(until)}{was}: {row.title}",
            by,
            now,
            until=until.isoformat(),
            previous_due_at=previous.isoformat() if previous else None,
        )


def reassign_task(
    store: Store, task_id: int, request: TaskReassignment, *, now: datetime | None = None
) -> TaskChange:
    """Give an open task to `request.owner`."""
    now = _now(now)
    with store.session() as session:
        row = _locked_task(session, task_id)
        previous = row.owner
        by = request.by or previous
        if row.status != TaskStatus.OPEN.value:
            raise TaskClosed(row.to_model(), TaskAction.REASSIGNED)
        if previous == request.owner:
            return _unchanged(session, row, TaskAction.REASSIGNED, by)
        row.owner = request.owner
        return _changed(
            session,
            row,
            TaskAction.REASSIGNED,
            f"Task reassigned by {by} from {previous} to {request.owner}: {row.title}",
            by,
            now,
            owner=request.owner,
            previous_owner=previous,
        )


def get_task(store: Store, task_id: int) -> TaskView:
    with store.session() as session:
        row = session.get(CsmTaskRow, task_id)
        if row is None:
            raise UnknownTask(task_id)
        return _view(session, row)


def list_tasks(
    store: Store,
    *,
    owner: str | None = None,
    status: TaskStatus | None = None,
    account_id: str | None = None,
    limit: int = MAX_LISTED,
) -> list[TaskView]:
    """Tasks matching every filter given: open ones first, then by priority, due time (undated
    last) and age; at most `limit`."""
    query = select(CsmTaskRow, AccountRow.name).join(
        AccountRow, col(AccountRow.id) == col(CsmTaskRow.account_id)
    )
    if owner is not None:
        query = query.where(CsmTaskRow.owner == normalize_email(owner))
    if status is not None:
        query = query.where(CsmTaskRow.status == status.value)
    if account_id is not None:
        query = query.where(CsmTaskRow.account_id == account_id)
    query = query.order_by(
        case(_STATUS_RANK, value=col(CsmTaskRow.status), else_=9),
        case(_PRIORITY_RANK, value=col(CsmTaskRow.priority), else_=9),
        col(CsmTaskRow.due_at).is_(None),
        col(CsmTaskRow.due_at),
        col(CsmTaskRow.id),
    ).limit(max(limit, 0))
    with store.session() as session:
        rows = session.exec(query).all()
    return [TaskView(**task.to_model().model_dump(), account_name=name) for task, name in rows]
