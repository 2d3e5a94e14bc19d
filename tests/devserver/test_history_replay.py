"""History from the devserver: exact event sequences, paging, JSON round trip and replay with
temporalio.worker.Replayer (deterministic replay passes, a changed workflow is caught)."""

from __future__ import annotations

import pytest
from ds_support import event_name, history_events, new_id, new_task_queue
from temporalio import workflow
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.workflowservice.v1 import GetWorkflowExecutionHistoryRequest
from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Replayer, Worker
from wf_history_replay import (
    ChangedReplayGreetingWorkflow,
    PlainTimerActivityWorkflow,
    ReplayGreetingWorkflow,
    compose_greeting,
)


async def _run_greeting(client: Client, *, max_cached_workflows: int = 1000):
    task_queue = new_task_queue()
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=[ReplayGreetingWorkflow],
        activities=[compose_greeting],
        max_cached_workflows=max_cached_workflows,
    ):
        handle = await client.start_workflow(
            ReplayGreetingWorkflow.run, "Ada", id=new_id("replay"), task_queue=task_queue
        )
        for suffix in [" :)", " !"]:
            await handle.signal(ReplayGreetingWorkflow.add_suffix, suffix)
        assert await handle.execute_update(ReplayGreetingWorkflow.finish) == 2
        assert await handle.result() == "Hello, Ada! :) !"
    return handle


async def test_activity_then_timer_history_sequence(client: Client) -> None:
    task_queue = new_task_queue()
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=[PlainTimerActivityWorkflow],
        activities=[compose_greeting],
    ):
        handle = await client.start_workflow(
            PlainTimerActivityWorkflow.run, "Grace", id=new_id("sequence"), task_queue=task_queue
        )
        assert await handle.result() == "Hello, Grace!"
        events = await history_events(handle)

    assert [event_name(e) for e in events] == [
        "WORKFLOW_EXECUTION_STARTED",
        "WORKFLOW_TASK_SCHEDULED",
        "WORKFLOW_TASK_STARTED",
        "WORKFLOW_TASK_COMPLETED",
        "ACTIVITY_TASK_SCHEDULED",
        "ACTIVITY_TASK_STARTED",
        "ACTIVITY_TASK_COMPLETED",
        "WORKFLOW_TASK_SCHEDULED",
        "WORKFLOW_TASK_STARTED",
        "WORKFLOW_TASK_COMPLETED",
        "TIMER_STARTED",
        "TIMER_FIRED",
        "WORKFLOW_TASK_SCHEDULED",
        "WORKFLOW_TASK_STARTED",
        "WORKFLOW_TASK_COMPLETED",
        "WORKFLOW_EXECUTION_COMPLETED",
    ]
    started = events[0].workflow_execution_started_event_attributes
    assert started.workflow_type.name == "PlainTimerActivityWorkflow"
    assert started.task_queue.name == task_queue
    scheduled = events[4].activity_task_scheduled_event_attributes
    assert scheduled.activity_type.name == "compose_greeting"
    assert scheduled.workflow_task_completed_event_id == events[3].event_id
    assert events[5].activity_task_started_event_attributes.scheduled_event_id == 5
    completed = events[6].activity_task_completed_event_attributes
    assert (completed.scheduled_event_id, completed.started_event_id) == (5, 6)
    task_started = events[2].workflow_task_started_event_attributes
    assert events[3].workflow_task_completed_event_attributes.started_event_id == 3
    assert task_started.scheduled_event_id == 2
    times = [e.event_time.ToDatetime() for e in events]
    assert times == sorted(times)


async def test_replay_of_server_history_is_deterministic(client: Client) -> None:
    handle = await _run_greeting(client)
    history = await handle.fetch_history()
    names = [event_name(e) for e in history.events]
    assert names.count("WORKFLOW_EXECUTION_SIGNALED") == 2
    assert names.count("WORKFLOW_EXECUTION_UPDATE_ACCEPTED") == 1
    assert names[-1] == "WORKFLOW_EXECUTION_COMPLETED"

    replayer = Replayer(workflows=[ReplayGreetingWorkflow], data_converter=client.data_converter)
    result = await replayer.replay_workflow(history)
    assert result.replay_failure is None

    # The history survives a JSON round trip (the format the CLI and UI export).
    reparsed = WorkflowHistory.from_json(handle.id, history.to_json())
    assert len(reparsed.events) == len(history.events)
    await replayer.replay_workflow(reparsed)


async def test_replay_detects_nondeterminism(client: Client) -> None:
    handle = await _run_greeting(client)
    history = await handle.fetch_history()
    replayer = Replayer(
        workflows=[ChangedReplayGreetingWorkflow], data_converter=client.data_converter
    )
    with pytest.raises(workflow.NondeterminismError):
        await replayer.replay_workflow(history)


async def test_worker_without_cache_refetches_full_history(client: Client) -> None:
    # With no workflow cache every task is a full replay from history served by the server.
    handle = await _run_greeting(client, max_cached_workflows=0)
    history = await handle.fetch_history()
    replayer = Replayer(workflows=[ReplayGreetingWorkflow], data_converter=client.data_converter)
    await replayer.replay_workflow(history)


async def test_history_paging_with_small_pages(client: Client) -> None:
    handle = await _run_greeting(client)
    full = await history_events(handle)
    assert len(full) > 12

    paged: list[HistoryEvent] = []
    token = b""
    pages = 0
    while True:
        response = await client.workflow_service.get_workflow_execution_history(
            GetWorkflowExecutionHistoryRequest(
                namespace=client.namespace,
                execution=WorkflowExecution(workflow_id=handle.id),
                maximum_page_size=5,
                next_page_token=token,
            )
        )
        pages += 1
        assert len(response.history.events) <= 5
        paged.extend(response.history.events)
        token = response.next_page_token
        if not token:
            break
        assert pages < 100
    assert pages >= 3
    assert [e.event_id for e in paged] == [e.event_id for e in full]
    assert paged == full
