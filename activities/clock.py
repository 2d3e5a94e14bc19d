"""The activities' wall clock, replaceable so tests never depend on the real time of day."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime

_lock = threading.Lock()
_override: Callable[[], datetime] | None = None


def use_clock(clock: Callable[[], datetime] | None) -> None:
    """Force a clock returning aware datetimes (tests); None goes back to the system clock."""
    global _override
    with _lock:
        _override = clock


def now() -> datetime:
    with _lock:
        clock = _override
    value = clock() if clock is not None else datetime.now(UTC)
    if value.tzinfo is None:
        raise ValueError("clock returned a naive datetime")
    return value.astimezone(UTC)
