"""Child workflows on the devserver: results, failure propagation and parent-close policies."""

from __future__ import annotations

import asyncio

import pytest
from ds_support import event_name, eventually, history_events, new_id, new_task_queue
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowFailureError
from temporalio.exceptions import ApplicationError, ChildWorkflowError, RetryState
from temporalio.worker import Worker
from wf_children import (
    WORKFLOWS,
    GreetParentWorkflow,
    ShortLivedParentWorkflow,
)


async def test_child_workflow_result(client: Client) -> None:
    task_queue = new_task_queue()
    parent_id, child_id = new_id("parent"), new_id("child")
    async with Worker(client, task_queue=task_queue, workflows=WORKFLOWS):
        handle = await client.start_workflow(
            GreetParentWorkflow.run, args=["ada", child_id], id=parent_id, task_queue=task_queue
        )
        assert await handle.result() == f"parent got: hello ada from {child_id}"
        events = await history_events(handle)
        child_description = await client.get_workflow_handle(child_id).describe()

    names = [event_name(e) for e in events]
    assert names.index("START_CHILD_WORKFLOW_EXECUTION_INITIATED") < names.index(
        "CHILD_WORKFLOW_EXECUTION_STARTED"
    )
    assert names.index("CHILD_WORKFLOW_EXECUTION_STARTED") < names.index(
        "CHILD_WORKFLOW_EXECUTION_COMPLETED"
    )
    initiated = events[names.index("START_CHILD_WORKFLOW_EXECUTION_INITIATED")]
    attrs = initiated.start_child_workflow_execution_initiated_event_attributes
    assert attrs.workflow_id == child_id
    assert attrs.workflow_type.name == "GreetChildWorkflow"
    assert attrs.task_queue.name == task_queue

    assert child_description.status == WorkflowExecutionStatus.COMPLETED
    assert child_description.workflow_type == "GreetChildWorkflow"
    assert child_description.parent_id == parent_id
    assert child_description.parent_run_id == handle.result_run_id


async def test_child_failure_propagates_as_child_workflow_error(client: Client) -> None:
    task_queue = new_task_queue()
    child_id = new_id("failing-child")
    async with Worker(client, task_queue=task_queue, workflows=WORKFLOWS):
        handle = await client.start_workflow(
            GreetParentWorkflow.run,
            args=["nobody", child_id],
            id=new_id("parent"),
            task_queue=task_queue,
        )
        with pytest.raises(WorkflowFailureError) as exc_info:
            await handle.result()
        events = await history_events(handle)
        child_status = (await client.get_workflow_handle(child_id).describe()).status

    child_error = exc_info.value.cause
    assert isinstance(child_error, ChildWorkflowError), repr(child_error)
    assert child_error.workflow_id == child_id
    assert child_error.workflow_type == "GreetChildWorkflow"
    assert child_error.retry_state == RetryState.RETRY_POLICY_NOT_SET
    assert isinstance(child_error.cause, ApplicationError)
    assert child_error.cause.message == "child refuses to greet nobody"
    assert child_error.cause.type == "ChildRefusal"
    assert child_status == WorkflowExecutionStatus.FAILED
    names = [event_name(e) for e in events]
    assert "CHILD_WORKFLOW_EXECUTION_FAILED" in names
    assert names[-1] == "WORKFLOW_EXECUTION_FAILED"


@pytest.mark.parametrize(
    ("policy", "expected_child_status"),
    [
        ("TERMINATE", WorkflowExecutionStatus.TERMINATED),
        ("REQUEST_CANCEL", WorkflowExecutionStatus.CANCELED),
        ("ABANDON", WorkflowExecutionStatus.RUNNING),
    ],
)
async def test_parent_close_policy(
    client: Client, policy: str, expected_child_status: WorkflowExecutionStatus
) -> None:
    task_queue = new_task_queue()
    child_id = new_id(f"child-{policy.lower()}")
    async with Worker(client, task_queue=task_queue, workflows=WORKFLOWS):
        parent = await client.start_workflow(
            ShortLivedParentWorkflow.run,
            args=[child_id, policy],
            id=new_id("parent"),
            task_queue=task_queue,
        )
        child_run_id = await parent.result()
        assert child_run_id
        child = client.get_workflow_handle(child_id, run_id=child_run_id)

        async def child_status() -> WorkflowExecutionStatus | None:
            return (await child.describe()).status

        if expected_child_status == WorkflowExecutionStatus.RUNNING:
            # Give an (incorrect) server time to act on the policy, then check it did not.
            await asyncio.sleep(1.0)
            assert await child_status() == WorkflowExecutionStatus.RUNNING
            await child.terminate(reason="test cleanup")
        else:
            await eventually(child_status, lambda s: s == expected_child_status, timeout=5)
