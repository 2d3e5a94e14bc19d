"""Workflow and activity definitions for test_history_replay.py.

Kept out of the test module: the workflow sandbox re-imports a workflow's module for
every run, and a plain module avoids re-running pytest's assertion rewriting each time.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow


@activity.defn
async def compose_greeting(name: str) -> str:
    return f"Hello, {name}!"


@workflow.defn(name="ReplayGreeting")
class ReplayGreetingWorkflow:
    def __init__(self) -> None:
        self._suffixes: list[str] = []
        self._done = False

    @workflow.run
    async def run(self, name: str) -> str:
        greeting = await workflow.execute_activity(
            compose_greeting, name, start_to_close_timeout=timedelta(seconds=10)
        )
        await workflow.sleep(0.2)
        await workflow.wait_condition(lambda: self._done)
        return greeting + "".join(self._suffixes)

    @workflow.signal
    def add_suffix(self, suffix: str) -> None:
        self._suffixes.append(suffix)

    @workflow.update
    def finish(self) -> int:
        self._done = True
        return len(self._suffixes)


@workflow.defn(name="ReplayGreeting")
class ChangedReplayGreetingWorkflow:
    """Same workflow type, but the code now sleeps before calling the activity."""

    @workflow.run
    async def run(self, name: str) -> str:
        await workflow.sleep(0.2)
        return await workflow.execute_activity(
            compose_greeting, name, start_to_close_timeout=timedelta(seconds=10)
        )

    @workflow.signal
    def add_suffix(self, suffix: str) -> None:
        pass

    @workflow.update
    def finish(self) -> int:
        return 0


@workflow.defn
class PlainTimerActivityWorkflow:
    @workflow.run
    async def run(self, name: str) -> str:
        greeting = await workflow.execute_activity(
            compose_greeting, name, start_to_close_timeout=timedelta(seconds=10)
        )
        await workflow.sleep(0.1)
        return greeting
