"""The mutable state of one workflow run: what is pending beside its history."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from temporalio.api.common.v1 import message_pb2 as common_pb
from temporalio.api.enums.v1 import WorkflowExecutionStatus
from temporalio.api.failure.v1 import message_pb2 as failure_pb
from temporalio.api.history.v1 import message_pb2 as history_pb
from temporalio.api.query.v1 import message_pb2 as query_pb
from temporalio.api.update.v1 import message_pb2 as update_pb

from devserver.clock import TimerHandle
from devserver.history import History

Status = WorkflowExecutionStatus


@dataclass
class WorkflowTask:
    scheduled_event_id: int
    attempt: int
    scheduled_time: datetime
    original_scheduled_time: datetime
    started_event_id: int = 0
    started_time: datetime | None = None
    request_id: str = ""
    identity: str = ""
    # Attempts after the first are transient: their events are written only on completion.
    transient_events: list[history_pb.HistoryEvent] = field(default_factory=list)
    timeout: TimerHandle | None = None
    # Queries and updates handed to the worker with this task.
    delivered_queries: list[str] = field(default_factory=list)
    delivered_updates: list[str] = field(default_factory=list)

    @property
    def started(self) -> bool:
        return self.started_event_id != 0


@dataclass
class ActivityInfo:
    scheduled_event_id: int
    activity_id: str
    activity_type: str
    task_queue: str
    header: common_pb.Header
    input: common_pb.Payloads
    schedule_to_close: timedelta | None
    schedule_to_start: timedelta | None
    start_to_close: timedelta
    heartbeat: timedelta | None
    retry_policy: common_pb.RetryPolicy
    scheduled_time: datetime
    priority: common_pb.Priority | None = None
    attempt: int = 1
    current_attempt_scheduled_time: datetime | None = None
    started_time: datetime | None = None
    request_id: str = ""
    identity: str = ""
    heartbeat_details: common_pb.Payloads | None = None
    last_heartbeat_time: datetime | None = None
    last_failure: failure_pb.Failure | None = None
    last_attempt_complete_time: datetime | None = None
    next_attempt_schedule_time: datetime | None = None
    cancel_requested_event_id: int = 0
    timers: dict[str, TimerHandle] = field(default_factory=dict)

    @property
    def started(self) -> bool:
        return self.started_time is not None

    def cancel_timers(self, *kinds: str) -> None:
        for kind in kinds or list(self.timers):
            handle = self.timers.pop(kind, None)
            if handle is not None:
                handle.cancel()


@dataclass
class UserTimer:
    timer_id: str
    started_event_id: int
    handle: TimerHandle


@dataclass
class ChildInfo:
    initiated_event_id: int
    namespace: str
    workflow_id: str
    workflow_type: str
    parent_close_policy: int
    run_id: str = ""
    started_event_id: int = 0


@dataclass
class UpdateState:
    update_id: str
    request: update_pb.Request
    stage: int  # UpdateWorkflowExecutionLifecycleStage
    accepted_event_id: int = 0
    outcome: update_pb.Outcome | None = None
    delivered: bool = False
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def notify(self) -> None:
        self.changed.set()
        self.changed = asyncio.Event()


@dataclass
class PendingQuery:
    query_id: str
    query: query_pb.WorkflowQuery
    result: asyncio.Future[query_pb.WorkflowQueryResult]
    dispatched: bool = False


@dataclass
class ParentRef:
    namespace: str
    workflow_id: str
    run_id: str
    initiated_event_id: int


@dataclass
class MutableState:
    """One run of a workflow: identity, configuration, history and everything pending."""

    namespace: str
    workflow_id: str
    run_id: str
    first_run_id: str
    workflow_type: str
    task_queue: str
    start_request: Any  # the StartWorkflowExecution-like request the run was created from
    start_time: datetime
    execution_time: datetime
    workflow_task_timeout: timedelta
    run_timeout: timedelta | None
    execution_expiration: datetime | None
    retry_policy: common_pb.RetryPolicy | None
    cron_schedule: str
    attempt: int
    memo: common_pb.Memo
    search_attributes: common_pb.SearchAttributes
    parent: ParentRef | None = None
    root_workflow_id: str = ""
    root_run_id: str = ""
    request_ids: set[str] = field(default_factory=set)
    history: History = field(default_factory=History)
    status: int = Status.WORKFLOW_EXECUTION_STATUS_RUNNING
    close_time: datetime | None = None
    new_run_id: str = ""  # the run that continued this one (continue-as-new, retry, cron)
    workflow_task: WorkflowTask | None = None
    # Set when an event arrives that the workflow must see but a task is already in flight.
    workflow_task_needed: bool = False
    # True while a task completion's commands are applied: new tasks wait until the end.
    completing: bool = False
    buffered_events: list[history_pb.HistoryEvent] = field(default_factory=list)
    last_completed_started_event_id: int = 0
    activities: dict[int, ActivityInfo] = field(default_factory=dict)
    timers: dict[str, UserTimer] = field(default_factory=dict)
    children: dict[int, ChildInfo] = field(default_factory=dict)
    updates: dict[str, UpdateState] = field(default_factory=dict)
    queries: dict[str, PendingQuery] = field(default_factory=dict)
    cancel_requested: bool = False
    run_timer: TimerHandle | None = None
    start_timer: TimerHandle | None = None
    start_timer_at: datetime | None = None
    retry_attempt: int = 0  # the attempt a backed-off workflow task retry will have
    state_transitions: int = 0
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def running(self) -> bool:
        return self.status == Status.WORKFLOW_EXECUTION_STATUS_RUNNING

    @property
    def execution(self) -> common_pb.WorkflowExecution:
        return common_pb.WorkflowExecution(workflow_id=self.workflow_id, run_id=self.run_id)

    @property
    def task_in_flight(self) -> bool:
        return self.workflow_task is not None and self.workflow_task.started

    def notify_changed(self) -> None:
        """Wake history long polls and describe/list waiters."""
        self.state_transitions += 1
        self.changed.set()
        self.changed = asyncio.Event()

    def activity_by_id(self, activity_id: str) -> ActivityInfo | None:
        for info in self.activities.values():
            if info.activity_id == activity_id:
                return info
        return None
