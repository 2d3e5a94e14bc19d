"""Activity tasks: scheduling, dispatch, heartbeats, timeouts and server-side retries.

Intermediate attempts write no history: only the final outcome writes ActivityTaskStarted (with
the attempt count and last failure) followed by the closing event, as Temporal does.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import structlog
from temporalio.api.command.v1 import message_pb2 as command_pb
from temporalio.api.common.v1 import message_pb2 as common_pb
from temporalio.api.enums.v1 import (
    EventType,
    PendingActivityState,
    RetryState,
    TaskQueueKind,
    TimeoutType,
)
from temporalio.api.failure.v1 import message_pb2 as failure_pb
from temporalio.api.history.v1 import message_pb2 as history_pb
from temporalio.api.taskqueue.v1 import message_pb2 as taskqueue_pb
from temporalio.api.workflow.v1 import message_pb2 as workflow_pb
from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv

from devserver.errors import NotFound
from devserver.execution import ActivityInfo, MutableState
from devserver.history import make_event
from devserver.matching import Matcher
from devserver.retry import decide_retry, normalized_retry_policy
from devserver.tokens import TaskToken

if TYPE_CHECKING:
    from devserver.engine import Engine

log = structlog.get_logger("devserver.activities")

_TIMEOUT_NAMES: dict[int, str] = {
    TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE: "StartToClose",
    TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START: "ScheduleToStart",
    TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE: "ScheduleToClose",
    TimeoutType.TIMEOUT_TYPE_HEARTBEAT: "Heartbeat",
}


def _positive(value: timedelta) -> timedelta | None:
    return value if value > timedelta(0) else None


class ActivityEngine:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.queues: Matcher[TaskToken] = Matcher()

    @property
    def _now(self) -> datetime:
        return self.engine.clock.now()

    def _token(self, state: MutableState, info: ActivityInfo) -> TaskToken:
        return TaskToken(
            "activity",
            state.namespace,
            state.workflow_id,
            state.run_id,
            info.scheduled_event_id,
            info.attempt,
        )

    # ---- scheduling ------------------------------------------------------------------------

    def schedule(
        self,
        state: MutableState,
        attrs: command_pb.ScheduleActivityTaskCommandAttributes,
        completed_id: int,
    ) -> None:
        schedule_to_close = _positive(attrs.schedule_to_close_timeout.ToTimedelta())
        if state.run_timeout is not None:
            # An activity cannot outlive its run.
            remaining = state.start_time + state.run_timeout - self._now
            schedule_to_close = (
                min(schedule_to_close, remaining) if schedule_to_close else remaining
            )
        start_to_close = _positive(attrs.start_to_close_timeout.ToTimedelta()) or schedule_to_close
        assert start_to_close is not None  # validated before commands are applied
        if schedule_to_close is not None:
            start_to_close = min(start_to_close, schedule_to_close)
        schedule_to_start = _positive(attrs.schedule_to_start_timeout.ToTimedelta())
        if schedule_to_start and schedule_to_close:
            schedule_to_start = min(schedule_to_start, schedule_to_close)
        heartbeat = _positive(attrs.heartbeat_timeout.ToTimedelta())
        if heartbeat is not None:
            heartbeat = min(heartbeat, start_to_close)
        retry_policy = normalized_retry_policy(
            attrs.retry_policy if attrs.HasField("retry_policy") else None
        )
        task_queue = attrs.task_queue.name or state.task_queue
        event_attrs = history_pb.ActivityTaskScheduledEventAttributes(
            activity_id=attrs.activity_id,
            activity_type=attrs.activity_type,
            task_queue=taskqueue_pb.TaskQueue(
                name=task_queue, kind=TaskQueueKind.TASK_QUEUE_KIND_NORMAL
            ),
            header=attrs.header,
            input=attrs.input,
            workflow_task_completed_event_id=completed_id,
            retry_policy=retry_policy,
        )
        if schedule_to_close is not None:
            event_attrs.schedule_to_close_timeout.FromTimedelta(schedule_to_close)
        if schedule_to_start is not None:
            event_attrs.schedule_to_start_timeout.FromTimedelta(schedule_to_start)
        event_attrs.start_to_close_timeout.FromTimedelta(start_to_close)
        if heartbeat is not None:
            event_attrs.heartbeat_timeout.FromTimedelta(heartbeat)
        if attrs.HasField("priority"):
            event_attrs.priority.CopyFrom(attrs.priority)
        event = self.engine.append(state, EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, event_attrs)
        now = self._now
        info = ActivityInfo(
            scheduled_event_id=event.event_id,
            activity_id=attrs.activity_id,
            activity_type=attrs.activity_type.name,
            task_queue=task_queue,
            header=attrs.header,
            input=attrs.input,
            schedule_to_close=schedule_to_close,
            schedule_to_start=schedule_to_start,
            start_to_close=start_to_close,
            heartbeat=heartbeat,
            retry_policy=retry_policy,
            scheduled_time=now,
            priority=attrs.priority if attrs.HasField("priority") else None,
        )
        state.activities[info.scheduled_event_id] = info
        if schedule_to_close is not None:
            info.timers["schedule_to_close"] = self.engine.scheduler.call_at(
                now + schedule_to_close,
                lambda: self._on_timeout(state, info, TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE),
            )
        self.engine.lock()
        self._enqueue(state, info)

    def _enqueue(self, state: MutableState, info: ActivityInfo) -> None:
        now = self._now
        info.current_attempt_scheduled_time = now
        info.next_attempt_schedule_time = None
        if info.schedule_to_start is not None:
            info.timers["schedule_to_start"] = self.engine.scheduler.call_at(
                now + info.schedule_to_start,
                lambda: self._on_timeout(state, info, TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START),
            )
        self.queues.add(state.namespace, info.task_queue, self._token(state, info))

    def _backoff_ended(self, state: MutableState, info: ActivityInfo) -> None:
        info.timers.pop("backoff", None)
        if state.running and state.activities.get(info.scheduled_event_id) is info:
            self.engine.lock()
            self._enqueue(state, info)
            self.engine.changed(state)

    # ---- dispatch --------------------------------------------------------------------------

    def start(
        self, ref: TaskToken, identity: str, request_id: str
    ) -> wsv.PollActivityTaskQueueResponse | None:
        state = self.engine.runs.get((ref.namespace, ref.run_id))
        if state is None or not state.running:
            return None
        info = state.activities.get(ref.scheduled_event_id)
        if info is None or info.started or info.attempt != ref.attempt or "backoff" in info.timers:
            return None
        now = self._now
        info.cancel_timers("schedule_to_start")
        info.started_time = now
        info.identity = identity
        info.request_id = request_id
        info.timers["start_to_close"] = self.engine.scheduler.call_at(
            now + info.start_to_close,
            lambda: self._on_timeout(state, info, TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE),
        )
        self._arm_heartbeat(state, info)
        namespace = self.engine.namespaces.get(state.namespace)
        response = wsv.PollActivityTaskQueueResponse(
            task_token=ref.encode(),
            workflow_namespace=namespace.name,
            workflow_type=common_pb.WorkflowType(name=state.workflow_type),
            workflow_execution=state.execution,
            activity_type=common_pb.ActivityType(name=info.activity_type),
            activity_id=info.activity_id,
            header=info.header,
            input=info.input,
            attempt=info.attempt,
            retry_policy=info.retry_policy,
        )
        if info.heartbeat_details is not None:
            response.heartbeat_details.CopyFrom(info.heartbeat_details)
        response.scheduled_time.FromDatetime(info.scheduled_time)
        assert info.current_attempt_scheduled_time is not None
        response.current_attempt_scheduled_time.FromDatetime(info.current_attempt_scheduled_time)
        response.started_time.FromDatetime(now)
        if info.schedule_to_close is not None:
            response.schedule_to_close_timeout.FromTimedelta(info.schedule_to_close)
        response.start_to_close_timeout.FromTimedelta(info.start_to_close)
        if info.heartbeat is not None:
            response.heartbeat_timeout.FromTimedelta(info.heartbeat)
        if info.priority is not None:
            response.priority.CopyFrom(info.priority)
        self.engine.changed(state)
        return response

    def _arm_heartbeat(self, state: MutableState, info: ActivityInfo) -> None:
        info.cancel_timers("heartbeat")
        if info.heartbeat is not None:
            info.timers["heartbeat"] = self.engine.scheduler.call_later(
                info.heartbeat,
                lambda: self._on_timeout(state, info, TimeoutType.TIMEOUT_TYPE_HEARTBEAT),
            )

    # ---- lookup of a running attempt -------------------------------------------------------

    def by_token(self, raw: bytes) -> tuple[MutableState, ActivityInfo]:
        token = TaskToken.decode(raw, "activity")
        state = self.engine.runs.get((token.namespace, token.run_id))
        info = state.activities.get(token.scheduled_event_id) if state is not None else None
        if state is None or info is None or info.attempt != token.attempt or not info.started:
            raise NotFound("activity task not found")
        return state, info

    def by_id(
        self, namespace: str, workflow_id: str, run_id: str, activity_id: str
    ) -> tuple[MutableState, ActivityInfo]:
        state = self.engine.find_run(namespace, workflow_id, run_id)
        info = state.activity_by_id(activity_id)
        if not state.running or info is None:
            raise NotFound(f"activity {activity_id!r} not found")
        if not info.started:
            # Completing by id an attempt nobody polled: it counts as started now (as Temporal).
            info.cancel_timers("schedule_to_start")
            info.started_time = self._now
        return state, info

    # ---- worker responses ------------------------------------------------------------------

    def heartbeat(
        self, state: MutableState, info: ActivityInfo, details: common_pb.Payloads | None
    ) -> bool:
        if details is not None and details.payloads:
            info.heartbeat_details = details
        info.last_heartbeat_time = self._now
        self._arm_heartbeat(state, info)
        self.engine.changed(state)
        return info.cancel_requested_event_id != 0

    def completed(
        self, state: MutableState, info: ActivityInfo, result: common_pb.Payloads, identity: str
    ) -> None:
        started_id = self._close(state, info, identity)
        self.engine.add_workflow_event(
            state,
            EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
            history_pb.ActivityTaskCompletedEventAttributes(
                result=result,
                scheduled_event_id=info.scheduled_event_id,
                started_event_id=started_id,
                identity=identity or info.identity,
            ),
        )
        self.engine.changed(state)

    def failed(
        self,
        state: MutableState,
        info: ActivityInfo,
        failure: failure_pb.Failure,
        identity: str,
        last_heartbeat_details: common_pb.Payloads | None = None,
    ) -> None:
        if last_heartbeat_details is not None and last_heartbeat_details.payloads:
            info.heartbeat_details = last_heartbeat_details
        if self._retry(state, info, failure):
            return
        decision = self._decision(info, failure)
        started_id = self._close(state, info, identity)
        self.engine.add_workflow_event(
            state,
            EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED,
            history_pb.ActivityTaskFailedEventAttributes(
                failure=failure,
                scheduled_event_id=info.scheduled_event_id,
                started_event_id=started_id,
                identity=identity or info.identity,
                retry_state=decision,  # type: ignore[arg-type]
            ),
        )
        self.engine.changed(state)

    def canceled(
        self, state: MutableState, info: ActivityInfo, details: common_pb.Payloads, identity: str
    ) -> None:
        started_id = self._close(state, info, identity)
        self.engine.add_workflow_event(
            state,
            EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED,
            history_pb.ActivityTaskCanceledEventAttributes(
                details=details,
                latest_cancel_requested_event_id=info.cancel_requested_event_id,
                scheduled_event_id=info.scheduled_event_id,
                started_event_id=started_id,
                identity=identity or info.identity,
            ),
        )
        self.engine.changed(state)

    # ---- retries and timeouts --------------------------------------------------------------

    def _expiration(self, info: ActivityInfo) -> datetime | None:
        if info.schedule_to_close is None:
            return None
        return info.scheduled_time + info.schedule_to_close

    def _decision(self, info: ActivityInfo, failure: failure_pb.Failure) -> int:
        return decide_retry(
            info.retry_policy, info.attempt, failure, self._now, self._expiration(info)
        ).retry_state

    def _retry(self, state: MutableState, info: ActivityInfo, failure: failure_pb.Failure) -> bool:
        """Schedule the next attempt if the policy allows; no history is written."""
        if info.cancel_requested_event_id:
            return False
        decision = decide_retry(
            info.retry_policy, info.attempt, failure, self._now, self._expiration(info)
        )
        if not decision.retry:
            return False
        assert decision.delay is not None
        info.cancel_timers("start_to_close", "heartbeat", "schedule_to_start")
        info.attempt += 1
        info.started_time = None
        info.last_failure = failure
        info.last_attempt_complete_time = self._now
        info.next_attempt_schedule_time = self._now + decision.delay
        self.engine.unlock()  # the backoff is idle time: time skipping may jump over it
        info.timers["backoff"] = self.engine.scheduler.call_later(
            decision.delay, lambda: self._backoff_ended(state, info)
        )
        log.debug(
            "activity retry scheduled",
            workflow_id=state.workflow_id,
            activity_id=info.activity_id,
            attempt=info.attempt,
            delay_seconds=decision.delay.total_seconds(),
        )
        self.engine.changed(state)
        return True

    def _on_timeout(self, state: MutableState, info: ActivityInfo, timeout_type: int) -> None:
        if not state.running or state.activities.get(info.scheduled_event_id) is not info:
            return
        info.timers.pop(_TIMER_KEYS[timeout_type], None)
        name = _TIMEOUT_NAMES[timeout_type]
        failure = failure_pb.Failure(
            message=f"activity {name} timeout",
            timeout_failure_info=failure_pb.TimeoutFailureInfo(timeout_type=timeout_type),  # type: ignore[arg-type]
        )
        if info.heartbeat_details is not None:
            failure.timeout_failure_info.last_heartbeat_details.CopyFrom(info.heartbeat_details)
        if info.last_failure is not None:
            failure.cause.CopyFrom(info.last_failure)
        if self._retry(state, info, failure):
            return
        retry_state = (
            RetryState.RETRY_STATE_TIMEOUT
            if timeout_type
            in (
                TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE,
                TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START,
            )
            else self._decision(info, failure)
        )
        started_id = (
            self._close(state, info, info.identity)
            if info.started
            else self._close(state, info, "", write_started=False)
        )
        self.engine.add_workflow_event(
            state,
            EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT,
            history_pb.ActivityTaskTimedOutEventAttributes(
                failure=failure,
                scheduled_event_id=info.scheduled_event_id,
                started_event_id=started_id,
                retry_state=retry_state,  # type: ignore[arg-type]
            ),
        )
        log.info(
            "activity timed out",
            workflow_id=state.workflow_id,
            activity_id=info.activity_id,
            timeout=name,
            attempt=info.attempt,
        )
        self.engine.changed(state)

    def _close(
        self, state: MutableState, info: ActivityInfo, identity: str, *, write_started: bool = True
    ) -> int:
        """Remove the activity; write its (deferred) started event. Returns that event's id."""
        in_backoff = "backoff" in info.timers
        info.cancel_timers()
        if state.activities.pop(info.scheduled_event_id, None) is not None and not in_backoff:
            self.engine.unlock()
        if not write_started or not info.started:
            return 0
        attrs = history_pb.ActivityTaskStartedEventAttributes(
            scheduled_event_id=info.scheduled_event_id,
            identity=identity or info.identity,
            request_id=info.request_id,
            attempt=info.attempt,
        )
        if info.last_failure is not None:
            attrs.last_failure.CopyFrom(info.last_failure)
        event = make_event(EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED, attrs, self._now)
        if state.task_in_flight:
            # Its id is assigned when the buffer is flushed, which also fixes up the reference.
            state.buffered_events.append(event)
            return 0
        return state.history.append(event).event_id

    # ---- cancellation ----------------------------------------------------------------------

    def request_cancel(
        self, state: MutableState, scheduled_event_id: int, completed_id: int
    ) -> None:
        info = state.activities.get(scheduled_event_id)
        event = self.engine.append(
            state,
            EventType.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED,
            history_pb.ActivityTaskCancelRequestedEventAttributes(
                scheduled_event_id=scheduled_event_id,
                workflow_task_completed_event_id=completed_id,
            ),
        )
        if info is None:
            return
        info.cancel_requested_event_id = event.event_id
        if not info.started:
            # Never handed to a worker (or between attempts): canceled at once.
            was_in_backoff = "backoff" in info.timers
            info.cancel_timers()
            state.activities.pop(info.scheduled_event_id, None)
            if not was_in_backoff:
                self.engine.unlock()
            self.engine.add_workflow_event(
                state,
                EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED,
                history_pb.ActivityTaskCanceledEventAttributes(
                    latest_cancel_requested_event_id=event.event_id,
                    scheduled_event_id=info.scheduled_event_id,
                ),
            )

    def restore(self, state: MutableState, info: ActivityInfo) -> None:
        """Arm a recovered activity's deadlines again and queue it if nobody holds it."""
        dues = {kind: getattr(due, "due", 0.0) for kind, due in info.timers.items()}
        info.timers = {}
        callbacks: dict[str, Callable[[], None]] = {
            "backoff": lambda: self._backoff_ended(state, info),
            **{
                kind: functools.partial(self._on_timeout, state, info, timeout_type)
                for timeout_type, kind in _TIMER_KEYS.items()
            },
        }
        for kind, due in dues.items():
            info.timers[kind] = self.engine.scheduler.call_at(due, callbacks[kind])
        if "backoff" in info.timers:
            return
        self.engine.lock()
        if not info.started:
            self.queues.add(state.namespace, info.task_queue, self._token(state, info))

    def drop_all(self, state: MutableState) -> None:
        for info in state.activities.values():
            if "backoff" not in info.timers:
                self.engine.unlock()
            info.cancel_timers()
        state.activities.clear()

    # ---- describe --------------------------------------------------------------------------

    def pending_info(self, info: ActivityInfo) -> workflow_pb.PendingActivityInfo:
        if info.cancel_requested_event_id:
            pending_state = PendingActivityState.PENDING_ACTIVITY_STATE_CANCEL_REQUESTED
        elif info.started:
            pending_state = PendingActivityState.PENDING_ACTIVITY_STATE_STARTED
        else:
            pending_state = PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED
        result = workflow_pb.PendingActivityInfo(
            activity_id=info.activity_id,
            activity_type=common_pb.ActivityType(name=info.activity_type),
            state=pending_state,
            attempt=info.attempt,
            maximum_attempts=info.retry_policy.maximum_attempts,
            last_worker_identity=info.identity,
        )
        if info.heartbeat_details is not None:
            result.heartbeat_details.CopyFrom(info.heartbeat_details)
        if info.last_heartbeat_time is not None:
            result.last_heartbeat_time.FromDatetime(info.last_heartbeat_time)
        if info.started_time is not None:
            result.last_started_time.FromDatetime(info.started_time)
        result.scheduled_time.FromDatetime(
            info.current_attempt_scheduled_time or info.scheduled_time
        )
        expiration = self._expiration(info)
        if expiration is not None:
            result.expiration_time.FromDatetime(expiration)
        if info.last_failure is not None:
            result.last_failure.CopyFrom(info.last_failure)
        if info.last_attempt_complete_time is not None:
            result.last_attempt_complete_time.FromDatetime(info.last_attempt_complete_time)
        if info.next_attempt_schedule_time is not None:
            result.next_attempt_schedule_time.FromDatetime(info.next_attempt_schedule_time)
        return result


_TIMER_KEYS: dict[int, str] = {
    TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE: "start_to_close",
    TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START: "schedule_to_start",
    TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE: "schedule_to_close",
    TimeoutType.TIMEOUT_TYPE_HEARTBEAT: "heartbeat",
}
