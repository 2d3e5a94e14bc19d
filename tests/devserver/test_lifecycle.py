"""Workflow lifecycle on the devserver: failure, cancel, terminate, continue-as-new, id reuse and
conflict policies, request-id dedupe, cron, start delay, timeouts, retries, memo, search
attributes."""

from __future__ import annotations

import time
from datetime import timedelta
from uuid import uuid4

import pytest
from ds_support import (
    event_name,
    event_types,
    events_of,
    eventually,
    history_events,
    new_id,
    new_task_queue,
)
from temporalio.api.common.v1 import WorkflowType
from temporalio.api.enums.v1 import ContinueAsNewInitiator, IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import StartWorkflowExecutionRequest
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowFailureError
from temporalio.common import (
    RetryPolicy,
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import (
    ApplicationError,
    CancelledError,
    TerminatedError,
    TimeoutError,
    WorkflowAlreadyStartedError,
)
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker
from wf_lifecycle import (
    TIER,
    WORKFLOWS,
    CountdownInput,
    CountdownWorkflow,
    CronTickWorkflow,
    EchoWorkflow,
    FailingWorkflow,
    MemoWorkflow,
    PickyWorkflow,
    RetriedWorkflow,
    SleepForWorkflow,
    UpsertTierWorkflow,
    WaitForCancelWorkflow,
)


def _worker(client: Client, task_queue: str) -> Worker:
    return Worker(client, task_queue=task_queue, workflows=WORKFLOWS)


async def test_failed_workflow(client: Client) -> None:
    task_queue = new_task_queue()
    async with _worker(client, task_queue):
        handle = await client.start_workflow(
            FailingWorkflow.run, "purpose", id=new_id("fail"), task_queue=task_queue
        )
        with pytest.raises(WorkflowFailureError) as exc_info:
            await handle.result()
        description = await handle.describe()
        names = await event_types(handle)
    assert isinstance(exc_info.value.cause, ApplicationError)
    assert exc_info.value.cause.message == "failed on purpose"
    assert exc_info.value.cause.type == "Deliberate"
    assert description.status == WorkflowExecutionStatus.FAILED
    assert description.close_time is not None
    assert names[-1] == "WORKFLOW_EXECUTION_FAILED"


async def test_cancel_workflow_ends_canceled(client: Client) -> None:
    task_queue = new_task_queue()
    async with _worker(client, task_queue):
        handle = await client.start_workflow(
            WaitForCancelWorkflow.run, False, id=new_id("cancel"), task_queue=task_queue
        )
        await handle.cancel()
        with pytest.raises(WorkflowFailureError) as exc_info:
            await handle.result()
        description = await handle.describe()
        names = await event_types(handle)
    assert isinstance(exc_info.value.cause, CancelledError)
    assert description.status == WorkflowExecutionStatus.CANCELED
    assert "WORKFLOW_EXECUTION_CANCEL_REQUESTED" in names
    assert names[-1] == "WORKFLOW_EXECUTION_CANCELED"


async def test_cancel_request_can_be_handled_by_the_workflow(client: Client) -> None:
    task_queue = new_task_queue()
    async with _worker(client, task_queue):
        handle = await client.start_workflow(
            WaitForCancelWorkflow.run, True, id=new_id("cancel-caught"), task_queue=task_queue
        )
        await handle.cancel()
        assert await handle.result() == "cleaned up after cancel"
        assert (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED
        names = await event_types(handle)
    assert names.index("WORKFLOW_EXECUTION_CANCEL_REQUESTED") < names.index(
        "WORKFLOW_EXECUTION_COMPLETED"
    )


async def test_terminate_workflow(client: Client) -> None:
    task_queue = new_task_queue()
    async with _worker(client, task_queue):
        handle = await client.start_workflow(
            WaitForCancelWorkflow.run, False, id=new_id("terminate"), task_queue=task_queue
        )
        await handle.terminate("ticket-42", reason="operator said so")
        with pytest.raises(WorkflowFailureError) as exc_info:
            await handle.result()
        description = await handle.describe()
        events = await history_events(handle)
    assert isinstance(exc_info.value.cause, TerminatedError)
    assert exc_info.value.cause.message == "operator said so"
    assert list(exc_info.value.cause.details) == ["ticket-42"]
    assert description.status == WorkflowExecutionStatus.TERMINATED
    assert event_name(events[-1]) == "WORKFLOW_EXECUTION_TERMINATED"
    assert events[-1].workflow_execution_terminated_event_attributes.reason == "operator said so"
    # Terminating a closed workflow is an error.
    with pytest.raises(RPCError) as again:
        await handle.terminate(reason="twice")
    assert again.value.status == RPCStatusCode.NOT_FOUND


async def test_continue_as_new_chain(client: Client) -> None:
    task_queue = new_task_queue()
    workflow_id = new_id("countdown")
    async with _worker(client, task_queue):
        handle = await client.start_workflow(
            CountdownWorkflow.run, CountdownInput(2), id=workflow_id, task_queue=task_queue
        )
        first_run_id = handle.result_run_id
        assert first_run_id
        assert await handle.result() == "finished after 3 runs"

        first = client.get_workflow_handle(workflow_id, run_id=first_run_id)
        assert (await first.describe()).status == WorkflowExecutionStatus.CONTINUED_AS_NEW
        first_events = await history_events(first)
        latest = await client.get_workflow_handle(workflow_id).describe()
        latest_events = await history_events(
            client.get_workflow_handle(workflow_id, run_id=latest.run_id)
        )

    assert event_name(first_events[-1]) == "WORKFLOW_EXECUTION_CONTINUED_AS_NEW"
    continued = first_events[-1].workflow_execution_continued_as_new_event_attributes
    second_run_id = continued.new_execution_run_id
    assert second_run_id and second_run_id != first_run_id

    assert latest.status == WorkflowExecutionStatus.COMPLETED
    assert latest.run_id not in (first_run_id, second_run_id)
    started = latest_events[0].workflow_execution_started_event_attributes
    assert started.first_execution_run_id == first_run_id
    assert started.continued_execution_run_id == second_run_id
    assert event_name(latest_events[-1]) == "WORKFLOW_EXECUTION_COMPLETED"


async def test_duplicate_id_while_running_is_rejected(client: Client) -> None:
    task_queue = new_task_queue()
    workflow_id = new_id("dup")
    handle = await client.start_workflow(
        WaitForCancelWorkflow.run, False, id=workflow_id, task_queue=task_queue
    )
    with pytest.raises(WorkflowAlreadyStartedError) as exc_info:
        await client.start_workflow(
            WaitForCancelWorkflow.run, False, id=workflow_id, task_queue=task_queue
        )
    assert exc_info.value.run_id == handle.result_run_id
    await handle.terminate(reason="cleanup")


@pytest.mark.parametrize(
    ("first_outcome", "policy", "allowed"),
    [
        ("completed", WorkflowIDReusePolicy.ALLOW_DUPLICATE, True),
        ("completed", WorkflowIDReusePolicy.REJECT_DUPLICATE, False),
        ("completed", WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY, False),
        ("failed", WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY, True),
        ("failed", WorkflowIDReusePolicy.REJECT_DUPLICATE, False),
    ],
)
async def test_id_reuse_policy(
    client: Client, first_outcome: str, policy: WorkflowIDReusePolicy, allowed: bool
) -> None:
    task_queue = new_task_queue()
    workflow_id = new_id("reuse")
    first_workflow = EchoWorkflow.run if first_outcome == "completed" else FailingWorkflow.run
    async with _worker(client, task_queue):
        first = await client.start_workflow(
            first_workflow, "one", id=workflow_id, task_queue=task_queue
        )
        try:
            await first.result()
        except WorkflowFailureError:
            assert first_outcome == "failed"

        async def start_again():
            return await client.start_workflow(
                EchoWorkflow.run,
                "two",
                id=workflow_id,
                task_queue=task_queue,
                id_reuse_policy=policy,
            )

        if allowed:
            second = await start_again()
            assert second.result_run_id != first.result_run_id
            assert await second.result() == "echo two"
        else:
            with pytest.raises(WorkflowAlreadyStartedError) as exc_info:
                await start_again()
            assert exc_info.value.run_id == first.result_run_id


async def test_id_conflict_policies(client: Client) -> None:
    task_queue = new_task_queue()
    workflow_id = new_id("conflict")

    async def start(policy: WorkflowIDConflictPolicy):
        return await client.start_workflow(
            WaitForCancelWorkflow.run,
            False,
            id=workflow_id,
            task_queue=task_queue,
            id_conflict_policy=policy,
        )

    original = await start(WorkflowIDConflictPolicy.FAIL)
    with pytest.raises(WorkflowAlreadyStartedError):
        await start(WorkflowIDConflictPolicy.FAIL)

    existing = await start(WorkflowIDConflictPolicy.USE_EXISTING)
    assert existing.result_run_id == original.result_run_id

    replacement = await start(WorkflowIDConflictPolicy.TERMINATE_EXISTING)
    assert replacement.result_run_id != original.result_run_id
    old_run = client.get_workflow_handle(workflow_id, run_id=original.result_run_id)
    assert (await old_run.describe()).status == WorkflowExecutionStatus.TERMINATED
    current = await client.get_workflow_handle(workflow_id).describe()
    assert current.run_id == replacement.result_run_id
    assert current.status == WorkflowExecutionStatus.RUNNING
    await replacement.terminate(reason="cleanup")


async def test_start_request_id_is_deduplicated(client: Client) -> None:
    workflow_id = new_id("request-id")

    def request(request_id: str) -> StartWorkflowExecutionRequest:
        return StartWorkflowExecutionRequest(
            namespace=client.namespace,
            workflow_id=workflow_id,
            workflow_type=WorkflowType(name="WaitForCancelWorkflow"),
            task_queue=TaskQueue(name=new_task_queue()),
            request_id=request_id,
            identity="conformance-test",
        )

    request_id = str(uuid4())
    first = await client.workflow_service.start_workflow_execution(request(request_id))
    retried = await client.workflow_service.start_workflow_execution(request(request_id))
    assert first.run_id
    assert retried.run_id == first.run_id

    with pytest.raises(RPCError) as exc_info:
        await client.workflow_service.start_workflow_execution(request(str(uuid4())))
    assert exc_info.value.status == RPCStatusCode.ALREADY_EXISTS

    handle = client.get_workflow_handle(workflow_id)
    assert (await event_types(handle)).count("WORKFLOW_EXECUTION_STARTED") == 1
    await handle.terminate(reason="cleanup")


async def test_start_delay_postpones_first_workflow_task(client: Client) -> None:
    task_queue = new_task_queue()
    async with _worker(client, task_queue):
        started_at = time.monotonic()
        handle = await client.start_workflow(
            EchoWorkflow.run,
            "later",
            id=new_id("delayed"),
            task_queue=task_queue,
            start_delay=timedelta(seconds=1.5),
        )
        events = await history_events(handle)
        assert [event_name(e) for e in events] == ["WORKFLOW_EXECUTION_STARTED"]
        attrs = events[0].workflow_execution_started_event_attributes
        assert attrs.first_workflow_task_backoff.ToTimedelta() == timedelta(seconds=1.5)
        description = await handle.describe()
        assert description.execution_time is not None
        assert description.execution_time - description.start_time >= timedelta(seconds=1.4)

        assert await handle.result() == "echo later"
        assert time.monotonic() - started_at >= 1.4


@pytest.mark.parametrize("timeout_kind", ["run_timeout", "execution_timeout"])
async def test_workflow_timeout(client: Client, timeout_kind: str) -> None:
    task_queue = new_task_queue()
    async with _worker(client, task_queue):
        started_at = time.monotonic()
        handle = await client.start_workflow(
            SleepForWorkflow.run,
            30.0,
            id=new_id("timeout"),
            task_queue=task_queue,
            run_timeout=timedelta(seconds=1) if timeout_kind == "run_timeout" else None,
            execution_timeout=timedelta(seconds=1) if timeout_kind == "execution_timeout" else None,
        )
        with pytest.raises(WorkflowFailureError) as exc_info:
            await handle.result()
        elapsed = time.monotonic() - started_at
        description = await handle.describe()
        names = await event_types(handle)
    assert isinstance(exc_info.value.cause, TimeoutError)
    assert 0.9 <= elapsed < 5
    assert description.status == WorkflowExecutionStatus.TIMED_OUT
    assert names[-1] == "WORKFLOW_EXECUTION_TIMED_OUT"
    assert "TIMER_FIRED" not in names


async def test_workflow_retry_policy_starts_new_run(client: Client) -> None:
    task_queue = new_task_queue()
    workflow_id = new_id("retried")
    async with _worker(client, task_queue):
        handle = await client.start_workflow(
            RetriedWorkflow.run,
            id=workflow_id,
            task_queue=task_queue,
            retry_policy=RetryPolicy(
                initial_interval=timedelta(milliseconds=100), maximum_attempts=3
            ),
        )
        assert await handle.result() == 2
        first = client.get_workflow_handle(workflow_id, run_id=handle.result_run_id)
        first_events = await history_events(first)
        assert (await first.describe()).status == WorkflowExecutionStatus.FAILED
    close = first_events[-1]
    assert event_name(close) == "WORKFLOW_EXECUTION_FAILED"
    new_run_id = close.workflow_execution_failed_event_attributes.new_execution_run_id
    assert new_run_id and new_run_id != handle.result_run_id


async def test_cron_schedule_runs_are_chained(client: Client) -> None:
    task_queue = new_task_queue()
    workflow_id = new_id("cron")
    async with _worker(client, task_queue):
        handle = await client.start_workflow(
            CronTickWorkflow.run,
            id=workflow_id,
            task_queue=task_queue,
            cron_schedule="@every 2s",
        )
        first_run_id = handle.result_run_id
        first = client.get_workflow_handle(workflow_id, run_id=first_run_id)
        start_attrs = (await history_events(first))[0].workflow_execution_started_event_attributes
        assert start_attrs.cron_schedule == "@every 2s"
        backoff = start_attrs.first_workflow_task_backoff.ToTimedelta()
        assert timedelta(0) < backoff <= timedelta(seconds=2)

        # The first run executes at its scheduled time and chains to the next run.
        first_events = await eventually(
            lambda: history_events(first),
            lambda events: event_name(events[-1]) == "WORKFLOW_EXECUTION_COMPLETED",
            timeout=5,
        )
        completed = first_events[-1].workflow_execution_completed_event_attributes
        next_run_id = completed.new_execution_run_id
        assert next_run_id and next_run_id != first_run_id
        assert (await first.describe()).status == WorkflowExecutionStatus.COMPLETED

        next_run = client.get_workflow_handle(workflow_id, run_id=next_run_id)
        next_start = (await history_events(next_run))[0].workflow_execution_started_event_attributes
        assert next_start.cron_schedule == "@every 2s"
        assert next_start.continued_execution_run_id == first_run_id
        assert (
            next_start.initiator == ContinueAsNewInitiator.CONTINUE_AS_NEW_INITIATOR_CRON_SCHEDULE
        )
        assert next_start.first_workflow_task_backoff.ToTimedelta() > timedelta(0)
        await client.get_workflow_handle(workflow_id).terminate(reason="stop cron")


async def test_memo_is_visible_to_workflow_and_describe(client: Client) -> None:
    task_queue = new_task_queue()
    async with _worker(client, task_queue):
        handle = await client.start_workflow(
            MemoWorkflow.run,
            id=new_id("memo"),
            task_queue=task_queue,
            memo={"color": "teal", "size": 3},
        )
        assert await handle.result() == "teal"
        description = await handle.describe()
    assert await description.memo() == {"color": "teal", "size": 3}


async def _ensure_tier_search_attribute(client: Client) -> None:
    listed = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=client.namespace)
    )
    if TIER.name in listed.custom_attributes:
        return
    try:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(
                namespace=client.namespace,
                search_attributes={TIER.name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD},
            )
        )
    except RPCError as err:  # registered concurrently
        assert err.status == RPCStatusCode.ALREADY_EXISTS
    listed = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=client.namespace)
    )
    assert listed.custom_attributes[TIER.name] == IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD


