"""Many concurrent workflows on one worker: every one completes, nothing is lost or stuck."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from ds_support import event_name, eventually, history_events, new_id, new_task_queue
from temporalio.client import Client
from temporalio.worker import Worker
from wf_concurrency import (
    HelloActivityWorkflow,
    say_hello,
)

WORKFLOW_COUNT = 200


async def test_concurrent_hello_activity_workflows(client: Client) -> None:
    task_queue = new_task_queue()
    prefix = new_id("burst")
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=[HelloActivityWorkflow],
        activities=[say_hello],
    ):
        handles = await asyncio.gather(
            *(
                client.start_workflow(
                    HelloActivityWorkflow.run,
                    f"user-{i}",
                    id=f"{prefix}-{i}",
                    task_queue=task_queue,
                    execution_timeout=timedelta(seconds=60),
                )
                for i in range(WORKFLOW_COUNT)
            )
        )
        assert len({h.result_run_id for h in handles}) == WORKFLOW_COUNT
        results = await asyncio.wait_for(asyncio.gather(*(h.result() for h in handles)), timeout=50)

    assert results == [f"Hello, user-{i}!" for i in range(WORKFLOW_COUNT)]

    in_queue = f"TaskQueue = '{task_queue}'"
    completed = await eventually(
        lambda: client.count_workflows(f"{in_queue} AND ExecutionStatus = 'Completed'"),
        lambda count: count.count == WORKFLOW_COUNT,
    )
    assert completed.count == WORKFLOW_COUNT
    running = await client.count_workflows(f"{in_queue} AND ExecutionStatus = 'Running'")
    assert running.count == 0

    # Spot-check histories: one activity each, no failed or timed-out workflow tasks.
    for handle in handles[:: WORKFLOW_COUNT // 10]:
        names = [event_name(e) for e in await history_events(handle)]
        assert names.count("ACTIVITY_TASK_COMPLETED") == 1
        assert "WORKFLOW_TASK_FAILED" not in names
        assert "WORKFLOW_TASK_TIMED_OUT" not in names
        assert names[-1] == "WORKFLOW_EXECUTION_COMPLETED"


async def test_task_is_not_lost_to_a_poller_that_went_away(client: Client) -> None:
    task_queue = new_task_queue()
    # A first worker parks long polls on the queue, then shuts down (cancelling them).
    async with Worker(
        client, task_queue=task_queue, workflows=[HelloActivityWorkflow], activities=[say_hello]
    ):
        await asyncio.sleep(0.5)
    handle = await client.start_workflow(
        HelloActivityWorkflow.run, "late worker", id=new_id("abandoned-poll"), task_queue=task_queue
    )
    async with Worker(
        client, task_queue=task_queue, workflows=[HelloActivityWorkflow], activities=[say_hello]
    ):
        # Well inside the 10 s workflow task timeout: a task handed to a dead poll would stall.
        assert await asyncio.wait_for(handle.result(), timeout=5) == "Hello, late worker!"
    names = [event_name(e) for e in await history_events(handle)]
    assert "WORKFLOW_TASK_TIMED_OUT" not in names
    assert "ACTIVITY_TASK_TIMED_OUT" not in names
