"""The activities' wall clock, injected so tests never depend on the real time of day."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def utc_now(clock: Clock) -> datetime:
    """`clock`'s time in UTC; a naive datetime is refused (its zone would be a guess)."""
    value = clock()
    if value.tzinfo is None:
        raise ValueError("clock returned a naive datetime")
    return value.astimezone(UTC)
