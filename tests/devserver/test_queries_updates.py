"""Queries, updates and update-with-start on the devserver."""

from __future__ import annotations

from datetime import timedelta

import pytest
from ds_support import event_types, events_of, history_events, new_id, new_task_queue
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowExecutionStatus,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateStage,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.worker import Worker
from wf_queries_updates import (
    CartWorkflow,
)


def _worker(client: Client, task_queue: str) -> Worker:
    return Worker(client, task_queue=task_queue, workflows=[CartWorkflow])


async def _start_cart(client: Client, task_queue: str, seed: list[str]):
    return await client.start_workflow(
        CartWorkflow.run,
        seed,
        id=new_id("cart"),
        task_queue=task_queue,
        execution_timeout=timedelta(seconds=60),
    )


async def test_query_running_workflow(client: Client) -> None:
    task_queue = new_task_queue()
    async with _worker(client, task_queue):
        handle = await _start_cart(client, task_queue, ["apple", "pear"])
        assert await handle.query(CartWorkflow.items) == ["apple", "pear"]
        assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
        await handle.signal(CartWorkflow.checkout)
        await handle.result()


async def test_query_completed_workflow(client: Client) -> None:
    task_queue = new_task_queue()
    async with _worker(client, task_queue):
        handle = await _start_cart(client, task_queue, ["kiwi"])
        await handle.execute_update(CartWorkflow.add_item, "plum")
        await handle.signal(CartWorkflow.checkout)
        assert await handle.result() == ["kiwi", "plum"]
        assert (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED
        # A query on a closed workflow is answered by a worker replaying its history.
        assert await handle.query(CartWorkflow.items) == ["kiwi", "plum"]
        names = await event_types(handle)
    # Queries never write history.
    assert not [n for n in names if "QUERY" in n]


async def test_failing_query_raises_query_failed(client: Client) -> None:
    task_queue = new_task_queue()
    async with _worker(client, task_queue):
        handle = await _start_cart(client, task_queue, [])
        with pytest.raises(WorkflowQueryFailedError) as exc_info:
            await handle.query(CartWorkflow.broken)
        assert "query handler exploded" in str(exc_info.value)
        with pytest.raises(WorkflowQueryFailedError) as unknown:
            await handle.query("no_such_query")
        assert "no_such_query" in str(unknown.value)
        # The workflow is unaffected by the failed queries.
        assert await handle.query(CartWorkflow.items) == []
        await handle.signal(CartWorkflow.checkout)
        assert await handle.result() == []


async def test_update_is_accepted_and_returns_result(client: Client) -> None:
    task_queue = new_task_queue()
    async with _worker(client, task_queue):
        handle = await _start_cart(client, task_queue, ["a"])
        assert await handle.execute_update(CartWorkflow.add_item, "b") == 2
        assert await handle.execute_update(CartWorkflow.add_item, "c", id="update-c") == 3
        assert await handle.query(CartWorkflow.items) == ["a", "b", "c"]
        await handle.signal(CartWorkflow.checkout)
        assert await handle.result() == ["a", "b", "c"]
        events = await history_events(handle)

    accepted = events_of(events, "WORKFLOW_EXECUTION_UPDATE_ACCEPTED")
    completed = events_of(events, "WORKFLOW_EXECUTION_UPDATE_COMPLETED")
    assert len(accepted) == 2
    assert len(completed) == 2
    second = accepted[1].workflow_execution_update_accepted_event_attributes
    assert second.accepted_request.meta.update_id == "update-c"
    assert second.accepted_request.input.name == "add_item"
    done = completed[1].workflow_execution_update_completed_event_attributes
    assert done.meta.update_id == "update-c"
    assert done.accepted_event_id == accepted[1].event_id
    assert done.outcome.HasField("success")


async def test_update_rejected_by_validator(client: Client) -> None:
    task_queue = new_task_queue()
    async with _worker(client, task_queue):
        handle = await _start_cart(client, task_queue, ["milk"])
        with pytest.raises(WorkflowUpdateFailedError) as empty:
            await handle.execute_update(CartWorkflow.add_item, "")
        assert isinstance(empty.value.cause, ApplicationError)
        assert "item must not be empty" in empty.value.cause.message
        with pytest.raises(WorkflowUpdateFailedError) as duplicate:
            await handle.execute_update(CartWorkflow.add_item, "milk")
        assert isinstance(duplicate.value.cause, ApplicationError)
        assert duplicate.value.cause.type == "Duplicate"
        assert duplicate.value.cause.message == "duplicate item milk"
        # A valid update still goes through afterwards.
        assert await handle.execute_update(CartWorkflow.add_item, "bread") == 2
        await handle.signal(CartWorkflow.checkout)
        assert await handle.result() == ["milk", "bread"]
        names = await event_types(handle)
    # Rejected updates leave no trace in history; only the accepted one does.
    assert names.count("WORKFLOW_EXECUTION_UPDATE_ACCEPTED") == 1
    assert names.count("WORKFLOW_EXECUTION_UPDATE_COMPLETED") == 1
    assert "WORKFLOW_EXECUTION_UPDATE_REJECTED" not in names


async def test_update_wait_for_accepted_then_result(client: Client) -> None:
    task_queue = new_task_queue()
    async with _worker(client, task_queue):
        handle = await _start_cart(client, task_queue, [])
        update = await handle.start_update(
            CartWorkflow.add_when_released,
            "late",
            wait_for_stage=WorkflowUpdateStage.ACCEPTED,
            id="held-update",
        )
        assert update.id == "held-update"
        names = await event_types(handle)
        assert "WORKFLOW_EXECUTION_UPDATE_ACCEPTED" in names
        assert "WORKFLOW_EXECUTION_UPDATE_COMPLETED" not in names

        await handle.signal(CartWorkflow.release)
        assert await update.result() == "added late after release"
        # A fresh handle to the same update id observes the same outcome.
        again = handle.get_update_handle("held-update", result_type=str)
        assert await again.result() == "added late after release"
        await handle.signal(CartWorkflow.checkout)
        assert await handle.result() == ["late"]


async def test_update_handler_failure_after_acceptance(client: Client) -> None:
    task_queue = new_task_queue()
    async with _worker(client, task_queue):
        handle = await _start_cart(client, task_queue, [])
        with pytest.raises(WorkflowUpdateFailedError) as exc_info:
            await handle.execute_update(CartWorkflow.failing_update)
        assert isinstance(exc_info.value.cause, ApplicationError)
        assert exc_info.value.cause.type == "UpdateBoom"
        await handle.signal(CartWorkflow.checkout)
        await handle.result()
        events = await history_events(handle)
    (completed,) = events_of(events, "WORKFLOW_EXECUTION_UPDATE_COMPLETED")
    outcome = completed.workflow_execution_update_completed_event_attributes.outcome
    assert outcome.failure.message == "update handler failed"
    assert len(events_of(events, "WORKFLOW_EXECUTION_UPDATE_ACCEPTED")) == 1


async def test_update_with_start_starts_then_reuses_workflow(client: Client) -> None:
    task_queue = new_task_queue()
    workflow_id = new_id("update-with-start")

    def operation(policy: WorkflowIDConflictPolicy) -> WithStartWorkflowOperation:
        return WithStartWorkflowOperation(
            CartWorkflow.run,
            ["seed"],
            id=workflow_id,
            task_queue=task_queue,
            id_conflict_policy=policy,
        )

    async with _worker(client, task_queue):
        first_op = operation(WorkflowIDConflictPolicy.USE_EXISTING)
        result = await client.execute_update_with_start_workflow(
            CartWorkflow.add_item, "one", start_workflow_operation=first_op
        )
        assert result == 2
        first_handle = await first_op.workflow_handle()
        assert first_handle.id == workflow_id

        second_op = operation(WorkflowIDConflictPolicy.USE_EXISTING)
        update = await client.start_update_with_start_workflow(
            CartWorkflow.add_item,
            "two",
            start_workflow_operation=second_op,
            wait_for_stage=WorkflowUpdateStage.ACCEPTED,
        )
        assert await update.result() == 3
        second_handle = await second_op.workflow_handle()
        assert second_handle.result_run_id == first_handle.result_run_id

        # With the FAIL conflict policy a running workflow is an error.
        failing_op = operation(WorkflowIDConflictPolicy.FAIL)
        with pytest.raises(WorkflowAlreadyStartedError):
            await client.execute_update_with_start_workflow(
                CartWorkflow.add_item, "three", start_workflow_operation=failing_op
            )

        await first_handle.signal(CartWorkflow.checkout)
        assert await first_handle.result() == ["seed", "one", "two"]
        names = await event_types(first_handle)
    assert names.count("WORKFLOW_EXECUTION_STARTED") == 1
    assert names.count("WORKFLOW_EXECUTION_UPDATE_ACCEPTED") == 2
