"""Workflow and activity definitions for test_timers_signals.py.

Kept out of the test module: the workflow sandbox re-imports a workflow's module for
every run, and a plain module avoids re-running pytest's assertion rewriting each time.
"""

from __future__ import annotations

import asyncio

from temporalio import workflow


@workflow.defn
class SleepWorkflow:
    @workflow.run
    async def run(self, seconds: float) -> float:
        before = workflow.now()
        await workflow.sleep(seconds)
        return (workflow.now() - before).total_seconds()


@workflow.defn
class CancellableTimerWorkflow:
    def __init__(self) -> None:
        self._woken = False

    @workflow.run
    async def run(self) -> str:
        timer = asyncio.create_task(workflow.sleep(60))
        await workflow.wait_condition(lambda: self._woken)
        timer.cancel()
        try:
            await timer
        except asyncio.CancelledError:
            return "timer cancelled"
        return "timer fired"

    @workflow.signal
    def wake(self) -> None:
        self._woken = True


@workflow.defn
class CollectSignalsWorkflow:
    def __init__(self) -> None:
        self._items: list[str] = []
        self._done = False

    @workflow.run
    async def run(self) -> list[str]:
        await workflow.wait_condition(lambda: self._done)
        return self._items

    @workflow.signal
    def add(self, item: str) -> None:
        self._items.append(item)

    @workflow.signal
    def finish(self) -> None:
        self._done = True


WORKFLOWS = [SleepWorkflow, CancellableTimerWorkflow, CollectSignalsWorkflow]
