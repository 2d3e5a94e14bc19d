"""Workflows started by schedules in the schedule tests."""

from __future__ import annotations

from temporalio import workflow


@workflow.defn
class NightlyHealthScoring:
    @workflow.run
    async def run(self) -> str:
        return f"scored at {workflow.now().isoformat()}"
