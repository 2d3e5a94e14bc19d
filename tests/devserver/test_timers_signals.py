"""Timers, signals and signal-with-start on the devserver."""

from __future__ import annotations

from datetime import timedelta

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
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker
from wf_timers_signals import (
    WORKFLOWS,
    CancellableTimerWorkflow,
    CollectSignalsWorkflow,
    SleepWorkflow,
)


async def test_timer_fires_after_its_duration(client: Client) -> None:
    task_queue = new_task_queue()
    async with Worker(client, task_queue=task_queue, workflows=WORKFLOWS):
        handle = await client.start_workflow(
            SleepWorkflow.run, 1.0, id=new_id("sleep"), task_queue=task_queue
        )
        elapsed = await handle.result()
        events = await history_events(handle)

    assert 1.0 <= elapsed < 3.0
    assert [event_name(e) for e in events] == [
        "WORKFLOW_EXECUTION_STARTED",
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
    started, fired = events[4], events[5]
    timer_attrs = started.timer_started_event_attributes
    assert timer_attrs.start_to_fire_timeout.ToTimedelta() == timedelta(seconds=1)
    assert fired.timer_fired_event_attributes.timer_id == timer_attrs.timer_id
    assert fired.timer_fired_event_attributes.started_event_id == started.event_id
    assert (fired.event_time.ToDatetime() - started.event_time.ToDatetime()) >= timedelta(
        seconds=0.95
    )
    # Event ids are dense and start at 1.
    assert [e.event_id for e in events] == list(range(1, len(events) + 1))


async def test_timer_cancelled_by_signal(client: Client) -> None:
    task_queue = new_task_queue()
    async with Worker(client, task_queue=task_queue, workflows=WORKFLOWS):
        handle = await client.start_workflow(
            CancellableTimerWorkflow.run, id=new_id("timer-cancel"), task_queue=task_queue
        )
        # Signal only once the timer is recorded, or the SDK never sends the timer at all.
        await eventually(lambda: event_types(handle), lambda names: "TIMER_STARTED" in names)
        await handle.signal(CancellableTimerWorkflow.wake)
        assert await handle.result() == "timer cancelled"
        names = await event_types(handle)

    assert "TIMER_FIRED" not in names
    assert names.index("TIMER_STARTED") < names.index("WORKFLOW_EXECUTION_SIGNALED")
    assert names.index("WORKFLOW_EXECUTION_SIGNALED") < names.index("TIMER_CANCELED")


async def test_signals_are_delivered_in_order(client: Client) -> None:
    task_queue = new_task_queue()
    async with Worker(client, task_queue=task_queue, workflows=WORKFLOWS):
        handle = await client.start_workflow(
            CollectSignalsWorkflow.run, id=new_id("signals"), task_queue=task_queue
        )
        for item in ["a", "b", "c", "d", "e"]:
            await handle.signal(CollectSignalsWorkflow.add, item)
        await handle.signal(CollectSignalsWorkflow.finish)
        assert await handle.result() == ["a", "b", "c", "d", "e"]
        events = await history_events(handle)

    signaled = events_of(events, "WORKFLOW_EXECUTION_SIGNALED")
    assert [e.workflow_execution_signaled_event_attributes.signal_name for e in signaled] == [
        "add",
        "add",
        "add",
        "add",
        "add",
        "finish",
    ]


async def test_signals_sent_before_any_worker_polls_are_kept(client: Client) -> None:
    task_queue = new_task_queue()
    handle = await client.start_workflow(
        CollectSignalsWorkflow.run, id=new_id("early-signals"), task_queue=task_queue
    )
    await handle.signal(CollectSignalsWorkflow.add, "first")
    await handle.signal(CollectSignalsWorkflow.add, "second")
    await handle.signal(CollectSignalsWorkflow.finish)
    async with Worker(client, task_queue=task_queue, workflows=WORKFLOWS):
        assert await handle.result() == ["first", "second"]
        names = await event_types(handle)
    # All three signals were applied by the single (first) workflow task.
    assert names[:4] == [
        "WORKFLOW_EXECUTION_STARTED",
        "WORKFLOW_TASK_SCHEDULED",
        "WORKFLOW_EXECUTION_SIGNALED",
        "WORKFLOW_EXECUTION_SIGNALED",
    ]
    assert names.count("WORKFLOW_TASK_COMPLETED") == 1
    assert names[-1] == "WORKFLOW_EXECUTION_COMPLETED"


async def test_signal_to_unknown_workflow_is_not_found(client: Client) -> None:
    handle = client.get_workflow_handle(new_id("does-not-exist"))
    with pytest.raises(RPCError) as exc_info:
        await handle.signal("add", "x")
    assert exc_info.value.status == RPCStatusCode.NOT_FOUND


async def test_signal_to_closed_workflow_is_not_found(client: Client) -> None:
    task_queue = new_task_queue()
    async with Worker(client, task_queue=task_queue, workflows=WORKFLOWS):
        handle = await client.start_workflow(
            CollectSignalsWorkflow.run,
            id=new_id("closed"),
            task_queue=task_queue,
            start_signal="finish",
        )
        assert await handle.result() == []
    with pytest.raises(RPCError) as exc_info:
        await handle.signal(CollectSignalsWorkflow.add, "too late")
    assert exc_info.value.status == RPCStatusCode.NOT_FOUND
    assert (await event_types(handle)).count("WORKFLOW_EXECUTION_SIGNALED") == 1


async def test_signal_with_start_starts_then_signals_existing(client: Client) -> None:
    task_queue = new_task_queue()
    workflow_id = new_id("signal-with-start")
    async with Worker(client, task_queue=task_queue, workflows=WORKFLOWS):
        first = await client.start_workflow(
            CollectSignalsWorkflow.run,
            id=workflow_id,
            task_queue=task_queue,
            start_signal="add",
            start_signal_args=["x"],
        )
        second = await client.start_workflow(
            CollectSignalsWorkflow.run,
            id=workflow_id,
            task_queue=task_queue,
            start_signal="add",
            start_signal_args=["y"],
        )
        # The second call found the running workflow and only signalled it.
        assert second.result_run_id == first.result_run_id
        await first.signal(CollectSignalsWorkflow.finish)
        assert await first.result() == ["x", "y"]
        names = await event_types(first)

    assert names[:3] == [
        "WORKFLOW_EXECUTION_STARTED",
        "WORKFLOW_EXECUTION_SIGNALED",
        "WORKFLOW_TASK_SCHEDULED",
    ]
    assert names.count("WORKFLOW_EXECUTION_STARTED") == 1
    assert names.count("WORKFLOW_EXECUTION_SIGNALED") == 3
