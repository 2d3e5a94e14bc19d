"""Waiting, in real time, for something a worker does in the background."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T]], check: Callable[[T], bool], *, attempts: int = 150
) -> T:
    """Poll `probe` every 0.1 s until `check` holds for its value (the dev server does not skip
    time); fail naming the last value after `attempts` polls."""
    for _ in range(attempts):
        value = await probe()
        if check(value):
            return value
        await asyncio.sleep(0.1)
    raise AssertionError(f"never satisfied: last value {value!r}")
