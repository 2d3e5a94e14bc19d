"""The history engine: workflow runs, their events, workflow tasks and commands.

All state lives on one asyncio event loop and every mutation is synchronous, so a request either
applies whole or not at all; RPC handlers only await for long polls.
"""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import structlog
from google.protobuf import any_pb2
from temporalio.api.command.v1 import message_pb2 as command_pb
from temporalio.api.common.v1 import message_pb2 as common_pb
from temporalio.api.enums.v1 import (
    CancelExternalWorkflowExecutionFailedCause,
    CommandType,
    ContinueAsNewInitiator,
    EventType,
    ParentClosePolicy,
    RetryState,
    SignalExternalWorkflowExecutionFailedCause,
    StartChildWorkflowExecutionFailedCause,
    TaskQueueKind,
    TimeoutType,
    UpdateWorkflowExecutionLifecycleStage,
    WorkflowIdConflictPolicy,
    WorkflowIdReusePolicy,
    WorkflowTaskFailedCause,
)
from temporalio.api.failure.v1 import message_pb2 as failure_pb
from temporalio.api.history.v1 import message_pb2 as history_pb
from temporalio.api.protocol.v1 import message_pb2 as protocol_pb
from temporalio.api.query.v1 import message_pb2 as query_pb
from temporalio.api.taskqueue.v1 import message_pb2 as taskqueue_pb
from temporalio.api.update.v1 import message_pb2 as update_pb
from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv

from devserver.activities import ActivityEngine
from devserver.clock import Clock, Scheduler
from devserver.errors import (
    InvalidArgument,
    NotFound,
    ServiceError,
    WorkflowAlreadyStarted,
)
from devserver.execution import (
    ChildInfo,
    MutableState,
    ParentRef,
    PendingQuery,
    Status,
    UpdateState,
    UserTimer,
    WorkflowTask,
)
from devserver.history import CLOSE_EVENT_TYPES, attributes_of, make_event
from devserver.matching import Matcher
from devserver.namespaces import Namespaces
from devserver.retry import decide_retry, normalized_retry_policy, validate_retry_policy
from devserver.search_attributes import merge_search_attributes, validate_search_attributes
from devserver.tokens import TaskToken

if TYPE_CHECKING:
    from devserver.persistence import Store

log = structlog.get_logger("devserver.engine")

DEFAULT_WORKFLOW_TASK_TIMEOUT = timedelta(seconds=10)
MAX_WORKFLOW_TASK_TIMEOUT = timedelta(seconds=120)
# Temporal's defaults for suggesting continue-as-new to the workflow.
SUGGEST_CONTINUE_AS_NEW_EVENTS = 4 * 1024
SUGGEST_CONTINUE_AS_NEW_BYTES = 4 * 1024 * 1024

Stage = UpdateWorkflowExecutionLifecycleStage
CLOSE_COMMANDS = frozenset(
    {
        CommandType.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION,
        CommandType.COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION,
        CommandType.COMMAND_TYPE_CANCEL_WORKFLOW_EXECUTION,
        CommandType.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION,
    }
)
ACTIVITY_CLOSE_EVENTS = frozenset(
    {
        EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
        EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED,
        EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT,
        EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED,
    }
)
CHILD_CLOSE_EVENTS = frozenset(
    {
        EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED,
        EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED,
        EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_CANCELED,
        EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TIMED_OUT,
        EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TERMINATED,
    }
)
# A child's close event -> the event its parent gets, and the attributes carried over.
_CHILD_CLOSE_EVENTS: dict[int, tuple[int, type, tuple[str, ...]]] = {
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED: (
        EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED,
        history_pb.ChildWorkflowExecutionCompletedEventAttributes,
        ("result",),
    ),
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED: (
        EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED,
        history_pb.ChildWorkflowExecutionFailedEventAttributes,
        ("failure", "retry_state"),
    ),
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED: (
        EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_CANCELED,
        history_pb.ChildWorkflowExecutionCanceledEventAttributes,
        ("details",),
    ),
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT: (
        EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TIMED_OUT,
        history_pb.ChildWorkflowExecutionTimedOutEventAttributes,
        ("retry_state",),
    ),
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED: (
        EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TERMINATED,
        history_pb.ChildWorkflowExecutionTerminatedEventAttributes,
        (),
    ),
}
FAILED_STATUSES = frozenset(
    {
        Status.WORKFLOW_EXECUTION_STATUS_FAILED,
        Status.WORKFLOW_EXECUTION_STATUS_CANCELED,
        Status.WORKFLOW_EXECUTION_STATUS_TERMINATED,
        Status.WORKFLOW_EXECUTION_STATUS_TIMED_OUT,
    }
)


class BadCommand(Exception):
    """A command the server refuses: the workflow task fails with this cause."""

    def __init__(self, cause: int, message: str) -> None:
        super().__init__(message)
        self.cause = cause
        self.message = message


@dataclass
class NewRun:
    """Everything a run is created from; built from a start request or a closing run."""

    namespace: str
    workflow_id: str
    workflow_type: str
    task_queue: str
    input: common_pb.Payloads
    header: common_pb.Header
    memo: common_pb.Memo
    search_attributes: common_pb.SearchAttributes
    execution_timeout: timedelta | None
    run_timeout: timedelta | None
    task_timeout: timedelta | None
    retry_policy: common_pb.RetryPolicy | None
    cron_schedule: str
    identity: str
    request_id: str
    attempt: int = 1
    first_run_id: str = ""
    execution_expiration: datetime | None = None
    backoff: timedelta | None = None
    initiator: int = 0
    continued_run_id: str = ""
    continued_failure: failure_pb.Failure | None = None
    last_completion_result: common_pb.Payloads | None = None
    parent: ParentRef | None = None
    root: tuple[str, str] | None = None
    priority: common_pb.Priority | None = None
    # Signal-with-start: the signal is written right after the started event.
    initial_signal: history_pb.WorkflowExecutionSignaledEventAttributes | None = None


def _duration(value: Any) -> timedelta | None:
    seconds = value.ToTimedelta() if value is not None else timedelta(0)
    return seconds if seconds > timedelta(0) else None


def _new_run_from_request(namespace: str, req: Any) -> NewRun:
    """From StartWorkflowExecutionRequest or SignalWithStartWorkflowExecutionRequest."""
    return NewRun(
        namespace=namespace,
        workflow_id=req.workflow_id,
        workflow_type=req.workflow_type.name,
        task_queue=req.task_queue.name,
        input=req.input,
        header=req.header,
        memo=req.memo,
        search_attributes=req.search_attributes,
        execution_timeout=_duration(req.workflow_execution_timeout),
        run_timeout=_duration(req.workflow_run_timeout),
        task_timeout=_duration(req.workflow_task_timeout),
        retry_policy=req.retry_policy if req.HasField("retry_policy") else None,
        cron_schedule=req.cron_schedule,
        identity=req.identity,
        request_id=req.request_id or str(uuid.uuid4()),
        backoff=_duration(req.workflow_start_delay),
        priority=req.priority if req.HasField("priority") else None,
    )


