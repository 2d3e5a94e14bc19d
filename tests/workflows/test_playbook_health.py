"""Health recompute: on input changes, nightly by schedule; Segment/HealthScore attributes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest_asyncio
from cs_doubles import Playground, playground, save_history, start_account
from cs_driver import advance_until, event, terminate_running
from temporalio.testing import WorkflowEnvironment

from starter.api import journey_status
from worker import WORKFLOWS, client_activities


@pytest_asyncio.fixture
async def pg(ts_env: WorkflowEnvironment) -> AsyncIterator[Playground]:
    async for ground in playground(ts_env, WORKFLOWS, client_activities(ts_env.client)):
        yield ground
        await terminate_running(ts_env.client)


async def test_nightly_schedule_recomputes_every_journey_over_a_skipped_day(
    pg: Playground,
) -> None:
    import uuid

    from starter.api import ensure_nightly_health_schedule

    accounts = [await start_account(pg, answer=False) for _ in range(2)]
    schedule_id = f"nightly-{uuid.uuid4().hex[:6]}"
    schedule = await ensure_nightly_health_schedule(
        pg.client, task_queue=pg.queue, schedule_id=schedule_id
    )
    same = await ensure_nightly_health_schedule(
        pg.client, task_queue=pg.queue, schedule_id=schedule_id
    )
    assert same.id == schedule.id
    await pg.env.sleep(timedelta(days=1))
    description = await schedule.describe()
    await schedule.delete()
    assert description.info.num_actions == 1
    assert description.info.recent_actions[0].scheduled_at.hour == 2
    for acct in accounts:
        status = await advance_until(
            pg.env,
            acct,
            lambda s: any(h.reason == "nightly" for h in s.health_history),
            step=timedelta(minutes=1),
        )
        nightly = [h for h in status.health_history if h.reason == "nightly"]
        assert len(nightly) == 1
    nightly_runs = [
        w async for w in pg.client.list_workflows("WorkflowType = 'NightlyHealthWorkflow'")
    ]
    assert nightly_runs
    await save_history(pg.client, nightly_runs[0].id, "NightlyHealthWorkflow-1")


async def test_health_changes_move_the_segment_attributes(pg: Playground) -> None:
    acct = await start_account(pg)
    status = await journey_status(pg.client, acct)
    # Last scored while onboarding (the milestone usage reports).
    assert status.segment_key == "smb-healthy-onboarding" and status.health_score == 80
    await event(pg.client, acct, "usage_reported", active_users=8, licensed_seats=10)
    await event(pg.client, acct, "usage_reported", active_users=1, licensed_seats=10)
    status = await journey_status(pg.client, acct)
    assert status.segment_key == "smb-critical-adoption" and status.health_score == 10
    assert [h.segment for h in status.health_history][-3:] == [
        "smb-healthy-onboarding",
        "smb-healthy-adoption",
        "smb-critical-adoption",
    ]
    query = f"CustomerId = '{acct}' AND Segment STARTS_WITH 'smb' AND HealthScore < 40"
    listed = [w.id async for w in pg.client.list_workflows(query)]
    assert listed == [f"journey-{acct}"]


async def test_deferred_emails_sleep_until_not_before_and_go_out_once(pg: Playground) -> None:
    pg.crm.defer_first = timedelta(hours=10)
    acct = await start_account(pg, answer=False)
    first = f"requirements-{acct}"
    await advance_until(
        pg.env, acct, lambda s: s.stage == "requirements", step=timedelta(minutes=1)
    )
    assert pg.crm.email_sends == {}  # held by the governor
    await pg.env.sleep(timedelta(hours=11))
    sent = [e for e in pg.crm.emails if e.workflow_id == first]
    assert sent, "the deferred email went out after not_before"
    key = sent[0].idempotency_key
    calls = [e for _, e in pg.crm.calls if getattr(e, "idempotency_key", None) == key]
    assert len(calls) == 2 and calls[0].now is not None
    assert calls[1].now is not None and calls[1].now >= calls[0].now + timedelta(hours=10)
    assert pg.crm.email_sends[key] == 1
