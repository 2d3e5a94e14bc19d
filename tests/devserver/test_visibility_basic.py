"""List/Count visibility on the devserver with equality filters joined by AND."""

from __future__ import annotations

from ds_support import eventually, new_id, new_task_queue
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.worker import Worker
from wf_visibility import (
    ParkedWorkflow,
    QuickAlphaWorkflow,
    QuickBetaWorkflow,
)


async def _ids(client: Client, query: str) -> set[str]:
    return {execution.id async for execution in client.list_workflows(query)}


async def _count(client: Client, query: str) -> int:
    return (await client.count_workflows(query)).count


async def test_list_and_count_with_equality_filters(client: Client) -> None:
    task_queue = new_task_queue()
    alpha_ids = [new_id("vis-alpha") for _ in range(3)]
    beta_id = new_id("vis-beta")
    parked_id = new_id("vis-parked")
    workflows = [QuickAlphaWorkflow, QuickBetaWorkflow, ParkedWorkflow]
    async with Worker(client, task_queue=task_queue, workflows=workflows):
        for workflow_id in alpha_ids:
            handle = await client.start_workflow(
                QuickAlphaWorkflow.run, id=workflow_id, task_queue=task_queue
            )
            assert await handle.result() == "alpha"
        beta = await client.start_workflow(QuickBetaWorkflow.run, id=beta_id, task_queue=task_queue)
        assert await beta.result() == "beta"
        parked = await client.start_workflow(
            ParkedWorkflow.run, id=parked_id, task_queue=task_queue
        )

        in_queue = f"TaskQueue = '{task_queue}'"
        everything = {*alpha_ids, beta_id, parked_id}
        # Visibility may lag slightly behind the closes; everything must show up quickly.
        await eventually(lambda: _ids(client, in_queue), lambda ids: ids == everything)
        assert await _count(client, in_queue) == 5

        alpha_query = f"{in_queue} AND WorkflowType = 'QuickAlphaWorkflow'"
        assert await _ids(client, alpha_query) == set(alpha_ids)
        assert await _count(client, alpha_query) == 3

        running = f"{in_queue} AND ExecutionStatus = 'Running'"
        assert await _ids(client, running) == {parked_id}
        assert await _count(client, running) == 1

        completed = f"{in_queue} AND ExecutionStatus = 'Completed'"
        assert await _ids(client, completed) == {*alpha_ids, beta_id}
        assert await _count(client, completed) == 4

        by_id = f"WorkflowId = '{beta_id}'"
        listed = [execution async for execution in client.list_workflows(by_id)]
        assert len(listed) == 1
        assert listed[0].workflow_type == "QuickBetaWorkflow"
        assert listed[0].status == WorkflowExecutionStatus.COMPLETED
        assert listed[0].task_queue == task_queue
        assert listed[0].close_time is not None

        three_way = (
            f"WorkflowId = '{alpha_ids[1]}' AND WorkflowType = 'QuickAlphaWorkflow'"
            f" AND ExecutionStatus = 'Completed' AND {in_queue}"
        )
        assert await _ids(client, three_way) == {alpha_ids[1]}
        contradiction = f"WorkflowId = '{alpha_ids[1]}' AND WorkflowType = 'QuickBetaWorkflow'"
        assert await _ids(client, contradiction) == set()
        assert await _count(client, contradiction) == 0

        await parked.terminate(reason="cleanup")
        terminated = f"{in_queue} AND ExecutionStatus = 'Terminated'"
        await eventually(lambda: _ids(client, terminated), lambda ids: ids == {parked_id})
        assert await _count(client, running) == 0


async def test_list_pages_through_many_results(client: Client) -> None:
    task_queue = new_task_queue()
    ids = {new_id("vis-page") for _ in range(12)}
    async with Worker(client, task_queue=task_queue, workflows=[QuickAlphaWorkflow]):
        for workflow_id in ids:
            await client.execute_workflow(
                QuickAlphaWorkflow.run, id=workflow_id, task_queue=task_queue
            )
    query = f"TaskQueue = '{task_queue}'"

    async def listed_with_small_pages() -> list[str]:
        return [e.id async for e in client.list_workflows(query, page_size=5)]

    listed = await eventually(listed_with_small_pages, lambda found: set(found) == ids)
    assert len(listed) == 12  # no duplicates across pages
