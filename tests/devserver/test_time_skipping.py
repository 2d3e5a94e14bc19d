"""Time skipping: the devserver as Temporal's test server (`devserver PORT`)."""

from __future__ import annotations

import time
from datetime import timedelta
from itertools import pairwise
from uuid import uuid4

from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker
from time_skipping_workflows import (
    ATTEMPT_TIMES,
    RenewalCountdown,
    SyncWithHourlyBackoff,
    WaitForReplyOrTimeout,
    WeeklyCheckIns,
    flaky_crm_sync,
)


async def test_a_400_day_sleep_completes_in_under_two_seconds(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    client = time_skipping_env.client
    task_queue = f"ts-{uuid4()}"
    async with Worker(client, task_queue=task_queue, workflows=[RenewalCountdown]):
        before = await time_skipping_env.get_current_time()
        wall = time.monotonic()
        days = await client.execute_workflow(
            RenewalCountdown.run, 400, id=f"countdown-{uuid4()}", task_queue=task_queue
        )
        elapsed = time.monotonic() - wall
        after = await time_skipping_env.get_current_time()
    assert days == 400
    assert elapsed < 2.0
    assert after - before >= timedelta(days=400)


async def test_a_year_of_weekly_timers(time_skipping_env: WorkflowEnvironment) -> None:
    client = time_skipping_env.client
    task_queue = f"ts-{uuid4()}"
    async with Worker(client, task_queue=task_queue, workflows=[WeeklyCheckIns]):
        handle = await client.start_workflow(
            WeeklyCheckIns.run, 52, id=f"weekly-{uuid4()}", task_queue=task_queue
        )
        assert await handle.result() == 52
        fired = [
            e
            async for e in handle.fetch_history_events()
            if e.HasField("timer_fired_event_attributes")
        ]
    assert len(fired) == 52
    gaps = [(b.event_time.ToDatetime() - a.event_time.ToDatetime()) for a, b in pairwise(fired)]
    assert all(timedelta(days=7) <= gap < timedelta(days=7, seconds=5) for gap in gaps)


async def test_env_sleep_moves_virtual_time_and_fires_timers(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    client = time_skipping_env.client
    task_queue = f"ts-{uuid4()}"
    async with Worker(client, task_queue=task_queue, workflows=[WaitForReplyOrTimeout]):
        silent = await client.start_workflow(
            WaitForReplyOrTimeout.run, id=f"silent-{uuid4()}", task_queue=task_queue
        )
        answering = await client.start_workflow(
            WaitForReplyOrTimeout.run, id=f"answering-{uuid4()}", task_queue=task_queue
        )
        before = await time_skipping_env.get_current_time()
        await time_skipping_env.sleep(timedelta(days=3))
        middle = await time_skipping_env.get_current_time()
        await answering.signal(WaitForReplyOrTimeout.reply)
        assert await answering.result() == "replied"
        assert await silent.result() == "no reply after 14 days"
    assert timedelta(days=3) <= middle - before < timedelta(days=3, minutes=1)


async def test_retry_backoff_runs_on_virtual_time(time_skipping_env: WorkflowEnvironment) -> None:
    client = time_skipping_env.client
    task_queue = f"ts-{uuid4()}"
    ATTEMPT_TIMES.clear()
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=[SyncWithHourlyBackoff],
        activities=[flaky_crm_sync],
    ):
        wall = time.monotonic()
        result = await client.execute_workflow(
            SyncWithHourlyBackoff.run, id=f"sync-{uuid4()}", task_queue=task_queue
        )
        elapsed = time.monotonic() - wall
    assert result == "synced on attempt 3"
    assert elapsed < 5.0
    first, second, third = ATTEMPT_TIMES
    assert 3600 <= second - first < 3660  # 1 h initial interval
    assert 7200 <= third - second < 7260  # doubled
