"""Workflow and activity definitions for test_activities.py.

Kept out of the test module: the workflow sandbox re-imports a workflow's module for
every run, and a plain module avoids re-running pytest's assertion rewriting each time.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

# What the activities observed, keyed by a per-test key (activities run in this process).
ATTEMPTS: dict[str, list[int]] = defaultdict(list)
ATTEMPT_TIMES: dict[str, list[float]] = defaultdict(list)
SEEN: dict[str, list[str]] = defaultdict(list)
TASK_TOKENS: dict[str, bytes] = {}


def _record_attempt(key: str) -> int:
    attempt = activity.info().attempt
    ATTEMPTS[key].append(attempt)
    ATTEMPT_TIMES[key].append(time.monotonic())
    return attempt


@activity.defn
async def flaky(key: str) -> str:
    attempt = _record_attempt(key)
    if attempt < 3:
        raise ApplicationError(f"flaky attempt {attempt}")
    return f"ok on attempt {attempt}"


@activity.defn
async def sleepy(key: str) -> str:
    _record_attempt(key)
    await asyncio.sleep(10)
    return "woke up"


@activity.defn
async def fails_then_sleeps(key: str) -> str:
    attempt = _record_attempt(key)
    if attempt < 3:
        raise ApplicationError(f"early failure {attempt}")
    await asyncio.sleep(10)
    return "woke up"


@activity.defn
async def fails_transient(key: str) -> str:
    attempt = _record_attempt(key)
    raise ApplicationError(f"transient {attempt}", type="Transient")


@activity.defn
async def fails_bad_input(key: str) -> str:
    _record_attempt(key)
    raise ApplicationError("bad input", type="BadInput")


@activity.defn
async def fails_non_retryable(key: str) -> str:
    _record_attempt(key)
    raise ApplicationError("fatal", type="Fatal", non_retryable=True)


@activity.defn
async def custom_retry_delay(key: str) -> str:
    attempt = _record_attempt(key)
    if attempt == 1:
        raise ApplicationError("come back later", next_retry_delay=timedelta(seconds=1))
    if attempt == 2:
        raise ApplicationError("plain failure")
    return f"ok on attempt {attempt}"


@activity.defn
async def heartbeat_then_hang(key: str) -> str:
    _record_attempt(key)
    activity.heartbeat("step-1")
    await asyncio.sleep(10)
    return "woke up"


@activity.defn
async def resumes_from_heartbeat(key: str) -> str:
    attempt = _record_attempt(key)
    if attempt == 1:
        activity.heartbeat("progress-5")
        # Give the first (unthrottled) heartbeat time to reach the server.
        await asyncio.sleep(0.3)
        raise ApplicationError("crash after heartbeat")
    details = list(activity.info().heartbeat_details)
    return f"attempt {attempt} resumed from {details}"


@activity.defn
async def heartbeat_until_cancelled(key: str) -> str:
    SEEN[key].append("started")
    try:
        while True:
            activity.heartbeat()
            await asyncio.sleep(0.1)
    except asyncio.CancelledError:
        SEEN[key].append("cancelled")
        raise


@activity.defn
async def completes_async(key: str) -> str:
    TASK_TOKENS[key] = activity.info().task_token
    activity.raise_complete_async()


ALL_ACTIVITIES = [
    flaky,
    sleepy,
    fails_then_sleeps,
    fails_transient,
    fails_bad_input,
    fails_non_retryable,
    custom_retry_delay,
    heartbeat_then_hang,
    resumes_from_heartbeat,
    heartbeat_until_cancelled,
    completes_async,
]


@dataclass
class ActivityCall:
    """How RunActivityWorkflow should invoke one activity (durations in milliseconds)."""

    activity: str
    key: str
    start_to_close_ms: int | None = None
    schedule_to_close_ms: int | None = None
    schedule_to_start_ms: int | None = None
    heartbeat_ms: int | None = None
    maximum_attempts: int = 0
    initial_interval_ms: int = 100
    non_retryable_error_types: list[str] = field(default_factory=list)
    task_queue: str | None = None
    activity_id: str | None = None


def _ms(value: int | None) -> timedelta | None:
    return None if value is None else timedelta(milliseconds=value)


@workflow.defn
class RunActivityWorkflow:
    """Runs one activity; an ActivityError propagates and fails the workflow."""

    @workflow.run
    async def run(self, call: ActivityCall) -> str:
        return await workflow.execute_activity(
            call.activity,
            call.key,
            result_type=str,
            task_queue=call.task_queue,
            activity_id=call.activity_id,
            start_to_close_timeout=_ms(call.start_to_close_ms),
            schedule_to_close_timeout=_ms(call.schedule_to_close_ms),
            schedule_to_start_timeout=_ms(call.schedule_to_start_ms),
            heartbeat_timeout=_ms(call.heartbeat_ms),
            retry_policy=RetryPolicy(
                initial_interval=timedelta(milliseconds=call.initial_interval_ms),
                backoff_coefficient=1.0,
                maximum_attempts=call.maximum_attempts,
                non_retryable_error_types=call.non_retryable_error_types,
            ),
        )


@workflow.defn
class CancelActivityWorkflow:
    """Starts a heartbeating activity, cancels it on signal and reports what it observed."""

    def __init__(self) -> None:
        self._cancel = False

    @workflow.run
    async def run(self, key: str) -> str:
        handle = workflow.start_activity(
            heartbeat_until_cancelled,
            key,
            start_to_close_timeout=timedelta(seconds=30),
            heartbeat_timeout=timedelta(seconds=1),
            cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
        )
        await workflow.wait_condition(lambda: self._cancel)
        handle.cancel()
        try:
            await handle
        except ActivityError as err:
            return f"{type(err).__name__}/{type(err.cause).__name__}"
        return "activity finished without cancellation"

    @workflow.signal
    def cancel_activity(self) -> None:
        self._cancel = True
