from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import pytest_asyncio
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain.models import LifecycleStage, Segment
from starter.api import journey_status, start_journey
from tests.support.cs_doubles import FakeCrm
from tests.support.cs_driver import advance_until, event
from tests.support.cs_fixtures import journey_input
from workflows import search_attributes as sa
from workflows.catalog import WORKFLOWS
from workflows.customer_event import CustomerEvent
from workflows.journey import CustomerJourneyWorkflow


class Harness:
    def __init__(self, env: WorkflowEnvironment, crm: FakeCrm, queue: str) -> None:
        self.env, self.crm, self.queue = env, crm, queue
        self.account_id = f"acct-{uuid.uuid4().hex[:8]}"

    async def start(self, segment: Segment = Segment.SMB, **kwargs: object) -> None:
        # Contracts start "today" in virtual time, which earlier tests moved forward.
        kwargs.setdefault("contract_start", (await self.env.get_current_time()).date())
        await start_journey(
            self.env.client,
            journey_input(self.account_id, segment, **kwargs),
            CustomerEvent(account_id=self.account_id, type="payment_received"),
            task_queue=self.queue,
        )

    async def onboard(self) -> None:
        client, acct = self.env.client, self.account_id
        ack = await event(
            client,
            acct,
            "questionnaire_answered",
            reasons_for_purchase="grow",
            intended_use="renewals",
        )
        # Forwarded to the running child, or (when the update overtook the starting payment)
        # kept until requirements gathering starts.
        assert ack.forwarded_to == f"requirements-{acct}" or ack.kept_for == "requirements"
        await advance_until(self.env, acct, lambda s: s.stage == LifecycleStage.ONBOARDING)
        for milestone in ("first_login", "first_key_action"):
            ack = await event(
                client,
                acct,
                "usage_reported",
                milestone=milestone,
                active_users=8,
                licensed_seats=10,
            )
            assert ack.forwarded_to == f"onboarding-{acct}"
        await advance_until(self.env, acct, lambda s: s.stage == LifecycleStage.ADOPTION)


@pytest_asyncio.fixture
async def harness(ts_env: WorkflowEnvironment) -> AsyncIterator[Harness]:
    crm = FakeCrm()
    queue = f"tq-{uuid.uuid4()}"
    async with Worker(
        ts_env.client, task_queue=queue, workflows=WORKFLOWS, activities=crm.activities
    ):
        yield Harness(ts_env, crm, queue)


async def test_happy_path_from_payment_to_renewal(harness: Harness):
    h, acct = harness, harness.account_id
    await h.start(Segment.SMB)
    await h.onboard()
    status = await journey_status(h.env.client, acct)
    assert [v.stage for v in status.stages] == [
        LifecycleStage.TRIAL,
        LifecycleStage.REQUIREMENTS,
        LifecycleStage.ONBOARDING,
        LifecycleStage.ADOPTION,
    ]
    assert status.requirements and status.requirements.completed
    assert status.onboarding and status.onboarding.completed
    assert [s.topic for s in status.surveys] == ["onboarding"]
    assert status.health_score == 80

    # First NPS 30 days into adoption; a promoter answer raises no escalation.
    status = await advance_until(h.env, acct, lambda s: len(s.surveys) == 2)
    nps = status.surveys[1]
    assert nps.kind == "nps"
    await event(h.env.client, acct, "survey_answered", token=nps.token, kind="nps", score=9)

    # SMB renewal starts 30 days before the contract end.
    status = await advance_until(h.env, acct, lambda s: s.stage == LifecycleStage.RENEWAL)
    assert status.contract_end is not None
    renewal_started = status.renewals[0].started_at
    assert status.renewal_starts_at is not None
    assert renewal_started - status.renewal_starts_at < timedelta(days=1)
    new_end = status.contract_end.replace(year=status.contract_end.year + 1)
    ack = await event(h.env.client, acct, "email_replied", subject="Re: renewal")
    assert ack.forwarded_to == f"renewal-{acct}-{status.contract_end.isoformat()}"
    await event(h.env.client, acct, "contract_renewed", new_end_date=new_end.isoformat())
    status = await advance_until(h.env, acct, lambda s: s.stage == LifecycleStage.ADOPTION)
    assert status.renewals[0].outcome == "renewed"
    assert status.contract_end == new_end
    assert status.escalations == []
    assert [o.outcome for o in h.crm.outcomes] == ["renewed"]
    assert all(count == 1 for count in h.crm.email_sends.values())

    # What `list_journeys` searches by (tested on the dev server in tests/starter).
    attributes = (
        await h.env.client.get_workflow_handle(f"journey-{acct}").describe()
    ).typed_search_attributes
    assert attributes.get(sa.LIFECYCLE_STAGE) == "adoption"
    assert (attributes.get(sa.SEGMENT) or "").startswith("smb")