class Engine:
    def __init__(
        self,
        clock: Clock,
        scheduler: Scheduler,
        namespaces: Namespaces,
        next_cron_time: Callable[[str, datetime], datetime | None] | None = None,
    ) -> None:
        self.clock = clock
        self.scheduler = scheduler
        self.namespaces = namespaces
        self.runs: dict[tuple[str, str], MutableState] = {}
        self.current: dict[tuple[str, str], str] = {}
        self.workflow_queues: Matcher[TaskToken] = Matcher()
        self.next_cron_time = next_cron_time
        self.activities = ActivityEngine(self)
        # Called with each run after any change that visibility or persistence must see.
        self.listeners: list[Callable[[MutableState], None]] = []
        self.dirty: dict[tuple[str, str], MutableState] = {}
        self.namespaces_dirty = False
        self.store: Store | None = None

    # ---- time-skipping locks -------------------------------------------------------------

    def lock(self) -> None:
        if self.clock.time_skipping:
            self.clock.lock()

    def unlock(self) -> None:
        if self.clock.time_skipping:
            self.clock.unlock()

    # ---- lookup ----------------------------------------------------------------------------

    def find_run(self, namespace: str, workflow_id: str, run_id: str = "") -> MutableState:
        self.namespaces.get(namespace)
        if not workflow_id:
            raise InvalidArgument("workflow_execution.workflow_id is not set on request.")
        if not run_id:
            run_id = self.current.get((namespace, workflow_id), "")
        state = self.runs.get((namespace, run_id)) if run_id else None
        if state is None or state.workflow_id != workflow_id:
            raise NotFound(
                f"workflow not found for ID: {workflow_id}"
                + (f" and run ID: {run_id}" if run_id else "")
            )
        return state

    def find_running(self, namespace: str, workflow_id: str, run_id: str = "") -> MutableState:
        state = self.find_run(namespace, workflow_id, run_id)
        if not state.running:
            raise NotFound("workflow execution already completed")
        return state

    def changed(self, state: MutableState) -> None:
        state.notify_changed()
        self.mark_dirty(state)
        for listener in self.listeners:
            listener(state)

    def mark_dirty(self, state: MutableState) -> None:
        self.dirty[(state.namespace, state.run_id)] = state

    def flush(self) -> None:
        """Commit every changed run to the store (when there is one) before answering."""
        if self.store is not None and (self.dirty or self.namespaces_dirty):
            self.store.save(self, list(self.dirty.values()), self.namespaces_dirty)
        self.dirty.clear()
        self.namespaces_dirty = False

    # ---- events ----------------------------------------------------------------------------

    def append(self, state: MutableState, event_type: int, attrs: Any) -> history_pb.HistoryEvent:
        """Write an event straight into the history."""
        self.mark_dirty(state)
        return state.history.append(make_event(event_type, attrs, self.clock.now()))

    def add_workflow_event(self, state: MutableState, event_type: int, attrs: Any) -> None:
        """An event the workflow code must see: buffered while a task is in flight, else
        written now with a workflow task to deliver it."""
        event = make_event(event_type, attrs, self.clock.now())
        self.mark_dirty(state)
        if state.task_in_flight:
            state.buffered_events.append(event)
            return
        state.history.append(event)
        self.schedule_workflow_task(state)

    # ---- starting runs ---------------------------------------------------------------------

    def _validate_new_run(self, new: NewRun) -> None:
        if not new.workflow_id:
            raise InvalidArgument("workflow_id is not set on request.")
        if not new.workflow_type:
            raise InvalidArgument("workflow_type is not set on request.")
        if not new.task_queue:
            raise InvalidArgument("task_queue is not set on request.")
        if len(new.workflow_id) > 1000:
            raise InvalidArgument("workflow_id exceeds length limit of 1000.")
        if new.retry_policy is not None:
            problem = validate_retry_policy(new.retry_policy, "retry_policy")
            if problem:
                raise InvalidArgument(problem)
        if new.cron_schedule and self.next_cron_time is not None:
            try:
                self.next_cron_time(new.cron_schedule, self.clock.now())
            except ValueError as exc:
                raise InvalidArgument(f"cron_schedule is invalid: {exc}") from exc
        namespace = self.namespaces.get(new.namespace)
        problem = validate_search_attributes(new.search_attributes, namespace.search_attributes)
        if problem:
            raise InvalidArgument(problem)

    def start(
        self,
        new: NewRun,
        *,
        reuse_policy: int = 0,
        conflict_policy: int = 0,
    ) -> tuple[MutableState, bool]:
        """Start a run, applying id reuse and conflict policies. Returns (run, started)."""
        self._validate_new_run(new)
        existing_id = self.current.get((new.namespace, new.workflow_id))
        existing = self.runs.get((new.namespace, existing_id)) if existing_id else None
        if existing is not None:
            if new.request_id in existing.request_ids:
                return existing, existing.running
            if existing.running:
                if (
                    conflict_policy
                    == WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING
                ):
                    return existing, False
                terminate = (
                    conflict_policy
                    == WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING
                    or reuse_policy
                    == WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_TERMINATE_IF_RUNNING
                )
                if not terminate:
                    raise WorkflowAlreadyStarted(
                        existing.workflow_id, existing.run_id, existing.start_request.request_id
                    )
                self.terminate(
                    existing,
                    "terminated by a new start with the same workflow id",
                    None,
                    new.identity,
                )
            elif reuse_policy == WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE:
                raise WorkflowAlreadyStarted(
                    existing.workflow_id, existing.run_id, existing.start_request.request_id
                )
            elif (
                reuse_policy
                == WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY
                and existing.status not in FAILED_STATUSES
            ):
                raise WorkflowAlreadyStarted(
                    existing.workflow_id, existing.run_id, existing.start_request.request_id
                )
        if new.cron_schedule and new.backoff is None and self.next_cron_time is not None:
            new.backoff = self._cron_backoff(new.cron_schedule, self.clock.now())
        return self.create_run(new), True

    def _cron_backoff(self, cron: str, after: datetime) -> timedelta:
        assert self.next_cron_time is not None
        following = self.next_cron_time(cron, after)
        return (following - after) if following is not None else timedelta(0)

    def create_run(self, new: NewRun) -> MutableState:
        now = self.clock.now()
        run_id = str(uuid.uuid4())
        expiration = new.execution_expiration
        if expiration is None and new.execution_timeout is not None:
            expiration = now + new.execution_timeout
        run_timeout = new.run_timeout
        if expiration is not None:
            remaining = expiration - now
            run_timeout = min(run_timeout, remaining) if run_timeout else remaining
        task_timeout = min(
            new.task_timeout or DEFAULT_WORKFLOW_TASK_TIMEOUT, MAX_WORKFLOW_TASK_TIMEOUT
        )
        if run_timeout is not None:
            task_timeout = min(task_timeout, run_timeout)
        retry_policy = (
            normalized_retry_policy(new.retry_policy) if new.retry_policy is not None else None
        )
        request = wsv.StartWorkflowExecutionRequest(
            namespace=new.namespace,
            workflow_id=new.workflow_id,
            request_id=new.request_id,
            identity=new.identity,
        )
        root = new.root or (new.workflow_id, run_id)
        state = MutableState(
            namespace=new.namespace,
            workflow_id=new.workflow_id,
            run_id=run_id,
            first_run_id=new.first_run_id or run_id,
            workflow_type=new.workflow_type,
            task_queue=new.task_queue,
            start_request=request,
            start_time=now,
            execution_time=now + (new.backoff or timedelta(0)),
            workflow_task_timeout=task_timeout,
            run_timeout=run_timeout,
            execution_expiration=expiration,
            retry_policy=retry_policy,
            cron_schedule=new.cron_schedule,
            attempt=new.attempt,
            memo=common_pb.Memo(fields=dict(new.memo.fields)),
            search_attributes=common_pb.SearchAttributes(
                indexed_fields=dict(new.search_attributes.indexed_fields)
            ),
            parent=new.parent,
            root_workflow_id=root[0],
            root_run_id=root[1],
        )
        state.request_ids.add(new.request_id)
        attrs = history_pb.WorkflowExecutionStartedEventAttributes(
            workflow_id=new.workflow_id,
            workflow_type=common_pb.WorkflowType(name=new.workflow_type),
            task_queue=taskqueue_pb.TaskQueue(
                name=new.task_queue, kind=TaskQueueKind.TASK_QUEUE_KIND_NORMAL
            ),
            input=new.input,
            header=new.header,
            memo=state.memo,
            search_attributes=state.search_attributes,
            identity=new.identity,
            original_execution_run_id=run_id,
            first_execution_run_id=state.first_run_id,
            attempt=new.attempt,
            cron_schedule=new.cron_schedule,
            continued_execution_run_id=new.continued_run_id,
            initiator=new.initiator,  # type: ignore[arg-type]
            root_workflow_execution=common_pb.WorkflowExecution(
                workflow_id=root[0], run_id=root[1]
            ),
        )
        attrs.workflow_task_timeout.FromTimedelta(task_timeout)
        if run_timeout is not None:
            attrs.workflow_run_timeout.FromTimedelta(run_timeout)
        if new.execution_timeout is not None:
            attrs.workflow_execution_timeout.FromTimedelta(new.execution_timeout)
        if expiration is not None:
            attrs.workflow_execution_expiration_time.FromDatetime(expiration)
        if retry_policy is not None:
            attrs.retry_policy.CopyFrom(retry_policy)
        if new.backoff:
            attrs.first_workflow_task_backoff.FromTimedelta(new.backoff)
        if new.continued_failure is not None:
            attrs.continued_failure.CopyFrom(new.continued_failure)
        if new.last_completion_result is not None:
            attrs.last_completion_result.CopyFrom(new.last_completion_result)
        if new.priority is not None:
            attrs.priority.CopyFrom(new.priority)
        if new.parent is not None:
            parent_ns = self.namespaces.get(new.parent.namespace)
            attrs.parent_workflow_namespace = parent_ns.name
            attrs.parent_workflow_namespace_id = parent_ns.id
            attrs.parent_workflow_execution.workflow_id = new.parent.workflow_id
            attrs.parent_workflow_execution.run_id = new.parent.run_id
            attrs.parent_initiated_event_id = new.parent.initiated_event_id
        self.append(state, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, attrs)
        if new.initial_signal is not None:
            self.append(state, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED, new.initial_signal)
        self.runs[(new.namespace, run_id)] = state
        self.current[(new.namespace, new.workflow_id)] = run_id
        if run_timeout is not None:
            state.run_timer = self.scheduler.call_at(
                now + run_timeout, lambda: self._on_run_timeout(state)
            )
        if new.backoff:
            self.arm_start_timer(state, state.execution_time)
        else:
            self.schedule_workflow_task(state)
        log.info(
            "workflow started",
            namespace=new.namespace,
            workflow_id=new.workflow_id,
            run_id=run_id,
            workflow_type=new.workflow_type,
            task_queue=new.task_queue,
        )
        self.changed(state)
        return state

    def _first_workflow_task(self, state: MutableState) -> None:
        state.start_timer = None
        state.start_timer_at = None
        attempt, state.retry_attempt = max(state.retry_attempt, 1), 0
        if state.running and state.workflow_task is None:
            self.schedule_workflow_task(state, attempt)
            self.changed(state)

    # ---- workflow tasks --------------------------------------------------------------------

    def schedule_workflow_task(self, state: MutableState, attempt: int = 1) -> None:
        """Make sure a workflow task will deliver what is new in the history."""
        if not state.running or state.start_timer is not None:
            return
        if state.workflow_task is not None:
            if state.workflow_task.started:
                state.workflow_task_needed = True
            return
        if state.completing:
            state.workflow_task_needed = True
            return
        now = self.clock.now()
        task = WorkflowTask(
            scheduled_event_id=0,
            attempt=attempt,
            scheduled_time=now,
            original_scheduled_time=now,
        )
        scheduled = history_pb.WorkflowTaskScheduledEventAttributes(
            task_queue=taskqueue_pb.TaskQueue(
                name=state.task_queue, kind=TaskQueueKind.TASK_QUEUE_KIND_NORMAL
            ),
            attempt=attempt,
        )
        scheduled.start_to_close_timeout.FromTimedelta(state.workflow_task_timeout)
        if attempt == 1:
            task.scheduled_event_id = self.append(
                state, EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, scheduled
            ).event_id
        else:
            event = make_event(EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, scheduled, now)
            event.event_id = state.history.next_event_id
            task.scheduled_event_id = event.event_id
            task.transient_events.append(event)
        state.workflow_task = task
        state.workflow_task_needed = False
        self.lock()
        self.workflow_queues.add(
            state.namespace,
            state.task_queue,
            TaskToken(
                "workflow",
                state.namespace,
                state.workflow_id,
                state.run_id,
                task.scheduled_event_id,
                attempt,
            ),
        )

    def _clear_workflow_task(self, state: MutableState) -> None:
        task = state.workflow_task
        if task is None:
            return
        if task.timeout is not None:
            task.timeout.cancel()
        state.workflow_task = None
        self.unlock()

    def start_workflow_task(
        self, ref: TaskToken, identity: str, request_id: str
    ) -> wsv.PollWorkflowTaskQueueResponse | None:
        """Hand a queued task to a poller (None for a stale reference)."""
        if ref.query_id:
            return self._legacy_query_task(ref)
        state = self.runs.get((ref.namespace, ref.run_id))
        if state is None or not state.running:
            return None
        task = state.workflow_task
        if (
            task is None
            or task.started
            or task.scheduled_event_id != ref.scheduled_event_id
            or task.attempt != ref.attempt
        ):
            return None
        now = self.clock.now()
        started = history_pb.WorkflowTaskStartedEventAttributes(
            scheduled_event_id=task.scheduled_event_id,
            identity=identity,
            request_id=request_id,
            history_size_bytes=state.history.size_bytes,
            suggest_continue_as_new=(
                state.history.last_event_id >= SUGGEST_CONTINUE_AS_NEW_EVENTS
                or state.history.size_bytes >= SUGGEST_CONTINUE_AS_NEW_BYTES
            ),
        )
        if task.attempt == 1:
            task.started_event_id = self.append(
                state, EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED, started
            ).event_id
        else:
            event = make_event(EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED, started, now)
            event.event_id = task.scheduled_event_id + 1
            task.started_event_id = event.event_id
            task.transient_events.append(event)
        task.started_time = now
        task.identity = identity
        task.request_id = request_id
        task.timeout = self.scheduler.call_later(
            state.workflow_task_timeout,
            lambda: self._on_workflow_task_timeout(state, task),
        )
        response = wsv.PollWorkflowTaskQueueResponse(
            task_token=ref.encode(),
            workflow_execution=state.execution,
            workflow_type=common_pb.WorkflowType(name=state.workflow_type),
            previous_started_event_id=state.last_completed_started_event_id,
            started_event_id=task.started_event_id,
            attempt=task.attempt,
            backlog_count_hint=self.workflow_queues.backlog_size(state.namespace, state.task_queue),
            workflow_execution_task_queue=taskqueue_pb.TaskQueue(
                name=state.task_queue, kind=TaskQueueKind.TASK_QUEUE_KIND_NORMAL
            ),
        )
        response.history.events.extend(state.history.events)
        response.history.events.extend(task.transient_events)
        response.scheduled_time.FromDatetime(task.scheduled_time)
        response.started_time.FromDatetime(now)
        for query in state.queries.values():
            if not query.dispatched:
                query.dispatched = True
                task.delivered_queries.append(query.query_id)
                log.debug("query attached to workflow task", query_id=query.query_id)
                response.queries[query.query_id].CopyFrom(query.query)
        for update in state.updates.values():
            if update.stage == Stage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ADMITTED:
                update.delivered = True
                task.delivered_updates.append(update.update_id)
                body = any_pb2.Any()
                body.Pack(update.request)
                response.messages.append(
                    protocol_pb.Message(
                        id=f"{update.update_id}/request",
                        protocol_instance_id=update.update_id,
                        event_id=task.started_event_id - 1,
                        body=body,
                    )
                )
        self.changed(state)
        return response

    def _workflow_task_for_token(self, raw_token: bytes) -> tuple[MutableState, WorkflowTask]:
        token = TaskToken.decode(raw_token, "workflow")
        state = self.runs.get((token.namespace, token.run_id))
        task = state.workflow_task if state is not None else None
        if (
            state is None
            or not state.running
            or task is None
            or not task.started
            or task.scheduled_event_id != token.scheduled_event_id
            or task.attempt != token.attempt
        ):
            raise NotFound("Workflow task not found.")
        return state, task

    def _persist_transient(self, state: MutableState, task: WorkflowTask) -> None:
        for event in task.transient_events:
            state.history.append(event)
        task.transient_events.clear()

    def fail_workflow_task(self, req: wsv.RespondWorkflowTaskFailedRequest) -> None:
        state, task = self._workflow_task_for_token(req.task_token)
        self._fail_workflow_task(state, task, req.cause, req.failure, req.identity)
        self._answer_task_queries(state, task, None)
        self.changed(state)

    def _fail_workflow_task(
        self,
        state: MutableState,
        task: WorkflowTask,
        cause: int,
        failure: failure_pb.Failure | None,
        identity: str,
        *,
        timed_out: bool = False,
    ) -> None:
        """End a task without applying its commands; a new attempt follows."""
        first_failure = task.attempt == 1
        if first_failure:
            if timed_out:
                timed_out_attrs = history_pb.WorkflowTaskTimedOutEventAttributes(
                    scheduled_event_id=task.scheduled_event_id,
                    started_event_id=task.started_event_id,
                    timeout_type=TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE,
                )
                self.append(state, EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT, timed_out_attrs)
            else:
                attrs = history_pb.WorkflowTaskFailedEventAttributes(
                    scheduled_event_id=task.scheduled_event_id,
                    started_event_id=task.started_event_id,
                    cause=cause,  # type: ignore[arg-type]
                    identity=identity,
                )
                if failure is not None:
                    attrs.failure.CopyFrom(failure)
                self.append(state, EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED, attrs)
        self._clear_workflow_task(state)
        for update_id in task.delivered_updates:
            update = state.updates.get(update_id)
            if (
                update is not None
                and update.stage == Stage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ADMITTED
            ):
                update.delivered = False
        self._flush_buffered(state)
        attempt = task.attempt + 1
        if (
            state.buffered_events
            or cause == WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND
        ):
            attempt = 1
        if attempt <= 2:
            self.schedule_workflow_task(state, attempt)
        else:
            # Repeated failures back off (as Temporal does) so a broken workflow does not spin.
            delay = min(timedelta(seconds=2 ** min(attempt - 3, 9)), timedelta(minutes=10))
            state.retry_attempt = attempt
            self.arm_start_timer(state, self.clock.now() + delay)
        log.warning(
            "workflow task failed",
            workflow_id=state.workflow_id,
            run_id=state.run_id,
            cause=WorkflowTaskFailedCause.Name(cause) if cause else "TIMEOUT",  # type: ignore[arg-type]
            attempt=task.attempt,
            message=failure.message if failure else "",
        )

    def arm_start_timer(self, state: MutableState, when: datetime) -> None:
        """Hold workflow tasks back until `when`: a start delay, cron backoff or task retry."""
        state.start_timer_at = when
        state.start_timer = self.scheduler.call_at(when, lambda: self._first_workflow_task(state))

    def _on_workflow_task_timeout(self, state: MutableState, task: WorkflowTask) -> None:
        if state.workflow_task is not task or not state.running:
            return
        task.timeout = None
        self._fail_workflow_task(state, task, 0, None, "", timed_out=True)
        self._answer_task_queries(state, task, None)
        self.changed(state)

    def _flush_buffered(self, state: MutableState) -> bool:
        """Write events that arrived during the task, fixing up references between them
        (a started event's id is only known once it is written)."""
        if not state.buffered_events:
            return False
        activity_started: dict[int, int] = {}
        child_started: dict[int, int] = {}
        for event in state.buffered_events:
            state.history.append(event)
            attrs = attributes_of(event)
            if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
                activity_started[attrs.scheduled_event_id] = event.event_id
            elif event.event_type in ACTIVITY_CLOSE_EVENTS and not attrs.started_event_id:
                attrs.started_event_id = activity_started.get(attrs.scheduled_event_id, 0)
            elif event.event_type == EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED:
                child_started[attrs.initiated_event_id] = event.event_id
            elif event.event_type in CHILD_CLOSE_EVENTS and not attrs.started_event_id:
                attrs.started_event_id = child_started.get(attrs.initiated_event_id, 0)
        state.buffered_events.clear()
        return True

    def complete_workflow_task(
        self, req: wsv.RespondWorkflowTaskCompletedRequest
    ) -> wsv.RespondWorkflowTaskCompletedResponse:
        state, task = self._workflow_task_for_token(req.task_token)
        self._answer_task_queries(state, task, req.query_results)
        commands = list(req.commands)
        closing = any(c.command_type in CLOSE_COMMANDS for c in commands)
        undelivered_updates = any(
            u.stage == Stage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ADMITTED and not u.delivered
            for u in state.updates.values()
        )
        if closing and (state.buffered_events or undelivered_updates):
            # New events arrived that the workflow has not seen: it must not close yet.
            self._persist_transient(state, task)
            task.attempt = 1
            self._fail_workflow_task(
                state,
                task,
                WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND,
                failure_pb.Failure(message="unhandled new events before workflow completion"),
                req.identity,
            )
            self.changed(state)
            return wsv.RespondWorkflowTaskCompletedResponse()
        try:
            self._validate_commands(state, commands)
        except BadCommand as bad:
            self._fail_workflow_task(
                state, task, bad.cause, failure_pb.Failure(message=bad.message), req.identity
            )
            self.changed(state)
            raise InvalidArgument(bad.message) from None

        self._persist_transient(state, task)
        completed = history_pb.WorkflowTaskCompletedEventAttributes(
            scheduled_event_id=task.scheduled_event_id,
            started_event_id=task.started_event_id,
            identity=req.identity,
            binary_checksum=req.binary_checksum,
        )
        if req.HasField("sdk_metadata"):
            completed.sdk_metadata.CopyFrom(req.sdk_metadata)
        if req.HasField("metering_metadata"):
            completed.metering_metadata.CopyFrom(req.metering_metadata)
        completed_id = self.append(
            state, EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, completed
        ).event_id
        state.last_completed_started_event_id = task.started_event_id
        self._clear_workflow_task(state)
        for update_id in task.delivered_updates:
            update = state.updates.get(update_id)
            if (
                update is not None
                and update.stage == Stage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ADMITTED
            ):
                update.delivered = False  # not answered: deliver again with the next task

        messages = {m.id: m for m in req.messages}
        after_commit: list[Callable[[], None]] = []
        state.completing = True
        try:
            for command in commands:
                if not state.running:
                    break
                self._apply_command(state, command, completed_id, messages, after_commit)
            for message in list(messages.values()):
                if state.running:
                    self._apply_message(state, message)
                messages.pop(message.id, None)
        finally:
            state.completing = False

        if state.running:
            needs_task = (
                self._flush_buffered(state)
                or state.workflow_task_needed
                or req.force_create_new_workflow_task
                or any(
                    u.stage == Stage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ADMITTED
                    for u in state.updates.values()
                )
            )
            if needs_task:
                state.workflow_task_needed = False
                self.schedule_workflow_task(state)
            self._dispatch_queries(state)
        for action in after_commit:
            action()
        self.changed(state)
        return wsv.RespondWorkflowTaskCompletedResponse()

    # ---- commands --------------------------------------------------------------------------

    def _validate_commands(self, state: MutableState, commands: list[command_pb.Command]) -> None:
        """Check every command before applying any, so a bad one leaves nothing half-written."""
        activity_ids = {a.activity_id for a in state.activities.values()}
        timer_ids = set(state.timers)
        namespace = self.namespaces.get(state.namespace)
        for index, command in enumerate(commands):
            kind = command.command_type
            where = f"commands[{index}]"
            if kind == CommandType.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK:
                attrs = command.schedule_activity_task_command_attributes
                if not attrs.activity_id:
                    raise BadCommand(
                        WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES,
                        f"{where}: ActivityId is not set.",
                    )
                if attrs.activity_id in activity_ids:
                    raise BadCommand(
                        WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES,
                        f"{where}: activity ID {attrs.activity_id} already in use.",
                    )
                if not attrs.activity_type.name:
                    raise BadCommand(
                        WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES,
                        f"{where}: ActivityType is not set.",
                    )
                if not (
                    _duration(attrs.schedule_to_close_timeout)
                    or _duration(attrs.start_to_close_timeout)
                ):
                    raise BadCommand(
                        WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES,
                        f"{where}: a valid StartToClose or ScheduleToCloseTimeout is not set.",
                    )
                activity_ids.add(attrs.activity_id)
            elif kind == CommandType.COMMAND_TYPE_START_TIMER:
                timer_id = command.start_timer_command_attributes.timer_id
                if not timer_id or timer_id in timer_ids:
                    raise BadCommand(
                        WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_BAD_START_TIMER_ATTRIBUTES,
                        f"{where}: timer ID {timer_id!r} is empty or already in use.",
                    )
                timer_ids.add(timer_id)
            elif kind == CommandType.COMMAND_TYPE_CANCEL_TIMER:
                timer_ids.discard(command.cancel_timer_command_attributes.timer_id)
            elif kind == CommandType.COMMAND_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
                problem = validate_search_attributes(
                    command.upsert_workflow_search_attributes_command_attributes.search_attributes,
                    namespace.search_attributes,
                )
                if problem:
                    raise BadCommand(
                        WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_BAD_SEARCH_ATTRIBUTES,
                        f"{where}: {problem}",
                    )
            elif kind == CommandType.COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION:
                attrs_child = command.start_child_workflow_execution_command_attributes
                if not attrs_child.workflow_id or not attrs_child.workflow_type.name:
                    raise BadCommand(
                        WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_BAD_START_CHILD_EXECUTION_ATTRIBUTES,
                        f"{where}: WorkflowId and WorkflowType are required.",
                    )
                problem = validate_search_attributes(
                    attrs_child.search_attributes, namespace.search_attributes
                )
                if problem:
                    raise BadCommand(
                        WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_BAD_SEARCH_ATTRIBUTES,
                        f"{where}: {problem}",
                    )
            elif kind == CommandType.COMMAND_TYPE_SCHEDULE_NEXUS_OPERATION:
                raise BadCommand(
                    WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND,
                    f"{where}: Nexus operations are not supported by devserver.",
                )

    def _apply_command(
        self,
        state: MutableState,
        command: command_pb.Command,
        completed_id: int,
        messages: dict[str, protocol_pb.Message],
        after_commit: list[Callable[[], None]],
    ) -> None:
        kind = command.command_type
        if kind == CommandType.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK:
            self.activities.schedule(
                state, command.schedule_activity_task_command_attributes, completed_id
            )
        elif kind == CommandType.COMMAND_TYPE_REQUEST_CANCEL_ACTIVITY_TASK:
            self.activities.request_cancel(
                state,
                command.request_cancel_activity_task_command_attributes.scheduled_event_id,
                completed_id,
            )
        elif kind == CommandType.COMMAND_TYPE_START_TIMER:
            self._start_timer(state, command.start_timer_command_attributes, completed_id)
        elif kind == CommandType.COMMAND_TYPE_CANCEL_TIMER:
            self._cancel_timer(
                state, command.cancel_timer_command_attributes.timer_id, completed_id
            )
        elif kind == CommandType.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION:
            self._complete_run(
                state, command.complete_workflow_execution_command_attributes, completed_id
            )
        elif kind == CommandType.COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION:
            self._fail_run(
                state, command.fail_workflow_execution_command_attributes.failure, completed_id
            )
        elif kind == CommandType.COMMAND_TYPE_CANCEL_WORKFLOW_EXECUTION:
            attrs = history_pb.WorkflowExecutionCanceledEventAttributes(
                workflow_task_completed_event_id=completed_id,
                details=command.cancel_workflow_execution_command_attributes.details,
            )
            self.append(state, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED, attrs)
            self.close_run(state, Status.WORKFLOW_EXECUTION_STATUS_CANCELED)
        elif kind == CommandType.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION:
            self._continue_as_new(
                state, command.continue_as_new_workflow_execution_command_attributes, completed_id
            )
        elif kind == CommandType.COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION:
            self._initiate_child(
                state,
                command.start_child_workflow_execution_command_attributes,
                completed_id,
                after_commit,
            )
        elif kind == CommandType.COMMAND_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION:
            self._signal_external(
                state,
                command.signal_external_workflow_execution_command_attributes,
                completed_id,
                after_commit,
            )
        elif kind == CommandType.COMMAND_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION:
            self._cancel_external(
                state,
                command.request_cancel_external_workflow_execution_command_attributes,
                completed_id,
                after_commit,
            )
        elif kind == CommandType.COMMAND_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
            upsert = command.upsert_workflow_search_attributes_command_attributes
            self.append(
                state,
                EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
                history_pb.UpsertWorkflowSearchAttributesEventAttributes(
                    workflow_task_completed_event_id=completed_id,
                    search_attributes=upsert.search_attributes,
                ),
            )
            merge_search_attributes(state.search_attributes, upsert.search_attributes)
        elif kind == CommandType.COMMAND_TYPE_MODIFY_WORKFLOW_PROPERTIES:
            modify = command.modify_workflow_properties_command_attributes
            self.append(
                state,
                EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED,
                history_pb.WorkflowPropertiesModifiedEventAttributes(
                    workflow_task_completed_event_id=completed_id,
                    upserted_memo=modify.upserted_memo,
                ),
            )
            for key, value in modify.upserted_memo.fields.items():
                if value.data in (b"", b"null"):
                    state.memo.fields.pop(key, None)
                else:
                    state.memo.fields[key].CopyFrom(value)
        elif kind == CommandType.COMMAND_TYPE_RECORD_MARKER:
            marker = command.record_marker_command_attributes
            attrs_marker = history_pb.MarkerRecordedEventAttributes(
                marker_name=marker.marker_name,
                workflow_task_completed_event_id=completed_id,
                header=marker.header,
            )
            for detail_name, details in marker.details.items():
                attrs_marker.details[detail_name].CopyFrom(details)
            if marker.HasField("failure"):
                attrs_marker.failure.CopyFrom(marker.failure)
            self.append(state, EventType.EVENT_TYPE_MARKER_RECORDED, attrs_marker)
        elif kind == CommandType.COMMAND_TYPE_PROTOCOL_MESSAGE:
            message_id = command.protocol_message_command_attributes.message_id
            message = messages.pop(message_id, None)
            if message is not None:
                self._apply_message(state, message)
        else:
            log.warning("ignoring unsupported command", command=CommandType.Name(kind))

    # ---- timers ----------------------------------------------------------------------------

    def _start_timer(
        self, state: MutableState, attrs: command_pb.StartTimerCommandAttributes, completed_id: int
    ) -> None:
        event = self.append(
            state,
            EventType.EVENT_TYPE_TIMER_STARTED,
            history_pb.TimerStartedEventAttributes(
                timer_id=attrs.timer_id,
                start_to_fire_timeout=attrs.start_to_fire_timeout,
                workflow_task_completed_event_id=completed_id,
            ),
        )
        timer_id = attrs.timer_id
        handle = self.scheduler.call_later(
            attrs.start_to_fire_timeout.ToTimedelta(), lambda: self._fire_timer(state, timer_id)
        )
        state.timers[timer_id] = UserTimer(timer_id, event.event_id, handle)
        self.mark_dirty(state)

    def _fire_timer(self, state: MutableState, timer_id: str) -> None:
        timer = state.timers.pop(timer_id, None)
        if timer is None or not state.running:
            return
        self.add_workflow_event(
            state,
            EventType.EVENT_TYPE_TIMER_FIRED,
            history_pb.TimerFiredEventAttributes(
                timer_id=timer_id, started_event_id=timer.started_event_id
            ),
        )
        self.changed(state)

    def _cancel_timer(self, state: MutableState, timer_id: str, completed_id: int) -> None:
        timer = state.timers.pop(timer_id, None)
        if timer is None:
            return  # already fired: the fired event is buffered or in history
        timer.handle.cancel()
        self.append(
            state,
            EventType.EVENT_TYPE_TIMER_CANCELED,
            history_pb.TimerCanceledEventAttributes(
                timer_id=timer_id,
                started_event_id=timer.started_event_id,
                workflow_task_completed_event_id=completed_id,
            ),
        )

    # ---- closing runs ----------------------------------------------------------------------

    def _complete_run(
        self,
        state: MutableState,
        attrs: command_pb.CompleteWorkflowExecutionCommandAttributes,
        completed_id: int,
    ) -> None:
        event_attrs = history_pb.WorkflowExecutionCompletedEventAttributes(
            result=attrs.result, workflow_task_completed_event_id=completed_id
        )
        new: NewRun | None = None
        if state.cron_schedule:
            new = self._next_run(
                state, ContinueAsNewInitiator.CONTINUE_AS_NEW_INITIATOR_CRON_SCHEDULE
            )
            new.last_completion_result = attrs.result
            event_attrs.new_execution_run_id = "pending"
        event = self.append(state, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, event_attrs)
        self.close_run(state, Status.WORKFLOW_EXECUTION_STATUS_COMPLETED, new, event)

    def _fail_run(
        self, state: MutableState, failure: failure_pb.Failure, completed_id: int
    ) -> None:
        event_attrs = history_pb.WorkflowExecutionFailedEventAttributes(
            failure=failure, workflow_task_completed_event_id=completed_id
        )
        new = self._retry_or_cron(state, failure, event_attrs)
        event = self.append(state, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED, event_attrs)
        self.close_run(state, Status.WORKFLOW_EXECUTION_STATUS_FAILED, new, event)

    def _retry_or_cron(
        self, state: MutableState, failure: failure_pb.Failure, event_attrs: Any
    ) -> NewRun | None:
        """After a failure or timeout: the next run under the retry policy or cron, if any."""
        decision = decide_retry(
            state.retry_policy,
            state.attempt,
            failure,
            self.clock.now(),
            state.execution_expiration,
        )
        event_attrs.retry_state = decision.retry_state
        if decision.retry:
            new = self._next_run(state, ContinueAsNewInitiator.CONTINUE_AS_NEW_INITIATOR_RETRY)
            new.attempt = state.attempt + 1
            new.backoff = decision.delay
            new.continued_failure = failure
            event_attrs.new_execution_run_id = "pending"
            return new
        if state.cron_schedule:
            new = self._next_run(
                state, ContinueAsNewInitiator.CONTINUE_AS_NEW_INITIATOR_CRON_SCHEDULE
            )
            new.continued_failure = failure
            event_attrs.new_execution_run_id = "pending"
            return new
        return None

    def _next_run(self, state: MutableState, initiator: int) -> NewRun:
        """A new run of the same workflow carrying its configuration (retry and cron)."""
        started = attributes_of(state.history.get(1))
        new = NewRun(
            namespace=state.namespace,
            workflow_id=state.workflow_id,
            workflow_type=state.workflow_type,
            task_queue=state.task_queue,
            input=started.input,
            header=started.header,
            memo=state.memo,
            search_attributes=state.search_attributes,
            execution_timeout=_duration(started.workflow_execution_timeout),
            run_timeout=_duration(started.workflow_run_timeout),
            task_timeout=state.workflow_task_timeout,
            retry_policy=state.retry_policy,
            cron_schedule=state.cron_schedule,
            identity="",
            request_id=str(uuid.uuid4()),
            attempt=1,
            first_run_id=state.first_run_id,
            execution_expiration=state.execution_expiration,
            initiator=initiator,
            continued_run_id=state.run_id,
            parent=state.parent,
            root=(state.root_workflow_id, state.root_run_id),
        )
        if initiator == ContinueAsNewInitiator.CONTINUE_AS_NEW_INITIATOR_CRON_SCHEDULE:
            new.backoff = self._cron_backoff(state.cron_schedule, self.clock.now())
            # Each cron run has its own execution timeout window.
            new.execution_expiration = None
        return new

    def _continue_as_new(
        self,
        state: MutableState,
        attrs: command_pb.ContinueAsNewWorkflowExecutionCommandAttributes,
        completed_id: int,
    ) -> None:
        new = self._next_run(state, ContinueAsNewInitiator.CONTINUE_AS_NEW_INITIATOR_WORKFLOW)
        new.workflow_type = attrs.workflow_type.name or state.workflow_type
        new.task_queue = attrs.task_queue.name or state.task_queue
        new.input = attrs.input
        new.header = attrs.header
        if attrs.memo.fields:
            new.memo = attrs.memo
        if attrs.search_attributes.indexed_fields:
            new.search_attributes = attrs.search_attributes
        if _duration(attrs.workflow_run_timeout):
            new.run_timeout = _duration(attrs.workflow_run_timeout)
        if _duration(attrs.workflow_task_timeout):
            new.task_timeout = _duration(attrs.workflow_task_timeout)
        if attrs.HasField("retry_policy"):
            new.retry_policy = attrs.retry_policy
        new.backoff = _duration(attrs.backoff_start_interval)
        if attrs.HasField("last_completion_result"):
            new.last_completion_result = attrs.last_completion_result
        event_attrs = history_pb.WorkflowExecutionContinuedAsNewEventAttributes(
            new_execution_run_id="pending",
            workflow_type=common_pb.WorkflowType(name=new.workflow_type),
            task_queue=taskqueue_pb.TaskQueue(
                name=new.task_queue, kind=TaskQueueKind.TASK_QUEUE_KIND_NORMAL
            ),
            input=attrs.input,
            header=attrs.header,
            memo=new.memo,
            search_attributes=new.search_attributes,
            workflow_task_completed_event_id=completed_id,
            initiator=ContinueAsNewInitiator.CONTINUE_AS_NEW_INITIATOR_WORKFLOW,
            backoff_start_interval=attrs.backoff_start_interval,
        )
        if new.run_timeout is not None:
            event_attrs.workflow_run_timeout.FromTimedelta(new.run_timeout)
        if new.task_timeout is not None:
            event_attrs.workflow_task_timeout.FromTimedelta(new.task_timeout)
        event = self.append(
            state, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW, event_attrs
        )
        self.close_run(state, Status.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW, new, event)

    def _on_run_timeout(self, state: MutableState) -> None:
        state.run_timer = None
        if not state.running:
            return
        if state.task_in_flight:
            # The timed-out run's in-flight task can no longer complete.
            self._clear_workflow_task(state)
        self._flush_buffered(state)
        failure = failure_pb.Failure(
            message="workflow timed out",
            timeout_failure_info=failure_pb.TimeoutFailureInfo(
                timeout_type=TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE
            ),
        )
        event_attrs = history_pb.WorkflowExecutionTimedOutEventAttributes()
        new = None
        if state.execution_expiration is None or self.clock.now() < state.execution_expiration:
            new = self._retry_or_cron(state, failure, event_attrs)
        else:
            event_attrs.retry_state = RetryState.RETRY_STATE_TIMEOUT
        event = self.append(state, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT, event_attrs)
        self.close_run(state, Status.WORKFLOW_EXECUTION_STATUS_TIMED_OUT, new, event)
        self.changed(state)

    def terminate(
        self,
        state: MutableState,
        reason: str,
        details: common_pb.Payloads | None,
        identity: str,
    ) -> None:
        if not state.running:
            raise NotFound("workflow execution already completed")
        self._clear_workflow_task(state)
        self._flush_buffered(state)
        attrs = history_pb.WorkflowExecutionTerminatedEventAttributes(
            reason=reason, identity=identity
        )
        if details is not None:
            attrs.details.CopyFrom(details)
        self.append(state, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED, attrs)
        self.close_run(state, Status.WORKFLOW_EXECUTION_STATUS_TERMINATED)
        self.changed(state)

    def close_run(
        self,
        state: MutableState,
        status: int,
        new: NewRun | None = None,
        close_event: history_pb.HistoryEvent | None = None,
    ) -> None:
        """Everything that follows a run's close event: pending work dropped, children and
        parent told, the next run (continue-as-new, retry, cron) created."""
        state.status = status
        state.close_time = self.clock.now()
        self._clear_workflow_task(state)
        state.buffered_events.clear()
        for handle in (state.run_timer, state.start_timer):
            if handle is not None:
                handle.cancel()
        state.run_timer = state.start_timer = None
        for timer in state.timers.values():
            timer.handle.cancel()
        state.timers.clear()
        self.activities.drop_all(state)
        for update in state.updates.values():
            update.notify()
        for query in list(state.queries.values()):
            if not query.dispatched:
                self._send_legacy_query(state, query)
        if new is not None:
            next_state = self.create_run(new)
            state.new_run_id = next_state.run_id
            if close_event is not None:
                attrs = attributes_of(close_event)
                attrs.new_execution_run_id = next_state.run_id
        else:
            self._apply_parent_close_policies(state)
            self._notify_parent(state, close_event)
        log.info(
            "workflow closed",
            workflow_id=state.workflow_id,
            run_id=state.run_id,
            status=Status.Name(status),  # type: ignore[arg-type]
            new_run_id=state.new_run_id or None,
        )
        state.notify_changed()

    # ---- children --------------------------------------------------------------------------

    def _initiate_child(
        self,
        state: MutableState,
        attrs: command_pb.StartChildWorkflowExecutionCommandAttributes,
        completed_id: int,
        after_commit: list[Callable[[], None]],
    ) -> None:
        namespace = attrs.namespace or state.namespace
        event_attrs = history_pb.StartChildWorkflowExecutionInitiatedEventAttributes(
            namespace=namespace,
            namespace_id=self.namespaces.get(namespace).id,
            workflow_id=attrs.workflow_id,
            workflow_type=attrs.workflow_type,
            task_queue=taskqueue_pb.TaskQueue(
                name=attrs.task_queue.name or state.task_queue,
                kind=TaskQueueKind.TASK_QUEUE_KIND_NORMAL,
            ),
            input=attrs.input,
            workflow_execution_timeout=attrs.workflow_execution_timeout,
            workflow_run_timeout=attrs.workflow_run_timeout,
            workflow_task_timeout=attrs.workflow_task_timeout,
            parent_close_policy=attrs.parent_close_policy,
            control=attrs.control,
            workflow_task_completed_event_id=completed_id,
            workflow_id_reuse_policy=attrs.workflow_id_reuse_policy,
            retry_policy=attrs.retry_policy,
            cron_schedule=attrs.cron_schedule,
            header=attrs.header,
            memo=attrs.memo,
            search_attributes=attrs.search_attributes,
        )
        event = self.append(
            state, EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED, event_attrs
        )
        policy = attrs.parent_close_policy or ParentClosePolicy.PARENT_CLOSE_POLICY_TERMINATE
        child = ChildInfo(
            initiated_event_id=event.event_id,
            namespace=namespace,
            workflow_id=attrs.workflow_id,
            workflow_type=attrs.workflow_type.name,
            parent_close_policy=policy,
        )
        state.children[event.event_id] = child
        after_commit.append(lambda: self._start_child(state, child, attrs))

    def _start_child(
        self,
        state: MutableState,
        child: ChildInfo,
        attrs: command_pb.StartChildWorkflowExecutionCommandAttributes,
    ) -> None:
        if not state.running:
            return
        new = NewRun(
            namespace=child.namespace,
            workflow_id=attrs.workflow_id,
            workflow_type=attrs.workflow_type.name,
            task_queue=attrs.task_queue.name or state.task_queue,
            input=attrs.input,
            header=attrs.header,
            memo=attrs.memo,
            search_attributes=attrs.search_attributes,
            execution_timeout=_duration(attrs.workflow_execution_timeout),
            run_timeout=_duration(attrs.workflow_run_timeout),
            task_timeout=_duration(attrs.workflow_task_timeout),
            retry_policy=attrs.retry_policy if attrs.HasField("retry_policy") else None,
            cron_schedule=attrs.cron_schedule,
            identity="",
            request_id=f"{state.run_id}:{child.initiated_event_id}",
            parent=ParentRef(
                state.namespace, state.workflow_id, state.run_id, child.initiated_event_id
            ),
            root=(state.root_workflow_id, state.root_run_id),
        )
        try:
            child_state, _ = self.start(new, reuse_policy=attrs.workflow_id_reuse_policy)
        except WorkflowAlreadyStarted:
            state.children.pop(child.initiated_event_id, None)
            self.add_workflow_event(
                state,
                EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED,
                history_pb.StartChildWorkflowExecutionFailedEventAttributes(
                    namespace=child.namespace,
                    namespace_id=self.namespaces.get(child.namespace).id,
                    workflow_id=child.workflow_id,
                    workflow_type=attrs.workflow_type,
                    cause=StartChildWorkflowExecutionFailedCause.START_CHILD_WORKFLOW_EXECUTION_FAILED_CAUSE_WORKFLOW_ALREADY_EXISTS,
                    control=attrs.control,
                    initiated_event_id=child.initiated_event_id,
                ),
            )
            self.changed(state)
            return
        child.run_id = child_state.run_id
        self.add_workflow_event(
            state,
            EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED,
            history_pb.ChildWorkflowExecutionStartedEventAttributes(
                namespace=child.namespace,
                namespace_id=self.namespaces.get(child.namespace).id,
                initiated_event_id=child.initiated_event_id,
                workflow_execution=child_state.execution,
                workflow_type=attrs.workflow_type,
                header=attrs.header,
            ),
        )
        self.changed(state)

    @staticmethod
    def _find_child_started(state: MutableState, initiated_event_id: int) -> int:
        for event in reversed(state.history.events + state.buffered_events):
            if (
                event.event_type == EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED
                and event.child_workflow_execution_started_event_attributes.initiated_event_id
                == initiated_event_id
            ):
                return event.event_id
        return 0

    def _notify_parent(
        self, state: MutableState, close_event: history_pb.HistoryEvent | None
    ) -> None:
        ref = state.parent
        if ref is None or close_event is None:
            return
        parent = self.runs.get((ref.namespace, ref.run_id))
        if parent is None or not parent.running:
            return
        child = parent.children.pop(ref.initiated_event_id, None)
        if child is None:
            return
        if not child.started_event_id:
            child.started_event_id = self._find_child_started(parent, child.initiated_event_id)
        common: dict[str, Any] = {
            "namespace": state.namespace,
            "namespace_id": self.namespaces.get(state.namespace).id,
            "workflow_execution": common_pb.WorkflowExecution(
                workflow_id=state.workflow_id, run_id=state.run_id
            ),
            "workflow_type": common_pb.WorkflowType(name=state.workflow_type),
            "initiated_event_id": child.initiated_event_id,
            "started_event_id": child.started_event_id,
        }
        close = attributes_of(close_event)
        child_event_type, attrs_class, copied = _CHILD_CLOSE_EVENTS[close_event.event_type]
        attrs = attrs_class(**common, **{name: getattr(close, name) for name in copied})
        self.add_workflow_event(parent, child_event_type, attrs)
        self.changed(parent)

    def _apply_parent_close_policies(self, state: MutableState) -> None:
        for child in list(state.children.values()):
            if not child.run_id:
                continue
            current = self.current.get((child.namespace, child.workflow_id))
            target = self.runs.get((child.namespace, current)) if current else None
            if target is None or not target.running:
                continue
            if child.parent_close_policy == ParentClosePolicy.PARENT_CLOSE_POLICY_TERMINATE:
                self.terminate(target, "by parent close policy", None, "devserver")
            elif child.parent_close_policy == ParentClosePolicy.PARENT_CLOSE_POLICY_REQUEST_CANCEL:
                self.request_cancel(target, "devserver", "", "by parent close policy")
        state.children.clear()

    # ---- signals and cancellation ----------------------------------------------------------

    def signal(
        self,
        state: MutableState,
        name: str,
        payloads: common_pb.Payloads,
        header: common_pb.Header,
        identity: str,
        request_id: str = "",
        external: common_pb.WorkflowExecution | None = None,
    ) -> None:
        if not state.running:
            raise NotFound("workflow execution already completed")
        if request_id:
            if request_id in state.request_ids:
                return  # a retried signal is applied once
            state.request_ids.add(request_id)
        attrs = history_pb.WorkflowExecutionSignaledEventAttributes(
            signal_name=name,
            input=payloads,
            identity=identity,
            header=header,
            request_id=request_id,
        )
        if external is not None:
            attrs.external_workflow_execution.CopyFrom(external)
        self.add_workflow_event(state, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED, attrs)
        self.changed(state)

    def request_cancel(
        self,
        state: MutableState,
        identity: str,
        request_id: str,
        reason: str,
        external: tuple[int, common_pb.WorkflowExecution] | None = None,
    ) -> None:
        if not state.running:
            raise NotFound("workflow execution already completed")
        if state.cancel_requested:
            return  # Temporal treats a repeated cancel request as a no-op
        if request_id:
            state.request_ids.add(request_id)
        state.cancel_requested = True
        attrs = history_pb.WorkflowExecutionCancelRequestedEventAttributes(
            cause=reason, identity=identity
        )
        if external is not None:
            attrs.external_initiated_event_id = external[0]
            attrs.external_workflow_execution.CopyFrom(external[1])
        self.add_workflow_event(
            state, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED, attrs
        )
        self.changed(state)

    def _signal_external(
        self,
        state: MutableState,
        attrs: command_pb.SignalExternalWorkflowExecutionCommandAttributes,
        completed_id: int,
        after_commit: list[Callable[[], None]],
    ) -> None:
        namespace = attrs.namespace or state.namespace
        event = self.append(
            state,
            EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
            history_pb.SignalExternalWorkflowExecutionInitiatedEventAttributes(
                workflow_task_completed_event_id=completed_id,
                namespace=namespace,
                namespace_id=self.namespaces.get(namespace).id,
                workflow_execution=attrs.execution,
                signal_name=attrs.signal_name,
                input=attrs.input,
                control=attrs.control,
                child_workflow_only=attrs.child_workflow_only,
                header=attrs.header,
            ),
        )
        initiated_id = event.event_id

        def deliver() -> None:
            if not state.running:
                return
            try:
                target = self.find_running(
                    namespace, attrs.execution.workflow_id, attrs.execution.run_id
                )
                self.signal(
                    target,
                    attrs.signal_name,
                    attrs.input,
                    attrs.header,
                    f"{state.workflow_id}",
                    f"{state.run_id}:{initiated_id}",
                    external=state.execution,
                )
            except ServiceError:
                self.add_workflow_event(
                    state,
                    EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED,
                    history_pb.SignalExternalWorkflowExecutionFailedEventAttributes(
                        cause=SignalExternalWorkflowExecutionFailedCause.SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND,
                        workflow_task_completed_event_id=completed_id,
                        namespace=namespace,
                        namespace_id=self.namespaces.get(namespace).id,
                        workflow_execution=attrs.execution,
                        initiated_event_id=initiated_id,
                        control=attrs.control,
                    ),
                )
            else:
                self.add_workflow_event(
                    state,
                    EventType.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED,
                    history_pb.ExternalWorkflowExecutionSignaledEventAttributes(
                        initiated_event_id=initiated_id,
                        namespace=namespace,
                        namespace_id=self.namespaces.get(namespace).id,
                        workflow_execution=target.execution,
                        control=attrs.control,
                    ),
                )
            self.changed(state)

        after_commit.append(deliver)

    def _cancel_external(
        self,
        state: MutableState,
        attrs: command_pb.RequestCancelExternalWorkflowExecutionCommandAttributes,
        completed_id: int,
        after_commit: list[Callable[[], None]],
    ) -> None:
        namespace = attrs.namespace or state.namespace
        execution = common_pb.WorkflowExecution(workflow_id=attrs.workflow_id, run_id=attrs.run_id)
        event = self.append(
            state,
            EventType.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
            history_pb.RequestCancelExternalWorkflowExecutionInitiatedEventAttributes(
                workflow_task_completed_event_id=completed_id,
                namespace=namespace,
                namespace_id=self.namespaces.get(namespace).id,
                workflow_execution=execution,
                control=attrs.control,
                child_workflow_only=attrs.child_workflow_only,
                reason=attrs.reason,
            ),
        )
        initiated_id = event.event_id

        def deliver() -> None:
            if not state.running:
                return
            try:
                target = self.find_running(namespace, attrs.workflow_id, attrs.run_id)
                self.request_cancel(
                    target,
                    state.workflow_id,
                    "",
                    attrs.reason,
                    external=(initiated_id, state.execution),
                )
            except ServiceError:
                self.add_workflow_event(
                    state,
                    EventType.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED,
                    history_pb.RequestCancelExternalWorkflowExecutionFailedEventAttributes(
                        cause=CancelExternalWorkflowExecutionFailedCause.CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND,
                        workflow_task_completed_event_id=completed_id,
                        namespace=namespace,
                        namespace_id=self.namespaces.get(namespace).id,
                        workflow_execution=execution,
                        initiated_event_id=initiated_id,
                        control=attrs.control,
                    ),
                )
            else:
                self.add_workflow_event(
                    state,
                    EventType.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED,
                    history_pb.ExternalWorkflowExecutionCancelRequestedEventAttributes(
                        initiated_event_id=initiated_id,
                        namespace=namespace,
                        namespace_id=self.namespaces.get(namespace).id,
                        workflow_execution=target.execution,
                    ),
                )
            self.changed(state)

        after_commit.append(deliver)

    # ---- updates ---------------------------------------------------------------------------

    def admit_update(self, state: MutableState, request: update_pb.Request) -> UpdateState:
        update_id = request.meta.update_id
        if not update_id:
            raise InvalidArgument("request.meta.update_id is not set on request.")
        if not request.input.name:
            raise InvalidArgument("request.input.name is not set on request.")
        existing = state.updates.get(update_id)
        if existing is not None:
            return existing  # the same update id is the same update
        if not state.running:
            raise NotFound("workflow execution already completed")
        update = UpdateState(
            update_id, request, Stage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ADMITTED
        )
        state.updates[update_id] = update
        self.schedule_workflow_task(state)
        self.changed(state)
        return update

    def _apply_message(self, state: MutableState, message: protocol_pb.Message) -> None:
        update = state.updates.get(message.protocol_instance_id)
        if update is None:
            return
        body = message.body
        if body.Is(update_pb.Acceptance.DESCRIPTOR):
            acceptance = update_pb.Acceptance()
            body.Unpack(acceptance)
            event = self.append(
                state,
                EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
                history_pb.WorkflowExecutionUpdateAcceptedEventAttributes(
                    protocol_instance_id=update.update_id,
                    accepted_request_message_id=acceptance.accepted_request_message_id,
                    accepted_request_sequencing_event_id=(
                        acceptance.accepted_request_sequencing_event_id
                    ),
                    accepted_request=update.request,
                ),
            )
            update.accepted_event_id = event.event_id
            update.stage = Stage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED
        elif body.Is(update_pb.Rejection.DESCRIPTOR):
            rejection = update_pb.Rejection()
            body.Unpack(rejection)
            update.outcome = update_pb.Outcome(failure=rejection.failure)
            update.stage = Stage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED
        elif body.Is(update_pb.Response.DESCRIPTOR):
            response = update_pb.Response()
            body.Unpack(response)
            self.append(
                state,
                EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED,
                history_pb.WorkflowExecutionUpdateCompletedEventAttributes(
                    meta=response.meta,
                    accepted_event_id=update.accepted_event_id,
                    outcome=response.outcome,
                ),
            )
            update.outcome = response.outcome
            update.stage = Stage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED
        update.notify()

    async def wait_update(
        self, state: MutableState, update: UpdateState, stage: int, timeout: float
    ) -> int:
        """Wait until the update reaches `stage` (or completes); returns the stage reached."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while update.stage < stage:
            if (
                not state.running
                and update.stage < Stage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED
            ):
                raise NotFound("workflow execution already completed")
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            changed = update.changed
            try:
                await asyncio.wait_for(changed.wait(), timeout=remaining)
            except TimeoutError:
                break
        return update.stage

    # ---- queries ---------------------------------------------------------------------------

    async def query(
        self, state: MutableState, query: query_pb.WorkflowQuery, timeout: float
    ) -> query_pb.WorkflowQueryResult:
        pending = PendingQuery(str(uuid.uuid4()), query, asyncio.get_running_loop().create_future())
        state.queries[pending.query_id] = pending
        self.lock()
        try:
            self._dispatch_queries(state)
            return await asyncio.wait_for(asyncio.shield(pending.result), timeout=timeout)
        finally:
            state.queries.pop(pending.query_id, None)
            self.unlock()

    def _dispatch_queries(self, state: MutableState) -> None:
        """Queries go with the next workflow task if one is coming, else as query tasks."""
        if state.running and state.workflow_task is not None:
            return
        for query in state.queries.values():
            if not query.dispatched:
                self._send_legacy_query(state, query)

    def _send_legacy_query(self, state: MutableState, query: PendingQuery) -> None:
        log.debug("query dispatched as a query task", query_id=query.query_id)
        query.dispatched = True
        self.workflow_queues.add(
            state.namespace,
            state.task_queue,
            TaskToken(
                "query", state.namespace, state.workflow_id, state.run_id, query_id=query.query_id
            ),
        )

    def _legacy_query_task(self, ref: TaskToken) -> wsv.PollWorkflowTaskQueueResponse | None:
        state = self.runs.get((ref.namespace, ref.run_id))
        pending = state.queries.get(ref.query_id) if state is not None else None
        if state is None or pending is None or pending.result.done():
            return None
        if state.running and state.workflow_task is not None:
            # A workflow task came due since the query was queued: the query goes with it (or
            # right after it), so the worker never sees events its workflow has not processed.
            pending.dispatched = False
            return None
        response = wsv.PollWorkflowTaskQueueResponse(
            task_token=ref.encode(),
            workflow_execution=state.execution,
            workflow_type=common_pb.WorkflowType(name=state.workflow_type),
            previous_started_event_id=state.last_completed_started_event_id,
            # Zero marks a query-only task: workers must not treat it as advancing history.
            started_event_id=0,
            query=state.queries[ref.query_id].query,
            workflow_execution_task_queue=taskqueue_pb.TaskQueue(
                name=state.task_queue, kind=TaskQueueKind.TASK_QUEUE_KIND_NORMAL
            ),
        )
        # No workflow task is pending, so every event in history has been seen by the workflow.
        response.history.events.extend(state.history.events)
        return response

    def respond_query(self, req: wsv.RespondQueryTaskCompletedRequest) -> None:
        token = TaskToken.decode(req.task_token, "query")
        state = self.runs.get((token.namespace, token.run_id))
        pending = state.queries.get(token.query_id) if state is not None else None
        if pending is None or pending.result.done():
            raise NotFound("query task not found, or already expired")
        result = query_pb.WorkflowQueryResult(
            result_type=req.completed_type,
            answer=req.query_result,
            error_message=req.error_message,
        )
        if req.HasField("failure"):
            result.failure.CopyFrom(req.failure)
        pending.result.set_result(result)

    def _answer_task_queries(
        self,
        state: MutableState,
        task: WorkflowTask,
        results: Any,
    ) -> None:
        for query_id in task.delivered_queries:
            pending = state.queries.get(query_id)
            if pending is None or pending.result.done():
                continue
            if results is not None and query_id in results:
                pending.result.set_result(results[query_id])
                log.debug("query answered with the workflow task", query_id=query_id)
            else:
                log.debug("query not answered with the workflow task", query_id=query_id)
                # Not answered with this task: send it again.
                pending.dispatched = False
        task.delivered_queries.clear()
        self._dispatch_queries(state)

    # ---- history reads ---------------------------------------------------------------------

    def runs_in(self, namespace: str) -> Iterable[MutableState]:
        return (s for (ns, _), s in self.runs.items() if ns == namespace)

    def close_event(self, state: MutableState) -> history_pb.HistoryEvent | None:
        if state.running or not state.history.events:
            return None
        last = state.history.events[-1]
        return last if last.event_type in CLOSE_EVENT_TYPES else None

    # ---- recovery from the store -----------------------------------------------------------

    def restore(self, runs: list[MutableState], current: dict[tuple[str, str], str]) -> None:
        """Take back runs read from disk and arm every deadline again (overdue ones fire now)."""
        from devserver.persistence import PendingDue

        for state in runs:
            self.runs[(state.namespace, state.run_id)] = state
        self.current.update(current)
        for state in runs:
            if not state.running:
                continue
            if state.run_timeout is not None:
                state.run_timer = self.scheduler.call_at(
                    state.start_time + state.run_timeout,
                    functools.partial(self._on_run_timeout, state),
                )
            if state.start_timer_at is not None:
                self.arm_start_timer(state, state.start_timer_at)
            for timer in state.timers.values():
                due = timer.handle.due if isinstance(timer.handle, PendingDue) else 0.0
                timer.handle = self.scheduler.call_at(
                    due, functools.partial(self._fire_timer, state, timer.timer_id)
                )
            task = state.workflow_task
            if task is not None:
                self.lock()
                if task.started and task.started_time is not None:
                    task.timeout = self.scheduler.call_at(
                        task.started_time + state.workflow_task_timeout,
                        functools.partial(self._on_workflow_task_timeout, state, task),
                    )
                else:
                    self.workflow_queues.add(
                        state.namespace,
                        state.task_queue,
                        TaskToken(
                            "workflow",
                            state.namespace,
                            state.workflow_id,
                            state.run_id,
                            task.scheduled_event_id,
                            task.attempt,
                        ),
                    )
            for info in state.activities.values():
                self.activities.restore(state, info)
        log.info("state recovered", runs=len(runs), running=sum(1 for s in runs if s.running))
