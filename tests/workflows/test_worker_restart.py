from __future__ import annotations

import uuid
from datetime import timedelta

from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain.models import LifecycleStage
from starter.api import start_journey
from tests.support.cs_doubles import FakeCrm
from tests.support.cs_driver import advance_until, event
from tests.support.cs_fixtures import journey_input
from workflows.catalog import WORKFLOWS
from workflows.customer_event import CustomerEvent


async def test_new_worker_mid_journey_sends_nothing_twice_and_skips_nothing(
    ts_env: WorkflowEnvironment,
):
    crm = FakeCrm()
    queue = f"tq-{uuid.uuid4()}"
    acct = f"restart-{uuid.uuid4().hex[:6]}"
    today = (await ts_env.get_current_time()).date()
    # No sticky queue for the worker that goes away: Temporal's test server would hand the next
    # workflow task to its dead sticky queue and, with virtual time locked meanwhile, never
    # reach the sticky timeout that moves it back to the shared queue.
    async with Worker(
        ts_env.client,
        task_queue=queue,
        workflows=WORKFLOWS,
        activities=crm.activities,
        max_cached_workflows=0,
    ):
        await start_journey(
            ts_env.client,
            journey_input(acct, contract_start=today),
            CustomerEvent(account_id=acct, type="payment_received"),
            task_queue=queue,
        )
        await event(
            ts_env.client,
            acct,
            "questionnaire_answered",
            reasons_for_purchase="x",
            intended_use="y",
        )
        await advance_until(ts_env, acct, lambda s: s.stage == LifecycleStage.ONBOARDING)
    sent_before = set(crm.email_sends)

    # A fresh worker (empty workflow cache) replays every history and carries on.
    async with Worker(
        ts_env.client, task_queue=queue, workflows=WORKFLOWS, activities=crm.activities
    ):
        await ts_env.sleep(timedelta(days=15))  # webinar (day 14) is due
        await event(ts_env.client, acct, "usage_reported", milestone="first_login")
        await event(ts_env.client, acct, "usage_reported", milestone="first_key_action")
        await advance_until(ts_env, acct, lambda s: s.stage == LifecycleStage.ADOPTION)

    assert all(count == 1 for count in crm.email_sends.values()), crm.email_sends
    assert sent_before < set(crm.email_sends)
    steps = {key.split(":", 1)[1] for key in crm.email_sends}
    assert {
        "introduction",
        "questionnaire",
        "kickoff",
        "webinar",
        "complete",
        "csat:email",
    } <= steps
