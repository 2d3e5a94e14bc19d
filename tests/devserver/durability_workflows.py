"""Workflows for the crash-recovery tests (a plain module: cheap for the sandbox to re-import)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import activity, workflow

# Activity executions per workflow id, across server restarts (the worker process survives).
EXECUTIONS: dict[str, int] = {}


@activity.defn
async def slow_greeting(name: str) -> str:
    info = activity.info()
    EXECUTIONS[info.workflow_id] = EXECUTIONS.get(info.workflow_id, 0) + 1
    await asyncio.sleep(0.5)
    return f"hello {name}"


@workflow.defn
class TimerThenReturn:
    @workflow.run
    async def run(self, seconds: float) -> str:
        await workflow.sleep(timedelta(seconds=seconds))
        return "timer fired"


@workflow.defn
class ActivityThenReturn:
    @workflow.run
    async def run(self, name: str) -> str:
        return await workflow.execute_activity(
            slow_greeting, name, start_to_close_timeout=timedelta(seconds=5)
        )


@workflow.defn
class WaitForSignal:
    def __init__(self) -> None:
        self.value: str | None = None

    @workflow.run
    async def run(self) -> str:
        await workflow.wait_condition(lambda: self.value is not None)
        assert self.value is not None
        return self.value

    @workflow.signal
    def deliver(self, value: str) -> None:
        self.value = value
