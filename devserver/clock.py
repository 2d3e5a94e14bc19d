"""Server time: the wall clock, or a virtual clock that skips ahead (as Temporal's test server).

Every deadline in the server (timers, activity and workflow-task timeouts, retry backoff, start
delays, cron and schedules) is registered with the `Scheduler`, so skipping time is one jump of an
offset followed by firing what fell due.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import structlog

log = structlog.get_logger("devserver.clock")


class Clock:
    """Current server time.

    Virtual time = wall time + offset. With time skipping enabled, when nothing holds a lock
    (no workflow task, activity, query or signal in flight and no explicit client lock), the
    scheduler moves the offset forward to the next deadline instead of waiting for it.
    """

    def __init__(self, *, time_skipping: bool = False) -> None:
        self.time_skipping = time_skipping
        self._offset = 0.0
        # Temporal's test server starts with one lock held: the SDK unlocks around result() waits.
        self._locks = 1 if time_skipping else 0
        self._on_unlock: Callable[[], None] | None = None

    def timestamp(self) -> float:
        return time.time() + self._offset

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp(), UTC)

    def advance_to(self, target: float) -> None:
        """Jump virtual time forward to `target` (never backward)."""
        gap = target - self.timestamp()
        if gap > 0:
            self._offset += gap

    @property
    def locked(self) -> bool:
        return self._locks > 0

    def lock(self) -> None:
        self._locks += 1

    def unlock(self) -> None:
        if self._locks <= 0:
            raise ValueError("time skipping is already unlocked")
        self._locks -= 1
        if self._locks == 0 and self._on_unlock is not None:
            self._on_unlock()

    def set_unlock_listener(self, listener: Callable[[], None]) -> None:
        self._on_unlock = listener


@dataclass(order=True)
class _Entry:
    due: float
    seq: int
    callback: Callable[[], None] = field(compare=False)
    cancelled: bool = field(default=False, compare=False)


class TimerHandle:
    def __init__(self, entry: _Entry, scheduler: Scheduler) -> None:
        self._entry = entry
        self._scheduler = scheduler

    @property
    def due(self) -> float:
        return self._entry.due

    def cancel(self) -> None:
        if not self._entry.cancelled:
            self._entry.cancelled = True
            self._scheduler._live -= 1


class Scheduler:
    """Runs callbacks at server times. Callbacks run on the event loop and must not block."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._heap: list[_Entry] = []
        self._seq = itertools.count()
        self._live = 0
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        # Called after a batch of callbacks ran (the engine commits their changes).
        self.after_fire: Callable[[], None] | None = None
        clock.set_unlock_listener(self._wake.set)

    def call_at(self, due: datetime | float, callback: Callable[[], None]) -> TimerHandle:
        stamp = due.timestamp() if isinstance(due, datetime) else due
        entry = _Entry(stamp, next(self._seq), callback)
        heapq.heappush(self._heap, entry)
        self._live += 1
        self._wake.set()
        return TimerHandle(entry, self)

    def call_later(self, delay: timedelta | float, callback: Callable[[], None]) -> TimerHandle:
        seconds = delay.total_seconds() if isinstance(delay, timedelta) else delay
        return self.call_at(self.clock.timestamp() + max(seconds, 0.0), callback)

    def next_due(self) -> float | None:
        self._drop_cancelled()
        return self._heap[0].due if self._heap else None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="scheduler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    def fire_due(self) -> int:
        """Run every callback whose time has come; returns how many ran."""
        fired = 0
        now = self.clock.timestamp()
        while True:
            self._drop_cancelled()
            if not self._heap or self._heap[0].due > now:
                return fired
            entry = heapq.heappop(self._heap)
            entry.cancelled = True
            self._live -= 1
            fired += 1
            try:
                entry.callback()
            except Exception:  # one broken callback must not stop every other deadline
                log.exception("scheduled callback failed")

    def _drop_cancelled(self) -> None:
        while self._heap and self._heap[0].cancelled:
            heapq.heappop(self._heap)

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            if self.fire_due() and self.after_fire is not None:
                self.after_fire()
            due = self.next_due()
            if due is None:
                await self._wake.wait()
                continue
            if self.clock.time_skipping and not self.clock.locked:
                # Let in-flight work that has not yet taken a lock (a callback's follow-up on the
                # loop) run first, then jump.
                await asyncio.sleep(0)
                if not self.clock.locked and not self._wake.is_set():
                    self.clock.advance_to(due)
                continue
            delay = due - self.clock.timestamp()
            if delay <= 0:
                continue
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=min(delay, 60.0))
            except TimeoutError:
                pass
