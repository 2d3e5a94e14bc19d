"""Workflows exercising the less common commands: markers, external signals and cancels."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.exceptions import ChildWorkflowError


@activity.defn
async def lookup_plan(account_id: str) -> str:
    return f"plan-of-{account_id}"


@workflow.defn
class LocalActivityLookup:
    @workflow.run
    async def run(self, account_id: str) -> str:
        # Local activities are recorded as MarkerRecorded events.
        return await workflow.execute_local_activity(
            lookup_plan, account_id, start_to_close_timeout=timedelta(seconds=5)
        )


@workflow.defn
class ChampionInbox:
    def __init__(self) -> None:
        self.messages: list[str] = []

    @workflow.run
    async def run(self) -> list[str]:
        await workflow.wait_condition(lambda: len(self.messages) >= 2)
        return self.messages

    @workflow.signal
    def notify(self, message: str) -> None:
        self.messages.append(message)


@workflow.defn
class ChampionChangeNotifier:
    @workflow.run
    async def run(self, inbox_id: str) -> str:
        inbox = workflow.get_external_workflow_handle(inbox_id)
        await inbox.signal(ChampionInbox.notify, "champion left")
        await inbox.signal(ChampionInbox.notify, "new champion: dana")
        missing = workflow.get_external_workflow_handle(f"{inbox_id}-does-not-exist")
        try:
            await missing.signal(ChampionInbox.notify, "lost")
        except Exception as err:  # the server reports the target as not found
            return f"signalled; missing target: {type(err).__name__}"
        return "signalled; missing target accepted?"


@workflow.defn
class LongOnboarding:
    @workflow.run
    async def run(self) -> str:
        try:
            await workflow.sleep(timedelta(days=30))
        except asyncio.CancelledError:
            return "onboarding cancelled"
        return "onboarding finished"


@workflow.defn
class JourneyCancelsOnboarding:
    @workflow.run
    async def run(self, child_id: str) -> str:
        child = await workflow.start_child_workflow(LongOnboarding.run, id=child_id)
        await workflow.sleep(timedelta(milliseconds=100))
        child.cancel()  # RequestCancelExternalWorkflowExecution on the child
        try:
            return await child
        except ChildWorkflowError as err:
            return f"child error: {type(err.cause).__name__}"


@workflow.defn
class PatchedOnboarding:
    @workflow.run
    async def run(self) -> str:
        # The SDK upserts TemporalChangeVersion for each patch it records.
        if workflow.patched("kickoff-before-training"):
            return "patched path"
        return "old path"
