"""Temporal Schedules on the devserver, fired on virtual time."""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise
from uuid import uuid4

import pytest
from schedule_workflows import NightlyHealthScoring
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleBackfill,
    ScheduleCalendarSpec,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleState,
)
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker


async def _finish(client: Client, task_queue: str) -> None:
    """Let every run the schedule started complete while the worker is still there: a run left
    waiting for a worker would hold the shared time-skipping clock still for later tests."""
    async for execution in client.list_workflows(
        f"TaskQueue = '{task_queue}' AND ExecutionStatus = 'Running'"
    ):
        await client.get_workflow_handle(execution.id, run_id=execution.run_id).result()


def _hourly(task_queue: str, workflow_id: str) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            NightlyHealthScoring.run, id=workflow_id, task_queue=task_queue
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(hours=1))]),
    )


async def test_hourly_schedule_fires_24_times_over_a_skipped_day(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    client = time_skipping_env.client
    task_queue = f"schedules-{uuid4()}"
    workflow_id = f"scoring-{uuid4()}"
    async with Worker(client, task_queue=task_queue, workflows=[NightlyHealthScoring]):
        handle = await client.create_schedule(f"hourly-{uuid4()}", _hourly(task_queue, workflow_id))
        start = await time_skipping_env.get_current_time()
        await time_skipping_env.sleep(timedelta(days=1))
        description = await handle.describe()
        await _finish(client, task_queue)
        await handle.delete()

    assert description.info.num_actions == 24
    assert description.info.num_actions_missed_catchup_window == 0
    times = [action.scheduled_at for action in description.info.recent_actions]
    assert all(later - earlier == timedelta(hours=1) for earlier, later in pairwise(times))
    assert all(start < t <= start + timedelta(days=1) for t in times)
    # Each action started a workflow named after its nominal time, and each one completed.
    started = [w async for w in client.list_workflows(f"WorkflowId STARTS_WITH '{workflow_id}-'")]
    assert len(started) == 24
    assert {w.status.name for w in started if w.status} == {"COMPLETED"}
    assert all(w.search_attributes.get("TemporalScheduledById") for w in started)


async def test_describe_pause_trigger_and_delete(time_skipping_env: WorkflowEnvironment) -> None:
    client = time_skipping_env.client
    task_queue = f"schedules-{uuid4()}"
    schedule_id = f"weekly-{uuid4()}"
    schedule = Schedule(
        action=ScheduleActionStartWorkflow(
            NightlyHealthScoring.run, id=f"digest-{uuid4()}", task_queue=task_queue
        ),
        spec=ScheduleSpec(
            calendars=[
                ScheduleCalendarSpec(
                    day_of_week=[ScheduleRange(1)], hour=[ScheduleRange(9)], comment="Mondays 9am"
                )
            ]
        ),
        state=ScheduleState(note="weekly CSM digest"),
    )
    async with Worker(client, task_queue=task_queue, workflows=[NightlyHealthScoring]):
        handle = await client.create_schedule(schedule_id, schedule)
        with pytest.raises(ScheduleAlreadyRunningError):
            await client.create_schedule(schedule_id, schedule)

        description = await handle.describe()
        assert description.schedule.state.note == "weekly CSM digest"
        assert list(description.schedule.spec.calendars[0].hour) == [ScheduleRange(9, 9, 1)]
        upcoming = description.info.next_action_times
        assert len(upcoming) == 5
        assert all(t.weekday() == 0 and t.hour == 9 and t.minute == 0 for t in upcoming)

        await handle.pause(note="holiday freeze")
        paused = await handle.describe()
        assert paused.schedule.state.paused and paused.schedule.state.note == "holiday freeze"
        await time_skipping_env.sleep(timedelta(days=8))
        assert (await handle.describe()).info.num_actions == 0

        await handle.trigger(overlap=ScheduleOverlapPolicy.ALLOW_ALL)
        assert (await handle.describe()).info.num_actions == 1
        await handle.unpause()
        listed = [s.id async for s in await client.list_schedules()]
        assert schedule_id in listed
        await _finish(client, task_queue)
        await handle.delete()
    with pytest.raises(RPCError):
        await handle.describe()


async def test_backfill_runs_every_matching_time(time_skipping_env: WorkflowEnvironment) -> None:
    client = time_skipping_env.client
    task_queue = f"schedules-{uuid4()}"
    async with Worker(client, task_queue=task_queue, workflows=[NightlyHealthScoring]):
        schedule = _hourly(task_queue, f"backfill-{uuid4()}")
        schedule.state = ScheduleState(paused=True)
        handle = await client.create_schedule(f"backfill-{uuid4()}", schedule)
        now = await time_skipping_env.get_current_time()
        start = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=10)
        await handle.backfill(
            ScheduleBackfill(
                start_at=start,
                end_at=start + timedelta(hours=5),
                overlap=ScheduleOverlapPolicy.ALLOW_ALL,
            )
        )
        description = await handle.describe()
        await _finish(client, task_queue)
        await handle.delete()
    # Both ends of the range count: hours 0 to 5 inclusive.
    assert description.info.num_actions == 6
    assert [a.scheduled_at for a in description.info.recent_actions] == [
        start + timedelta(hours=h) for h in range(6)
    ]


async def test_invalid_spec_is_refused_with_the_field_named(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    client = time_skipping_env.client
    schedule = Schedule(
        action=ScheduleActionStartWorkflow(
            NightlyHealthScoring.run, id="never", task_queue="never"
        ),
        spec=ScheduleSpec(cron_expressions=["0 25 * * *"]),
    )
    with pytest.raises(RPCError) as error:
        await client.create_schedule(f"bad-{uuid4()}", schedule)
    assert "hour" in str(error.value)
