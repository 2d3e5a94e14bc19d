"""Small helpers shared by the devserver conformance tests (no workflow definitions here)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from uuid import uuid4

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHandle

T = TypeVar("T")


def new_task_queue() -> str:
    return f"tq-{uuid4()}"


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid4()}"


def event_name(event: HistoryEvent) -> str:
    """`EVENT_TYPE_TIMER_FIRED` -> `TIMER_FIRED`."""
    return EventType.Name(event.event_type).removeprefix("EVENT_TYPE_")


async def history_events(handle: WorkflowHandle[Any, Any]) -> list[HistoryEvent]:
    history = await handle.fetch_history()
    return list(history.events)


async def event_types(handle: WorkflowHandle[Any, Any]) -> list[str]:
    return [event_name(e) for e in await history_events(handle)]


def events_of(events: list[HistoryEvent], name: str) -> list[HistoryEvent]:
    return [e for e in events if event_name(e) == name]


async def eventually(
    fetch: Callable[[], Awaitable[T]],
    check: Callable[[T], bool],
    *,
    timeout: float = 5.0,
    interval: float = 0.1,
) -> T:
    """Call `fetch` until `check` accepts its value; fail with the last value after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = await fetch()
        if check(value):
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"condition not met within {timeout}s; last value: {value!r}")
        await asyncio.sleep(interval)


async def wait_until(predicate: Callable[[], bool], *, timeout: float = 5.0) -> None:
    """Wait for an in-process condition (e.g. something an activity recorded)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() >= deadline:
            raise AssertionError(f"in-process condition not met within {timeout}s")
        await asyncio.sleep(0.02)
