"""Typed API of the CSM task lifecycle: complete, snooze, reassign and list tasks, and log calls,
meetings and notes (crm.task_lifecycle and crm.logged_touchpoints do the CRM work).

A completed task that belongs to a workflow is reported to it: the workflow is signalled
`task_completed` with the completed `CsmTask` (a workflow waiting on the CSM, such as an
escalation waiting for its acknowledgement, proceeds). Best effort: the completion is recorded
first, a workflow that has finished is fine, and an unreachable Temporal is reported in
`TaskCompleted.workflow_signal` (completing the task again delivers the signal then; Temporal
drops a repeat of one that was delivered, by its request id).

Readers and writers here never create a database (`get_existing_store()` unless a store is
given): the tasks they change exist already.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, Field
from temporalio.client import Client

from crm.database import Store, get_existing_store
from crm.logged_touchpoints import LoggedKind, TouchpointLog
from crm.logged_touchpoints import log_touchpoint as _log_touchpoint
from crm.task_lifecycle import (
    TaskChange,
    TaskCompletionRequest,
    TaskReassignment,
    TaskSnoozeRequest,
    TaskView,
)
from crm.task_lifecycle import complete_task as _complete
from crm.task_lifecycle import list_tasks as _list
from crm.task_lifecycle import reassign_task as _reassign
from crm.task_lifecycle import snooze_task as _snooze
from domain.models import TaskStatus, Touchpoint
from starter.http.temporal_errors import is_unavailable

SIGNAL_NAME = "task_completed"
SIGNAL_TIMEOUT = timedelta(seconds=5)
# A client, or how to get one (so a completion is recorded even when Temporal cannot be reached).
ClientSource = Client | Callable[[], Awaitable[Client]]


class SignalStatus(StrEnum):
    DELIVERED = "delivered"
    NO_WORKFLOW = "no_workflow"  # the task belongs to no workflow
    NOT_DONE = "not_done"  # the task was cancelled, not completed: nothing to report
    WORKFLOW_CLOSED = "workflow_closed"  # finished (or unknown to Temporal): nothing waits
    UNREACHABLE = "unreachable"  # Temporal could not be reached; complete again to retry
    FAILED = "failed"  # Temporal refused the signal (detail says why)


class WorkflowSignal(BaseModel):
    """Whether the task's workflow heard of the completion."""

    workflow_id: str | None
    status: SignalStatus
    detail: str | None = Field(default=None, description="why it was not delivered")


class TaskCompleted(TaskChange):
    workflow_signal: WorkflowSignal


def _store(store: Store | None) -> Store:
    return store if store is not None else get_existing_store()


def short_reason(error: BaseException) -> str:
    """The few words of a Temporal failure (`Connection refused`), not its nested debug text."""
    current: BaseException | None = error
    while current is not None:
        quoted = re.findall(r'message: "([^"]+)"', str(current))
        if quoted:
            return quoted[-1]
        current = current.__cause__
    flat = " ".join(str(error).removeprefix("Failed client connect:").split())
    return flat[:160] or type(error).__name__


async def tell_workflow(
    client: ClientSource, task: TaskView, *, by: str | None = None, via: str | None = None
) -> WorkflowSignal:
    """Signal the task's workflow `task_completed` with the task (once per task), saying who
    completed it and through what (`via`: "cli", "http", "console"), for its audit trail."""
    workflow_id = task.workflow_id
    if workflow_id is None:
        return WorkflowSignal(workflow_id=None, status=SignalStatus.NO_WORKFLOW)
    if task.status != TaskStatus.DONE:
        return WorkflowSignal(workflow_id=workflow_id, status=SignalStatus.NOT_DONE)
    # Imported here: it brings the workflow modules, which the CLI loads only when it signals.
    from starter.http.journey_delivery import signal_once

    try:
        connected = client if isinstance(client, Client) else await client()
        delivered = await signal_once(
            connected,
            workflow_id,
            SIGNAL_NAME,
            task.task().model_copy(update={"completed_by": by, "completed_via": via}),
            dedupe_id=f"task-completed:{task.id}",
            timeout=SIGNAL_TIMEOUT,
        )
    except Exception as exc:
        status = SignalStatus.UNREACHABLE if is_unavailable(exc) else SignalStatus.FAILED
        return WorkflowSignal(workflow_id=workflow_id, status=status, detail=short_reason(exc))
    if not delivered:
        return WorkflowSignal(
            workflow_id=workflow_id,
            status=SignalStatus.WORKFLOW_CLOSED,
            detail="the workflow is not running",
        )
    return WorkflowSignal(workflow_id=workflow_id, status=SignalStatus.DELIVERED)


async def complete_task(
    client: ClientSource,
    task_id: int,
    outcome: str,
    *,
    by: str | None = None,
    via: str = "api",
    store: Store | None = None,
) -> TaskCompleted:
    """Complete a task with its outcome (by `by`, default its owner), then tell its workflow.

    A closed task stays as it is (`changed` false). Raises crm.task_lifecycle.UnknownTask, and
    pydantic's ValidationError for an empty outcome or an invalid address."""
    request = TaskCompletionRequest(outcome=outcome, by=by)
    change = await asyncio.to_thread(_complete, _store(store), task_id, request)
    signal = await tell_workflow(client, change.task, by=change.by, via=via)
    return TaskCompleted(**change.model_dump(), workflow_signal=signal)


async def snooze_task(
    task_id: int, until: datetime, *, by: str | None = None, store: Store | None = None
) -> TaskChange:
    """Move an open task's due time to `until` (aware, in the future); it stays open. Raises
    UnknownTask, TaskClosed, InputRefused (`until` not in the future) or ValidationError."""
    request = TaskSnoozeRequest(until=until, by=by)
    return await asyncio.to_thread(_snooze, _store(store), task_id, request)


async def reassign_task(
    task_id: int, owner: str, *, by: str | None = None, store: Store | None = None
) -> TaskChange:
    """Give an open task to `owner`. Raises UnknownTask, TaskClosed or ValidationError."""
    request = TaskReassignment(owner=owner, by=by)
    return await asyncio.to_thread(_reassign, _store(store), task_id, request)


async def list_tasks(
    owner: str | None = None,
    status: TaskStatus | None = None,
    account_id: str | None = None,
    *,
    limit: int = 1000,
    store: Store | None = None,
) -> list[TaskView]:
    """Tasks matching every filter given, open ones first, most urgent first."""
    return await asyncio.to_thread(
        lambda: _list(_store(store), owner=owner, status=status, account_id=account_id, limit=limit)
    )


async def log_touchpoint(
    account_id: str,
    kind: LoggedKind,
    summary: str,
    *,
    by: str | None = None,
    at: datetime | None = None,
    store: Store | None = None,
) -> Touchpoint:
    """Record a call, meeting or note on the account's timeline, by `by` (default: the
    account's CSM) at `at` (default: now; never in the future). Raises
    crm.logged_touchpoints.UnknownAccount, InputRefused or ValidationError."""
    entry = TouchpointLog(kind=kind, summary=summary, by=by, at=at)
    return await asyncio.to_thread(_log_touchpoint, _store(store), account_id, entry)
