"""The CSM task lifecycle for backend callers (bearer token, like POST /v1/events):

* `GET /v1/tasks?owner=...&status=...&account_id=...`: tasks, open ones first, most urgent first;
* `POST /v1/tasks/{task_id}/complete` (`outcome`, `by`): done, with a timeline entry; the task's
  workflow is signalled `task_completed` (best effort: the answer says whether it was told);
* `POST /v1/tasks/{task_id}/snooze` (`until`): due again later, still open;
* `POST /v1/tasks/{task_id}/reassign` (`owner`): another owner.

The same operations as `csflow task ...` (starter.task_api over crm.task_lifecycle). Completing a
closed task answers 200 with `changed: false`; snoozing or reassigning one is 409; an unknown
task is 404; a field the request cannot use is 422 naming it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from pydantic import Field

from crm.database import Store, get_store
from crm.task_lifecycle import (
    InputRefused,
    Moment,
    Outcome,
    TaskChange,
    TaskClosed,
    TaskCompletionRequest,
    TaskReassignment,
    TaskSnoozeRequest,
    TaskView,
    UnknownTask,
)
from crm.task_lifecycle import reassign_task as reassign_in_crm
from crm.task_lifecycle import snooze_task as snooze_in_crm
from domain.models import TaskStatus
from starter.http.api_responses import BODY_ERRORS, Responses, error
from starter.http.bearer_auth import require_api_token
from starter.http.dependencies import TemporalDep
from starter.http.json_bounds import check_json_bounds
from starter.http.openapi_docs import SANE_DATE, TEXT
from starter.http.request_log import note_request
from starter.http.validation_errors import field_error
from starter.task_api import TaskCompleted, complete_task, list_tasks

BodyT = TypeVar("BodyT", TaskSnoozeRequest, TaskReassignment)
router = APIRouter(prefix="/v1/tasks", tags=["tasks"], dependencies=[Depends(require_api_token)])

# Task ids are the CRM's integer keys (32-bit on PostgreSQL).
TaskId = Annotated[int, Path(ge=1, le=2**31 - 1, description="the task's id")]
_AUTH: Responses = {
    401: error("missing or malformed bearer token", WWW_Authenticate='Bearer realm="csflow"'),
    403: error("token not accepted"),
}
_NOT_FOUND: Responses = {404: error("no task with this id")}
_UNREADABLE: Responses = {
    400: error("the body is not JSON FastAPI can read (not UTF-8, or nested too deeply)")
}
_CLOSED: Responses = {409: error("the task is done or cancelled: only open tasks change")}


class CompleteBody(TaskCompletionRequest):
    outcome: Outcome = Field(
        description="what came of it, e.g. 'renewed on the call'", json_schema_extra=TEXT
    )


class SnoozeBody(TaskSnoozeRequest):
    until: Moment = Field(
        description="when the task falls due again: a future date and time with its offset",
        json_schema_extra=SANE_DATE,
    )


def _checked(body: Any) -> None:
    check_json_bounds(body.model_dump(mode="json"), ("body",))


def _task_errors(exc: Exception) -> Exception:
    if isinstance(exc, UnknownTask):
        return HTTPException(404, str(exc))
    if isinstance(exc, TaskClosed):
        return HTTPException(409, str(exc))
    if isinstance(exc, InputRefused):
        return field_error(("body", exc.field), exc.message)
    return exc


async def _change(
    change: Callable[[Store, int, BodyT], TaskChange], task_id: int, body: BodyT, request: Request
) -> TaskChange:
    """Snooze or reassign in the CRM: the body checked, refusals as HTTP errors, the request
    noted under the task's account."""
    _checked(body)
    try:
        result = await asyncio.to_thread(change, get_store(), task_id, body)
    except (UnknownTask, TaskClosed, InputRefused) as exc:
        raise _task_errors(exc) from None
    note_request(request, account_id=result.task.account_id)
    return result


@router.get(
    "",
    response_model=list[TaskView],
    summary="CSM tasks",
    responses={**_AUTH, 422: BODY_ERRORS[422], 503: BODY_ERRORS[503]},
)
async def tasks(
    owner: Annotated[str | None, Query(max_length=254, description="owner's email")] = None,
    status: Annotated[TaskStatus | None, Query(description="open, done or cancelled")] = None,
    account_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="at most this many")] = 200,
) -> list[TaskView]:
    """Tasks matching every filter given: open ones first, then by priority, due time (undated
    last) and age."""
    return await list_tasks(owner, status, account_id, limit=limit, store=get_store())


@router.post(
    "/{task_id}/complete",
    response_model=TaskCompleted,
    summary="Complete a task",
    responses={**BODY_ERRORS, **_UNREADABLE, **_AUTH, **_NOT_FOUND},
)
async def complete(
    task_id: TaskId, body: CompleteBody, request: Request, client: TemporalDep
) -> TaskCompleted:
    """Close the task as done with its outcome, recorded on the account's timeline; then signal
    its workflow `task_completed` with the task (`workflow_signal` says whether it was told: when
    Temporal cannot be reached the completion stays recorded, and completing again tells it). A
    closed task is answered as it is, with `changed: false`."""
    _checked(body)
    try:
        result = await complete_task(
            client, task_id, body.outcome, by=body.by, via="http", store=get_store()
        )
    except UnknownTask as exc:
        raise _task_errors(exc) from None
    note_request(request, account_id=result.task.account_id, workflow_id=result.task.workflow_id)
    return result


@router.post(
    "/{task_id}/snooze",
    response_model=TaskChange,
    summary="Snooze a task",
    responses={**BODY_ERRORS, **_UNREADABLE, **_AUTH, **_NOT_FOUND, **_CLOSED},
)
async def snooze(task_id: TaskId, body: SnoozeBody, request: Request) -> TaskChange:
    """Move an open task's due time to `until` (in the future); it stays open."""
    return await _change(snooze_in_crm, task_id, body, request)


@router.post(
    "/{task_id}/reassign",
    response_model=TaskChange,
    summary="Reassign a task",
    responses={**BODY_ERRORS, **_UNREADABLE, **_AUTH, **_NOT_FOUND, **_CLOSED},
)
async def reassign(task_id: TaskId, body: TaskReassignment, request: Request) -> TaskChange:
    """Give an open task to another owner."""
    return await _change(reassign_in_crm, task_id, body, request)
