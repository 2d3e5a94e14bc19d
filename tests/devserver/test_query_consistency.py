"""Queries racing workflow tasks see consistent, never-decreasing state and are never lost."""

from __future__ import annotations

import asyncio
from uuid import uuid4

from temporalio.client import Client
from temporalio.worker import Worker
from wf_query_consistency import TouchpointCounter, count_touchpoint


async def test_queries_during_progress_are_monotonic_and_all_answered(client: Client) -> None:
    task_queue = f"queries-{uuid4()}"
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=[TouchpointCounter],
        activities=[count_touchpoint],
    ):
        handle = await client.start_workflow(
            TouchpointCounter.run, 40, id=f"counter-{uuid4()}", task_queue=task_queue
        )
        seen: list[int] = []
        while True:
            answers = await asyncio.gather(
                *(handle.query(TouchpointCounter.touchpoint_count) for _ in range(3))
            )
            seen.extend(sorted(answers))
            if max(answers) == 40:
                break
        assert await handle.result() == 40
        assert await handle.query(TouchpointCounter.touchpoint_count) == 40
    assert all(0 <= value <= 40 for value in seen)
    assert len(set(seen)) > 3  # the queries really interleaved with progress