async def test_detractor_and_ticket_open_escalations(harness: Harness):
    h, acct = harness, harness.account_id
    await h.start(Segment.MID_MARKET)
    await h.onboard()
    await event(
        h.env.client, acct, "ticket_opened", ticket_id="T-1", subject="Sync broken", severity="high"
    )
    status = await journey_status(h.env.client, acct)
    assert [e.source for e in status.escalations] == ["ticket"]
    await h.env.sleep(timedelta(hours=1))
    await event(h.env.client, acct, "ticket_resolved", ticket_id="T-1")
    status = await advance_until(
        h.env, acct, lambda s: not s.escalations[0].open, step=timedelta(hours=1)
    )
    assert status.escalations[0].resolved_at is not None

    status = await advance_until(h.env, acct, lambda s: any(v.kind == "nps" for v in s.surveys))
    nps = [s for s in status.surveys if s.kind == "nps"][0]
    await event(
        h.env.client,
        acct,
        "survey_answered",
        token=nps.token,
        kind="nps",
        score=3,
        comment="too slow",
    )
    status = await journey_status(h.env.client, acct)
    assert [e.source for e in status.escalations] == ["ticket", "detractor"]
    assert status.health_score == 30
    detractor = [s for s in status.surveys if s.token == nps.token][0]
    assert detractor.category == "detractor"


async def test_churn_at_renewal_ends_the_journey(harness: Harness):
    h, acct = harness, harness.account_id
    await h.start(Segment.SMB)
    await h.onboard()
    await advance_until(h.env, acct, lambda s: s.stage == LifecycleStage.RENEWAL)
    await event(h.env.client, acct, "contract_cancelled", reason="budget")
    handle = h.env.client.get_workflow_handle_for(CustomerJourneyWorkflow.run, f"journey-{acct}")
    final = await handle.result()
    assert final.stage == LifecycleStage.CHURNED and final.finished
    assert final.renewals[0].outcome == "churned"
    with pytest.raises(Exception):  # noqa: B017 - the journey is closed: updates cannot land
        await event(h.env.client, acct, "email_replied")


@pytest.mark.parametrize(
    ("type_", "payload", "message"),
    [
        ("party_started", {}, "unknown customer event type 'party_started'"),
        (
            "survey_answered",
            {"token": "t", "kind": "nps", "score": 11},
            "score 11 is out of range for a NPS survey (0-10)",
        ),
        (
            "contact_changed",
            {"contact": {"id": "c9", "name": "New", "email": "not-an-email"}},
            "not a valid email address",
        ),
    ],
)
async def test_bad_events_are_rejected_by_the_validator(
    harness: Harness, type_: str, payload: dict[str, object], message: str
):
    h, acct = harness, harness.account_id
    await h.start(Segment.SMB)
    with pytest.raises(WorkflowUpdateFailedError) as failure:
        await event(h.env.client, acct, type_, **payload)
    assert message in str(failure.value.cause)
    # The payment may still be on its way (the journey upserts the account first).
    status = await advance_until(
        h.env, acct, lambda s: s.events_processed >= 1, step=timedelta(minutes=1)
    )
    assert status.events_processed == 1  # only the payment went through


async def test_continue_as_new_keeps_state_and_absolute_deadlines(harness: Harness):
    h, acct = harness, harness.account_id
    await h.start(Segment.SMB, continue_as_new_after_events=5)
    await h.onboard()
    before = await journey_status(h.env.client, acct)
    assert before.runs >= 1
    for users in range(3):
        await event(h.env.client, acct, "usage_reported", active_users=users, licensed_seats=10)
    after = await advance_until(
        h.env, acct, lambda s: s.runs > before.runs, step=timedelta(minutes=1)
    )
    assert after.stage == LifecycleStage.ADOPTION
    assert after.renewal_starts_at == before.renewal_starts_at
    assert after.next_nps_at == before.next_nps_at
    assert after.emails_sent == before.emails_sent
    assert after.events_processed == before.events_processed + 3
    assert [v.stage for v in after.stages] == [v.stage for v in before.stages]
    # The carried NPS deadline fires at its original instant in the new run.
    assert before.next_nps_at is not None
    status = await advance_until(
        h.env, acct, lambda s: len(s.surveys) == 2, step=timedelta(hours=6)
    )
    assert abs(status.surveys[1].sent_at - before.next_nps_at) < timedelta(hours=1)
