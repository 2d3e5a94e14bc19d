"""Task queues and long polls: hands workflow and activity tasks to polling workers.

A queue holds references to tasks, not the tasks themselves: the poller turns a reference into a
response from the execution's current state, and a reference that has gone stale (the task was
completed, timed out or the workflow closed) is skipped. So a task is never lost when a poll is
cancelled: the reference goes back to the front of the queue.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class TaskQueue(Generic[T]):
    name: str
    backlog: deque[T] = field(default_factory=deque)
    pollers: deque[asyncio.Future[T]] = field(default_factory=deque)
    last_poll_time: float = 0.0

    def offer(self, item: T, *, front: bool = False) -> None:
        while self.pollers:
            poller = self.pollers.popleft()
            if not poller.done():
                poller.set_result(item)
                return
        if front:
            self.backlog.appendleft(item)
        else:
            self.backlog.append(item)


class Matcher(Generic[T]):
    """Task queues of one kind (workflow or activity) keyed by (namespace, name)."""

    def __init__(self) -> None:
        self._queues: dict[tuple[str, str], TaskQueue[T]] = {}

    def queue(self, namespace: str, name: str) -> TaskQueue[T]:
        key = (namespace, name)
        found = self._queues.get(key)
        if found is None:
            found = self._queues[key] = TaskQueue(name)
        return found

    def add(self, namespace: str, name: str, item: T) -> None:
        self.queue(namespace, name).offer(item)

    def backlog_size(self, namespace: str, name: str) -> int:
        return len(self.queue(namespace, name).backlog)

    def queues(self) -> list[tuple[tuple[str, str], TaskQueue[T]]]:
        return list(self._queues.items())

    async def poll(
        self,
        namespace: str,
        name: str,
        timeout: float,
        materialize: Callable[[T], R | None],
        now: Callable[[], float],
    ) -> R | None:
        """Wait up to `timeout` seconds for a live task; None when the poll times out.

        `materialize` turns a reference into a response (and marks the task started), or returns
        None for a stale reference. It runs synchronously, so a task is either handed out whole
        or stays queued.
        """
        queue = self.queue(namespace, name)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            queue.last_poll_time = now()
            while queue.backlog:
                result = materialize(queue.backlog.popleft())
                if result is not None:
                    return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            waiter: asyncio.Future[T] = loop.create_future()
            queue.pollers.append(waiter)
            try:
                item = await asyncio.wait_for(asyncio.shield(waiter), timeout=remaining)
            except (TimeoutError, asyncio.CancelledError) as exc:
                # The item may have been handed over just as the poll ended: put it back.
                if waiter.done() and not waiter.cancelled():
                    queue.offer(waiter.result(), front=True)
                else:
                    waiter.cancel()
                if isinstance(exc, asyncio.CancelledError):
                    raise
                return None
            result = materialize(item)
            if result is not None:
                return result
