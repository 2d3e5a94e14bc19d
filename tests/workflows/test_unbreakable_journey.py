"""No input can break a journey: what it cannot apply it rejects, and it goes on."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio import activity
from temporalio.client import WorkflowFailureError, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities import Activities
from crm.database import Store
from crm.tables import ContactRow
from domain.models import EmailReceipt, EmailRequest, LifecycleStage
from starter.api import journey_status, start_journey
from tests.support.cs_doubles import FakeCrm, Playground, start_account
from tests.support.cs_driver import advance_until, event
from tests.support.cs_fixtures import journey_input
from workflows.campaign import CampaignKind, CampaignMessage
from workflows.catalog import WORKFLOWS
from workflows.customer_event import CustomerEvent, EventAck
from workflows.journey import CustomerJourneyWorkflow
from workflows.journey_state import JourneyInput
from workflows.nightly_health import HealthRecompute
from workflows.workflow_ids import journey_id

# An update the journey never answers fails the test here instead of hanging it.
ACK_WITHIN = 20


async def acked(pg: Playground, account_id: str, type_: str, **payload: object) -> EventAck:
    return await asyncio.wait_for(event(pg.client, account_id, type_, **payload), ACK_WITHIN)


async def nobody_left(pg: Playground, account_id: str) -> None:
    """Both contacts leave the company: the account has no reachable contact any more."""
    for suffix, name, role in (("champion", "Chris Champion", "champion"), ("dm", "Dana", "user")):
        contact = {
            "id": f"{account_id}-{suffix}",
            "name": name,
            "email": f"{suffix}@{account_id}.example",
            "role": role,
        }
        await acked(pg, account_id, "contact_changed", contact=contact, left=True)


async def test_an_event_the_journey_cannot_apply_is_rejected_and_the_next_one_processed(
    pg: Playground,
) -> None:
    acct = await start_account(pg)
    await nobody_left(pg, acct)
    before = await journey_status(pg.client, acct)

    # Valid on its own, but the support playbook needs a contact to talk to: applying the
    # event raises inside the journey (a ValueError, not a Temporal failure).
    ack = await acked(pg, acct, "ticket_opened", ticket_id="T-9", subject="Login broken")
    assert ack.rejected is not None and "no reachable contact" in ack.rejected
    assert ack.sequence == before.events_processed + 1

    # The event loop is alive: the next event is processed as usual.
    ack = await acked(pg, acct, "usage_reported", active_users=3, licensed_seats=10)
    assert ack.rejected is None and ack.sequence == before.events_processed + 2

    status = await journey_status(pg.client, acct)
    assert status.events_rejected == 1
    assert status.events_processed == before.events_processed + 2
    handle = pg.client.get_workflow_handle_for(CustomerJourneyWorkflow.run, journey_id(acct))
    timeline = await handle.query(CustomerJourneyWorkflow.timeline)
    [rejected] = [t for t in timeline if t.kind == "rejected_event"]
    assert rejected.summary.startswith("ticket_opened: ValueError: ")
    assert "no reachable contact" in rejected.summary
    # The CSM hears about it once.
    [alert] = [a for a in pg.crm.alerts if "not applied" in a.subject]
    assert alert.subject == "Customer event not applied: ticket_opened"
    assert alert.owner == "csm@csflow.example"
    assert "no reachable contact" in alert.message


async def test_background_work_that_fails_does_not_stop_later_background_work(
    pg: Playground,
) -> None:
    acct = await start_account(pg)
    await nobody_left(pg, acct)
    handle = pg.client.get_workflow_handle_for(CustomerJourneyWorkflow.run, journey_id(acct))
    # A campaign email needs a contact: it fails inside the journey's background work.
    await handle.signal(
        "campaign_message",
        CampaignMessage(campaign_run_id="campaign-x", kind=CampaignKind.FEATURE_RELEASE),
    )
    await advance_until(
        pg.env, acct, lambda s: "campaign-x" in s.campaigns, step=timedelta(minutes=1)
    )
    # The nightly recompute still runs afterwards.
    await handle.signal("recompute_health", HealthRecompute(reason="nightly"))
    await advance_until(
        pg.env,
        acct,
        lambda s: any(p.reason == "nightly" for p in s.health_history),
        step=timedelta(minutes=1),
        limit=timedelta(hours=1),
    )
    timeline = await handle.query(CustomerJourneyWorkflow.timeline)
    assert any(
        t.kind == "background_failed" and "no reachable contact" in t.summary for t in timeline
    )


async def test_input_a_journey_could_not_live_with_is_refused_at_the_edge(pg: Playground) -> None:
    acct = await start_account(pg, answer=False)
    # The update validator names the field; the journey never sees the event.
    with pytest.raises(WorkflowUpdateFailedError) as failure:
        await acked(
            pg,
            acct,
            "contract_signed",
            contract={"start_date": "0001-01-01", "end_date": "0001-01-02", "value": 100},
        )
    assert "contract.start_date: 0001-01-01 is outside the supported range" in str(
        failure.value.cause
    )

    # A signal cannot be refused: the event loop rejects it (timeline, one CSM alert).
    handle = pg.client.get_workflow_handle_for(CustomerJourneyWorkflow.run, journey_id(acct))
    bad = CustomerEvent(
        account_id=acct,
        type="ticket_opened",
        payload={"ticket_id": "T-1", "subject": "Broken\r\nBcc: everyone@example.com"},
    )
    await handle.signal("customer_event", bad)
    status = await advance_until(
        pg.env, acct, lambda s: s.events_rejected == 1, step=timedelta(minutes=1)
    )
    timeline = await handle.query(CustomerJourneyWorkflow.timeline)
    [rejected] = [t for t in timeline if t.kind == "rejected_event"]
    assert "subject: must be one line without control characters" in rejected.summary
    [alert] = [a for a in pg.crm.alerts if "not applied" in a.subject]
    assert alert.subject == "Customer event not applied: ticket_opened"
    assert not status.escalations and not status.playbooks
    # And the journey carries on.
    ack = await acked(pg, acct, "usage_reported", active_users=2, licensed_seats=5)
    assert ack.rejected is None


async def test_milestones_reported_during_requirements_count_when_onboarding_starts(
    pg: Playground,
) -> None:
    acct = await start_account(pg, answer=False)  # paid: requirements gathering runs
    for milestone in ("first_login", "first_key_action", "first_login"):
        ack = await acked(pg, acct, "usage_reported", milestone=milestone, active_users=4)
        assert ack.kept_for == "onboarding" and ack.forwarded_to is None
    await acked(pg, acct, "questionnaire_answered", reasons_for_purchase="x", intended_use="y")

    # Onboarding finds both milestones reached: kickoff, then done, without stalling.
    status = await advance_until(
        pg.env,
        acct,
        lambda s: s.stage == LifecycleStage.ADOPTION,
        step=timedelta(hours=1),
        limit=timedelta(days=2),
    )
    assert status.onboarding is not None and status.onboarding.completed
    assert status.onboarding.stalled == []
    assert not pg.crm.named_tasks("Onboarding stalled")
    assert pg.crm.emails_with("onboarding_complete")
    timeline = await pg.client.get_workflow_handle_for(
        CustomerJourneyWorkflow.run, journey_id(acct)
    ).query(CustomerJourneyWorkflow.timeline)
    delivered = [t.summary for t in timeline if t.kind == "kept_event" and "delivered" in t.summary]
    assert len(delivered) == 2  # the repeated first_login was kept once


async def test_answers_sent_before_the_payment_reach_requirements_gathering(
    pg: Playground,
) -> None:
    acct = f"early-{uuid.uuid4().hex[:6]}"
    await start_journey(
        pg.client,
        journey_input(acct, contract_start=await pg.today()),
        CustomerEvent(account_id=acct, type="trial_started"),
        task_queue=pg.queue,
    )
    ack = await acked(
        pg, acct, "questionnaire_answered", reasons_for_purchase="a", intended_use="b"
    )
    assert ack.kept_for == "requirements"
    await acked(pg, acct, "payment_received")
    status = await advance_until(
        pg.env,
        acct,
        lambda s: s.stage == LifecycleStage.ONBOARDING,
        step=timedelta(hours=1),
        limit=timedelta(days=1),
    )
    assert status.requirements is not None and status.requirements.completed
    assert status.requirements.reminders_sent == 0
    [answers] = pg.crm.requirements
    assert answers.reasons_for_purchase == "a"


async def test_a_contact_name_the_mailer_refuses_fails_once_and_the_journey_carries_on(
    ts_env: WorkflowEnvironment,
    store: Store,
    outbox: Path,
    make_acts: Callable[..., Activities],
) -> None:
    """The real send_email and outbox, with a champion whose CRM name holds a line break."""
    real = make_acts(contact_governor=False)  # real time of day must not matter
    crm = FakeCrm()
    attempts: Counter[str] = Counter()

    @activity.defn(name="send_email")
    async def counted_send_email(request: EmailRequest) -> EmailReceipt:
        attempts[request.idempotency_key] += 1
        return await real.email.send_email(request)

    acct = f"crlf-{uuid.uuid4().hex[:6]}"
    journey = journey_input(acct, contract_start=(await ts_env.get_current_time()).date())
    # The CRM already knows the account; a sync wrote the champion's name with a line break.
    await real.crm.upsert_account(journey.account)
    with store.session() as session:
        champion = session.get(ContactRow, f"{acct}-champion")
        assert champion is not None
        champion.name = "Chris Champion\r\nBcc: everyone@elsewhere.example"

    queue = f"tq-{uuid.uuid4()}"
    doubles = [a for a in crm.activities if a != crm.send_email]
    async with Worker(
        ts_env.client,
        task_queue=queue,
        workflows=WORKFLOWS,
        activities=[*doubles, counted_send_email],
    ):
        await start_journey(
            ts_env.client,
            journey,
            CustomerEvent(account_id=acct, type="payment_received"),
            task_queue=queue,
        )
        # The introduction and the questionnaire fail for good: one attempt each, one task.
        waited = timedelta(0)
        while not crm.named_tasks("could not be sent") or len(attempts) < 2:
            assert waited < timedelta(hours=2), (attempts, crm.calls)
            await ts_env.sleep(timedelta(minutes=5))
            waited += timedelta(minutes=5)
        intro = f"requirements-{acct}:introduction"
        assert attempts[intro] == 1
        assert attempts[f"requirements-{acct}:questionnaire"] == 1
        [task] = {t.idempotency_key: t for t in crm.named_tasks("could not be sent")}.values()
        assert task.owner == "csm@csflow.example"
        assert "contact name" in task.description and "InvalidInput" in (task.idempotency_key or "")
        assert not list(outbox.glob("*.eml"))

        # The journey is alive and moves on when the customer answers anyway.
        ack = await asyncio.wait_for(
            event(
                ts_env.client,
                acct,
                "questionnaire_answered",
                reasons_for_purchase="grow",
                intended_use="renewals",
            ),
            ACK_WITHIN,
        )
        assert ack.forwarded_to == f"requirements-{acct}"
        status = await advance_until(
            ts_env, acct, lambda s: s.stage == LifecycleStage.ONBOARDING, step=timedelta(hours=1)
        )
        assert status.requirements is not None and status.requirements.completed


async def test_steps_that_fail_for_good_are_skipped_with_a_task_for_the_csm(
    pg: Playground,
) -> None:
    # An unknown respondent contact, an invitation no mailer takes: both refused for good.
    pg.crm.refuse = {"record_requirements": "InvalidInput", "send_kickoff_invite": "InvalidInput"}
    acct = await start_account(pg)  # through requirements and onboarding to adoption
    status = await journey_status(pg.client, acct)
    assert status.requirements is not None and status.requirements.completed
    assert status.onboarding is not None and status.onboarding.completed
    assert len(pg.crm.named("record_requirements")) == 1  # not retried
    assert len(pg.crm.named("send_kickoff_invite")) == 1
    titles = {t.title for t in pg.crm.named("create_csm_task")}
    assert "Requirements answers could not be recorded in the CRM" in titles
    assert f"Kickoff invitation could not be sent to contact {acct}-champion" in titles


async def test_activity_timeouts_are_sized_to_the_work(pg: Playground) -> None:
    """What the server is told: seconds for CRM calls; email sends heartbeat, so a worker that
    dies mid-send is noticed in seconds, while a slow provider still gets minutes."""
    acct = await start_account(pg, answer=False)
    await acked(pg, acct, "usage_reported", active_users=1)  # a health score: a CRM call
    while not pg.crm.emails:  # requirements gathering has sent its first email
        await pg.env.sleep(timedelta(minutes=1))
    scheduled: dict[str, tuple[timedelta, timedelta | None]] = {}
    for workflow_id in (journey_id(acct), f"requirements-{acct}"):
        history = await pg.client.get_workflow_handle(workflow_id).fetch_history()
        for item in history.events:
            if item.HasField("activity_task_scheduled_event_attributes"):
                attrs = item.activity_task_scheduled_event_attributes
                heartbeat = attrs.heartbeat_timeout.ToTimedelta()
                scheduled[attrs.activity_type.name] = (
                    attrs.start_to_close_timeout.ToTimedelta(),
                    heartbeat or None,
                )
    for crm_call in ("upsert_account", "set_lifecycle_stage", "compute_health_score"):
        start_to_close, heartbeat = scheduled[crm_call]
        assert start_to_close <= timedelta(seconds=15) and heartbeat is None, crm_call
    start_to_close, heartbeat = scheduled["send_email"]
    assert heartbeat == timedelta(seconds=10)
    assert start_to_close >= timedelta(minutes=1)


async def test_a_first_run_with_an_account_the_edge_refuses_ends_at_once(
    pg: Playground,
) -> None:
    """JSON read without the API's checks (the CLI's journey file): the journey refuses it before
    doing anything, naming the field, instead of stopping at its first step forever."""
    acct = f"bad-{uuid.uuid4().hex[:6]}"
    raw = journey_input(acct).model_dump(mode="json")
    raw["account"]["contract"]["start_date"] = "0001-01-01"
    raw["account"]["contract"]["end_date"] = "0001-01-02"
    recorded = JourneyInput.model_validate_json(json.dumps(raw))
    handle = await start_journey(
        pg.client,
        recorded,
        CustomerEvent(account_id=acct, type="payment_received"),
        task_queue=pg.queue,
    )
    with pytest.raises(WorkflowFailureError) as failure:
        await asyncio.wait_for(handle.result(), ACK_WITHIN)
    cause = failure.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "InvalidInput"
    assert "account: contract.start_date: 0001-01-01 is outside the supported range" in str(cause)
    assert not pg.crm.named("upsert_account")


async def test_a_stage_waits_for_a_reachable_contact_with_one_task_then_carries_on(
    pg: Playground,
) -> None:
    acct = await start_account(pg, answer=False)  # paid: requirements gathering runs
    await nobody_left(pg, acct)
    await acked(pg, acct, "questionnaire_answered", reasons_for_purchase="x", intended_use="y")
    # Onboarding cannot reach anybody: it waits, and the CSM is asked (once) for a contact.
    await pg.env.sleep(timedelta(days=3))
    status = await journey_status(pg.client, acct)
    assert status.stage == LifecycleStage.ONBOARDING and status.onboarding is None
    assert len(pg.crm.named_tasks("Add a reachable contact")) == 1
    assert not pg.crm.emails_with("kickoff_invite") and not pg.crm.kickoffs

    newcomer = {
        "id": f"{acct}-new",
        "name": "Nia Newcomer",
        "email": f"nia@{acct}.example",
        "role": "champion",
    }
    await acked(pg, acct, "contact_changed", contact=newcomer)
    await advance_until(
        pg.env,
        acct,
        lambda s: bool(pg.crm.kickoffs),
        step=timedelta(hours=1),
        limit=timedelta(days=3),
    )
    assert [k.contact_id for k in pg.crm.kickoffs] == [f"{acct}-new"]
    assert len(pg.crm.named_tasks("Add a reachable contact")) == 1