async def test_search_attributes_at_start_and_via_upsert(client: Client) -> None:
    await _ensure_tier_search_attribute(client)
    task_queue = new_task_queue()
    async with _worker(client, task_queue):
        handle = await client.start_workflow(
            UpsertTierWorkflow.run,
            "gold",
            id=new_id("upsert"),
            task_queue=task_queue,
            search_attributes=TypedSearchAttributes([SearchAttributePair(TIER, "bronze")]),
        )
        await eventually(
            lambda: event_types(handle),
            lambda names: "UPSERT_WORKFLOW_SEARCH_ATTRIBUTES" in names,
        )
        running = await handle.describe()
        assert running.typed_search_attributes.get(TIER) == "gold"
        await handle.signal(UpsertTierWorkflow.finish)
        assert await handle.result() == "gold"
        events = await history_events(handle)
    started = events[0].workflow_execution_started_event_attributes
    assert "CsflowTestTier" in started.search_attributes.indexed_fields
    (upsert,) = events_of(events, "UPSERT_WORKFLOW_SEARCH_ATTRIBUTES")
    fields = upsert.upsert_workflow_search_attributes_event_attributes.search_attributes
    assert "CsflowTestTier" in fields.indexed_fields


async def test_failed_workflow_task_is_retried_until_the_workflow_can_progress(
    client: Client,
) -> None:
    task_queue = new_task_queue()
    async with _worker(client, task_queue):
        handle = await client.start_workflow(
            PickyWorkflow.run,
            id=new_id("picky"),
            task_queue=task_queue,
            task_timeout=timedelta(seconds=1),
        )
        await handle.signal(PickyWorkflow.set_value, "bad")
        await eventually(lambda: event_types(handle), lambda names: "WORKFLOW_TASK_FAILED" in names)
        assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
        await handle.signal(PickyWorkflow.set_value, "good")
        assert await handle.result() == "good"
        events = await history_events(handle)

    failed = events_of(events, "WORKFLOW_TASK_FAILED")[0].workflow_task_failed_event_attributes
    assert "workflow bug triggered by a bad value" in failed.failure.message
    assert event_name(events[-1]) == "WORKFLOW_EXECUTION_COMPLETED"


async def test_result_through_handle_without_run_id(client: Client) -> None:
    task_queue = new_task_queue()
    workflow_id = new_id("by-id")
    async with _worker(client, task_queue):
        await client.start_workflow(
            SleepForWorkflow.run, 1.0, id=workflow_id, task_queue=task_queue
        )
        handle = client.get_workflow_handle(workflow_id, result_type=str)
        assert handle.run_id is None
        assert await handle.result() == "slept"
