"""Workflow and activity definitions for test_lifecycle.py.

Kept out of the test module: the workflow sandbox re-imports a workflow's module for
every run, and a plain module avoids re-running pytest's assertion rewriting each time.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from temporalio import workflow
from temporalio.common import SearchAttributeKey
from temporalio.exceptions import ApplicationError

TIER = SearchAttributeKey.for_keyword("CsflowTestTier")


@workflow.defn
class EchoWorkflow:
    @workflow.run
    async def run(self, text: str) -> str:
        return f"echo {text}"


@workflow.defn
class FailingWorkflow:
    @workflow.run
    async def run(self, text: str) -> str:
        raise ApplicationError(f"failed on {text}", type="Deliberate")


@workflow.defn
class WaitForCancelWorkflow:
    @workflow.run
    async def run(self, swallow_cancel: bool) -> str:
        try:
            await workflow.wait_condition(lambda: False)
        except asyncio.CancelledError:
            if swallow_cancel:
                return "cleaned up after cancel"
            raise
        return "unreachable"


@workflow.defn
class SleepForWorkflow:
    @workflow.run
    async def run(self, seconds: float) -> str:
        await workflow.sleep(seconds)
        return "slept"


@dataclass
class CountdownInput:
    remaining: int
    runs: int = 1


@workflow.defn
class CountdownWorkflow:
    @workflow.run
    async def run(self, data: CountdownInput) -> str:
        if data.remaining > 0:
            workflow.continue_as_new(CountdownInput(data.remaining - 1, data.runs + 1))
        return f"finished after {data.runs} runs"


@workflow.defn
class RetriedWorkflow:
    @workflow.run
    async def run(self) -> int:
        attempt = workflow.info().attempt
        if attempt < 2:
            raise ApplicationError(f"workflow attempt {attempt} fails")
        return attempt


@workflow.defn
class CronTickWorkflow:
    @workflow.run
    async def run(self) -> str:
        return f"tick for {workflow.info().cron_schedule}"


@workflow.defn
class MemoWorkflow:
    @workflow.run
    async def run(self) -> str:
        return workflow.memo_value("color", type_hint=str)


@workflow.defn
class UpsertTierWorkflow:
    def __init__(self) -> None:
        self._done = False

    @workflow.run
    async def run(self, tier: str) -> str:
        workflow.upsert_search_attributes([TIER.value_set(tier)])
        await workflow.wait_condition(lambda: self._done)
        return workflow.info().typed_search_attributes.get(TIER) or ""

    @workflow.signal
    def finish(self) -> None:
        self._done = True


@workflow.defn
class PickyWorkflow:
    """Crashes its workflow task (a bug, not a workflow failure) while the last value is 'bad'."""

    def __init__(self) -> None:
        self._values: list[str] = []

    @workflow.run
    async def run(self) -> str:
        await workflow.wait_condition(lambda: bool(self._values))
        if self._values[-1] == "bad":
            raise RuntimeError("workflow bug triggered by a bad value")
        return self._values[-1]

    @workflow.signal
    def set_value(self, value: str) -> None:
        self._values.append(value)


WORKFLOWS = [
    EchoWorkflow,
    FailingWorkflow,
    WaitForCancelWorkflow,
    SleepForWorkflow,
    CountdownWorkflow,
    RetriedWorkflow,
    CronTickWorkflow,
    MemoWorkflow,
    UpsertTierWorkflow,
    PickyWorkflow,
]
