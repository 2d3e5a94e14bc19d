"""Activities on the devserver: server-side retries, every timeout kind, non-retryable errors,
next_retry_delay, heartbeat details, heartbeat-driven cancellation and async completion."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from ds_support import (
    event_name,
    event_types,
    events_of,
    eventually,
    history_events,
    new_id,
    new_task_queue,
    wait_until,
)
from temporalio.api.enums.v1 import PendingActivityState
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    RetryState,
    TimeoutError,
    TimeoutType,
)
from temporalio.worker import Worker
from wf_activities import (
    ALL_ACTIVITIES,
    ATTEMPT_TIMES,
    ATTEMPTS,
    SEEN,
    TASK_TOKENS,
    ActivityCall,
    CancelActivityWorkflow,
    RunActivityWorkflow,
)


def _worker(client: Client, task_queue: str) -> Worker:
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[RunActivityWorkflow, CancelActivityWorkflow],
        activities=ALL_ACTIVITIES,
    )


async def _start(
    client: Client, call: ActivityCall, task_queue: str
) -> WorkflowHandle[RunActivityWorkflow, str]:
    return await client.start_workflow(
        RunActivityWorkflow.run,
        call,
        id=new_id("activity"),
        task_queue=task_queue,
        execution_timeout=timedelta(seconds=30),
    )


async def _activity_failure(
    client: Client, call: ActivityCall
) -> tuple[ActivityError, list[HistoryEvent]]:
    """Run the call expecting the workflow to fail with an ActivityError; return it and history."""
    task_queue = new_task_queue()
    async with _worker(client, task_queue):
        handle = await _start(client, call, task_queue)
        with pytest.raises(WorkflowFailureError) as exc_info:
            await handle.result()
        events = await history_events(handle)
    cause = exc_info.value.cause
    assert isinstance(cause, ActivityError), repr(cause)
    assert cause.activity_type == call.activity
    return cause, events


async def test_activity_retries_until_success(client: Client) -> None:
    key = new_id("flaky")
    call = ActivityCall("flaky", key, start_to_close_ms=5000, maximum_attempts=5)
    task_queue = new_task_queue()
    async with _worker(client, task_queue):
        handle = await _start(client, call, task_queue)
        assert await handle.result() == "ok on attempt 3"
        events = await history_events(handle)

    assert ATTEMPTS[key] == [1, 2, 3]
    # Intermediate attempts write no history: one scheduled/started/completed triple.
    assert len(events_of(events, "ACTIVITY_TASK_SCHEDULED")) == 1
    assert events_of(events, "ACTIVITY_TASK_FAILED") == []
    (started,) = events_of(events, "ACTIVITY_TASK_STARTED")
    assert started.activity_task_started_event_attributes.attempt == 3
    last_failure = started.activity_task_started_event_attributes.last_failure
    assert last_failure.message == "flaky attempt 2"
    assert len(events_of(events, "ACTIVITY_TASK_COMPLETED")) == 1


async def test_start_to_close_timeout_is_retried_then_fails(client: Client) -> None:
    key = new_id("s2c")
    call = ActivityCall(
        "sleepy", key, start_to_close_ms=500, maximum_attempts=2, initial_interval_ms=100
    )
    err, events = await _activity_failure(client, call)

    assert ATTEMPTS[key] == [1, 2]
    assert err.retry_state == RetryState.MAXIMUM_ATTEMPTS_REACHED
    assert isinstance(err.cause, TimeoutError), repr(err.cause)
    assert err.cause.type == TimeoutType.START_TO_CLOSE
    assert len(events_of(events, "ACTIVITY_TASK_TIMED_OUT")) == 1
    (started,) = events_of(events, "ACTIVITY_TASK_STARTED")
    assert started.activity_task_started_event_attributes.attempt == 2
    assert event_name(events[-1]) == "WORKFLOW_EXECUTION_FAILED"


async def test_schedule_to_close_timeout(client: Client) -> None:
    key = new_id("sched2close")
    # Attempts 1 and 2 fail fast and are retried; attempt 3 hangs past the overall deadline.
    call = ActivityCall(
        "fails_then_sleeps", key, schedule_to_close_ms=1200, initial_interval_ms=100
    )
    err, events = await _activity_failure(client, call)

    assert ATTEMPTS[key] == [1, 2, 3]
    assert isinstance(err.cause, TimeoutError), repr(err.cause)
    assert err.cause.type == TimeoutType.SCHEDULE_TO_CLOSE
    assert len(events_of(events, "ACTIVITY_TASK_TIMED_OUT")) == 1


async def test_schedule_to_start_timeout_on_unpolled_queue(client: Client) -> None:
    key = new_id("sched2start")
    call = ActivityCall(
        "sleepy",
        key,
        start_to_close_ms=5000,
        schedule_to_start_ms=1000,
        task_queue=new_task_queue(),  # no worker ever polls this queue
    )
    err, events = await _activity_failure(client, call)

    assert ATTEMPTS[key] == []
    assert isinstance(err.cause, TimeoutError), repr(err.cause)
    assert err.cause.type == TimeoutType.SCHEDULE_TO_START
    names = [event_name(e) for e in events]
    assert "ACTIVITY_TASK_STARTED" not in names
    assert names.index("ACTIVITY_TASK_SCHEDULED") < names.index("ACTIVITY_TASK_TIMED_OUT")


async def test_heartbeat_timeout_carries_last_details(client: Client) -> None:
    key = new_id("heartbeat")
    call = ActivityCall(
        "heartbeat_then_hang", key, start_to_close_ms=10_000, heartbeat_ms=600, maximum_attempts=1
    )
    started = time.monotonic()
    err, events = await _activity_failure(client, call)
    elapsed = time.monotonic() - started

    assert ATTEMPTS[key] == [1]
    assert isinstance(err.cause, TimeoutError), repr(err.cause)
    assert err.cause.type == TimeoutType.HEARTBEAT
    assert list(err.cause.last_heartbeat_details) == ["step-1"]
    assert err.retry_state == RetryState.MAXIMUM_ATTEMPTS_REACHED
    # The heartbeat timeout (0.6 s), not start-to-close (10 s), ended the attempt.
    assert elapsed < 5
    assert len(events_of(events, "ACTIVITY_TASK_TIMED_OUT")) == 1


async def test_non_retryable_application_error(client: Client) -> None:
    key = new_id("nonretryable")
    call = ActivityCall("fails_non_retryable", key, start_to_close_ms=5000, maximum_attempts=5)
    err, events = await _activity_failure(client, call)

    assert ATTEMPTS[key] == [1]
    assert err.retry_state == RetryState.NON_RETRYABLE_FAILURE
    assert isinstance(err.cause, ApplicationError), repr(err.cause)
    assert err.cause.message == "fatal"
    assert err.cause.type == "Fatal"
    assert err.cause.non_retryable is True
    (failed,) = events_of(events, "ACTIVITY_TASK_FAILED")
    assert failed.activity_task_failed_event_attributes.failure.message == "fatal"


async def test_non_retryable_error_types_in_retry_policy(client: Client) -> None:
    key = new_id("badinput")
    call = ActivityCall(
        "fails_bad_input",
        key,
        start_to_close_ms=5000,
        maximum_attempts=5,
        non_retryable_error_types=["BadInput"],
    )
    err, _ = await _activity_failure(client, call)

    assert ATTEMPTS[key] == [1]
    assert err.retry_state == RetryState.NON_RETRYABLE_FAILURE
    assert isinstance(err.cause, ApplicationError), repr(err.cause)
    assert err.cause.type == "BadInput"
    assert err.cause.non_retryable is False


async def test_unlisted_error_type_is_retried_to_maximum_attempts(client: Client) -> None:
    key = new_id("transient")
    call = ActivityCall(
        "fails_transient",
        key,
        start_to_close_ms=5000,
        maximum_attempts=3,
        initial_interval_ms=50,
        non_retryable_error_types=["BadInput"],
    )
    err, events = await _activity_failure(client, call)

    assert ATTEMPTS[key] == [1, 2, 3]
    assert err.retry_state == RetryState.MAXIMUM_ATTEMPTS_REACHED
    assert isinstance(err.cause, ApplicationError), repr(err.cause)
    assert err.cause.message == "transient 3"
    assert err.cause.type == "Transient"
    assert len(events_of(events, "ACTIVITY_TASK_FAILED")) == 1


async def test_next_retry_delay_overrides_backoff(client: Client) -> None:
    key = new_id("delay")
    call = ActivityCall(
        "custom_retry_delay",
        key,
        start_to_close_ms=5000,
        maximum_attempts=5,
        initial_interval_ms=50,
    )
    task_queue = new_task_queue()
    async with _worker(client, task_queue):
        handle = await _start(client, call, task_queue)
        assert await handle.result() == "ok on attempt 3"

    assert ATTEMPTS[key] == [1, 2, 3]
    first_gap, second_gap = (
        ATTEMPT_TIMES[key][1] - ATTEMPT_TIMES[key][0],
        ATTEMPT_TIMES[key][2] - ATTEMPT_TIMES[key][1],
    )
    assert first_gap >= 0.95, first_gap  # next_retry_delay=1s from the failure
    assert second_gap < 0.8, second_gap  # back to the 50 ms retry policy interval


async def test_heartbeat_details_survive_a_retry(client: Client) -> None:
    key = new_id("resume")
    call = ActivityCall("resumes_from_heartbeat", key, start_to_close_ms=5000, maximum_attempts=3)
    task_queue = new_task_queue()
    async with _worker(client, task_queue):
        handle = await _start(client, call, task_queue)
        assert await handle.result() == "attempt 2 resumed from ['progress-5']"
    assert ATTEMPTS[key] == [1, 2]


async def test_heartbeat_delivers_cancellation(client: Client) -> None:
    key = new_id("cancel")
    task_queue = new_task_queue()
    async with _worker(client, task_queue):
        handle = await client.start_workflow(
            CancelActivityWorkflow.run,
            key,
            id=new_id("cancel-activity"),
            task_queue=task_queue,
            execution_timeout=timedelta(seconds=30),
        )
        await wait_until(lambda: SEEN[key] == ["started"])
        await handle.signal(CancelActivityWorkflow.cancel_activity)
        assert await handle.result() == "ActivityError/CancelledError"
        names = await event_types(handle)

    assert SEEN[key] == ["started", "cancelled"]
    # As on Temporal, ActivityTaskStarted of a retryable activity is only written together with
    # its outcome, so it may follow the cancel request.
    assert names.index("ACTIVITY_TASK_CANCEL_REQUESTED") < names.index("ACTIVITY_TASK_CANCELED")
    assert names.index("ACTIVITY_TASK_STARTED") < names.index("ACTIVITY_TASK_CANCELED"), names
    assert names[-1] == "WORKFLOW_EXECUTION_COMPLETED"


@pytest.mark.parametrize("by", ["task_token", "activity_id"])
async def test_async_activity_completion_from_client(client: Client, by: str) -> None:
    key = new_id("async")
    workflow_id = new_id("async-completion")
    call = ActivityCall(
        "completes_async", key, start_to_close_ms=10_000, maximum_attempts=1, activity_id="ext-1"
    )
    task_queue = new_task_queue()
    async with _worker(client, task_queue):
        handle = await client.start_workflow(
            RunActivityWorkflow.run, call, id=workflow_id, task_queue=task_queue
        )
        await wait_until(lambda: key in TASK_TOKENS)
        if by == "task_token":
            activity_handle = client.get_async_activity_handle(task_token=TASK_TOKENS[key])
        else:
            activity_handle = client.get_async_activity_handle(
                workflow_id=workflow_id, run_id=handle.result_run_id, activity_id="ext-1"
            )
        await activity_handle.complete(f"completed by {by}")
        assert await handle.result() == f"completed by {by}"
        events = await history_events(handle)
    (completed,) = events_of(events, "ACTIVITY_TASK_COMPLETED")
    assert completed.activity_task_completed_event_attributes.scheduled_event_id == (
        events_of(events, "ACTIVITY_TASK_SCHEDULED")[0].event_id
    )


async def test_describe_shows_pending_activity_between_attempts(client: Client) -> None:
    key = new_id("pending")
    call = ActivityCall(
        "fails_transient",
        key,
        start_to_close_ms=5000,
        maximum_attempts=3,
        initial_interval_ms=2000,
    )
    task_queue = new_task_queue()
    async with _worker(client, task_queue):
        handle = await _start(client, call, task_queue)
        await wait_until(lambda: ATTEMPTS[key] == [1])

        async def pending_activities():
            return list((await handle.describe()).raw_description.pending_activities)

        (pending,) = await eventually(
            pending_activities,
            lambda found: len(found) == 1 and found[0].attempt == 2,
        )
        assert pending.activity_type.name == "fails_transient"
        assert pending.state == PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED
        assert pending.last_failure.message == "transient 1"
        assert pending.maximum_attempts == 3
        assert pending.HasField("next_attempt_schedule_time")
        # Still waiting out the 2 s backoff: attempt 2 has not run and history shows no failure.
        assert ATTEMPTS[key] == [1]
        assert "ACTIVITY_TASK_FAILED" not in await event_types(handle)
        await handle.terminate(reason="cleanup")
