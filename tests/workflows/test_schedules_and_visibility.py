"""What only a full Temporal server serves, on `temporal server start-dev` in real time:
Schedules (the nightly health recompute, scheduled campaigns) and visibility (every workflow of
an account found by its search attributes)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

import pytest_asyncio
from temporalio.client import ScheduleIntervalSpec, ScheduleSpec, WorkflowExecution
from temporalio.testing import WorkflowEnvironment

from domain.models import Segment
from domain.segment_query import SegmentQuery
from starter.api import (
    ensure_nightly_health_schedule,
    journey_status,
    schedule_campaign,
    send_event,
)
from tests.support.cs_doubles import Playground, playground, save_history, start_account
from workflows import search_attributes as sa
from workflows.campaign import CampaignInput, CampaignKind
from workflows.catalog import WORKFLOWS
from workflows.customer_event import CustomerEvent

T = TypeVar("T")


@pytest_asyncio.fixture
async def pg(dev_env: WorkflowEnvironment) -> AsyncIterator[Playground]:
    async for ground in playground(dev_env, WORKFLOWS):
        yield ground


async def eventually(
    probe: Callable[[], Awaitable[T]], check: Callable[[T], bool], seconds: float = 20
) -> T:
    """Poll in real time (visibility is eventually consistent; schedules run asynchronously)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        value = await probe()
        if check(value) or asyncio.get_running_loop().time() > deadline:
            return value
        await asyncio.sleep(0.2)


async def listed(pg: Playground, query: str) -> list[WorkflowExecution]:
    return [w async for w in pg.client.list_workflows(query)]


async def test_nightly_schedule_is_idempotent_and_recomputes_every_journey(
    pg: Playground,
) -> None:
    accounts = [await start_account(pg, answer=False) for _ in range(2)]
    schedule_id = f"nightly-{uuid.uuid4().hex[:6]}"
    schedule = await ensure_nightly_health_schedule(
        pg.client, task_queue=pg.queue, schedule_id=schedule_id
    )
    same = await ensure_nightly_health_schedule(
        pg.client, task_queue=pg.queue, schedule_id=schedule_id
    )
    assert same.id == schedule.id
    try:
        description = await schedule.describe()
        calendar = description.schedule.spec.calendars[0]
        assert [(r.start, r.end) for r in calendar.hour] == [(2, 2)]
        assert description.info.next_action_times[0].hour == 2
        # Run it now, as the server would at 02:00.
        await schedule.trigger()
        description = await eventually(
            schedule.describe, lambda d: bool(d.info.recent_actions), seconds=10
        )
    finally:
        await schedule.delete()
    run_id = description.info.recent_actions[0].action.workflow_id
    for acct in accounts:
        status = await eventually(
            lambda acct=acct: journey_status(pg.client, acct),  # type: ignore[misc]
            lambda s: any(h.reason == "nightly" for h in s.health_history),
        )
        assert [h.reason for h in status.health_history].count("nightly") == 1
    await pg.client.get_workflow_handle(run_id).result()
    await save_history(pg.client, run_id, "NightlyHealthWorkflow-1")


async def test_a_scheduled_renewal_campaign_reaches_only_its_segment(pg: Playground) -> None:
    smb = await start_account(pg, answer=False)
    enterprise = await start_account(pg, Segment.ENTERPRISE, answer=False)
    for acct in (smb, enterprise):
        await journey_status(pg.client, acct)
    campaign = CampaignInput(
        campaign_id=f"renewals-{smb}",
        kind=CampaignKind.RENEWAL_OUTREACH,
        segment=SegmentQuery(segment_prefix="enterprise"),
    )
    schedule = await schedule_campaign(
        pg.client,
        campaign,
        ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(days=7))]),
        task_queue=pg.queue,
    )
    try:
        await schedule.trigger()
        description = await eventually(
            schedule.describe, lambda d: bool(d.info.recent_actions), seconds=10
        )
    finally:
        await schedule.delete()
    assert description.info.num_actions == 1
    result = await pg.client.get_workflow_handle(
        description.info.recent_actions[0].action.workflow_id
    ).result()
    assert (result["targeted"], result["delivered"]) == (1, 1)
    await eventually(lambda: journey_status(pg.client, enterprise), lambda s: bool(s.campaigns))
    sends = [e for e in pg.crm.emails if e.category == "campaign"]
    assert [(e.account_id, e.template, e.to_contact_id) for e in sends] == [
        (enterprise, "renewal_outreach", f"{enterprise}-dm")
    ]
    assert "renewal_date" in sends[0].context
    assert (await journey_status(pg.client, smb)).campaigns == []


async def test_every_workflow_of_an_account_is_found_by_its_customer_id(pg: Playground) -> None:
    acct = await start_account(pg, answer=False)
    await send_event(
        pg.client,
        CustomerEvent(
            account_id=acct,
            type="ticket_opened",
            payload={"ticket_id": "T-1", "subject": "Login fails", "severity": "urgent"},
        ),
    )
    status = await journey_status(pg.client, acct)
    expected = {f"journey-{acct}", f"requirements-{acct}"}
    expected |= {e.escalation_id for e in status.escalations}
    expected |= {p.playbook_id for p in status.playbooks}
    assert len(expected) >= 3, "the ticket opens an escalation or a support playbook"

    family = await eventually(
        lambda: listed(pg, f"CustomerId = '{acct}'"),
        lambda found: {w.id for w in found} >= expected,
    )
    assert {w.id for w in family} == expected
    for execution in family:
        attributes = execution.typed_search_attributes
        assert attributes.get(sa.CSM_OWNER) == "csm@csflow.example"
        assert attributes.get(sa.SEGMENT, "").startswith("smb")
        assert attributes.get(sa.LIFECYCLE_STAGE)
    # The stage child's Web UI row says what it is about.
    child = await pg.client.get_workflow_handle(f"requirements-{acct}").describe()
    assert await child.static_summary() == f"Account {acct}: requirements gathering"
    journey = await pg.client.get_workflow_handle(f"journey-{acct}").describe()
    assert await journey.static_summary() == f"Account {acct}: customer journey"
    by_stage = await listed(
        pg, f"CustomerId = '{acct}' AND WorkflowType = 'CustomerJourneyWorkflow'"
    )
    assert [w.id for w in by_stage] == [f"journey-{acct}"]
