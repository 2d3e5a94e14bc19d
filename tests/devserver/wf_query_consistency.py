"""A workflow that changes state on every activity, for queries racing workflow tasks."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow


@activity.defn
async def count_touchpoint(index: int) -> int:
    return index + 1


@workflow.defn
class TouchpointCounter:
    def __init__(self) -> None:
        self.touchpoints = 0

    @workflow.run
    async def run(self, total: int) -> int:
        while self.touchpoints < total:
            self.touchpoints = await workflow.execute_activity(
                count_touchpoint, self.touchpoints, start_to_close_timeout=timedelta(seconds=5)
            )
        return self.touchpoints

    @workflow.query
    def touchpoint_count(self) -> int:
        return self.touchpoints
