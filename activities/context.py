"""What an activity knows about its own execution: structured logger and retry-stable keys."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import structlog
from temporalio import activity

from activities.errors import as_permanent
from crm.tables import CAUSED_AT

T = TypeVar("T")


def activity_logger(**fields: Any) -> Any:
    """A structlog logger bound to the running activity (workflow_id, activity, attempt)."""
    log = structlog.get_logger("csflow.activities")
    if activity.in_activity():
        info = activity.info()
        log = log.bind(
            workflow_id=info.workflow_id,
            activity=info.activity_type,
            attempt=info.attempt,
        )
    return log.bind(**{k: v for k, v in fields.items() if v is not None})


def attempt_key(purpose: str) -> str | None:
    """A key identical across retries of this activity execution, distinct between executions.

    Workflow run + activity id identify one scheduled activity; its retries share them. None
    outside a Temporal activity (then the caller does not deduplicate).
    """
    if not activity.in_activity():
        return None
    info = activity.info()
    return f"{purpose}:{info.workflow_id}:{info.workflow_run_id}:{info.activity_id}"


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# While blocking work runs, the activity heartbeats this often (the SDK throttles what it sends
# to 80% of the heartbeat timeout the workflow set).
HEARTBEAT_EVERY_SECONDS = 1.0


async def in_thread(func: Callable[..., T], *args: Any) -> T:
    """Run blocking database / HTTP work off the event loop (activity context is preserved).

    Heartbeats while the work runs, so a worker that dies mid-attempt is noticed within the
    heartbeat timeout of activities that have one (workflows.activity_calls).

    A failure no retry can fix (bad data) comes out as the contract's non-retryable
    `InvalidInput` (`activities.errors.as_permanent`); others propagate unchanged."""
    if activity.in_activity():
        # Rows this work writes are stamped with the workflow's time (crm.tables.utcnow).
        CAUSED_AT.set(_as_utc(activity.info().scheduled_time))
    work = asyncio.ensure_future(asyncio.to_thread(func, *args))
    try:
        while True:
            done, _ = await asyncio.wait({work}, timeout=HEARTBEAT_EVERY_SECONDS)
            if done:
                return work.result()
            if activity.in_activity():
                activity.heartbeat()
    except Exception as err:
        failure = as_permanent(err)
        if failure is None:
            raise
        activity_logger().warning("permanent failure", error=str(failure))
        raise failure from err
