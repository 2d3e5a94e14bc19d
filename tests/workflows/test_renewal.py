"""RenewalWorkflow on its own: outreach cadence, CSM tasks, manager escalation and the outcome.

Each test starts the renewal at 12:00 UTC (virtual) with the contract ending the segment's lead
time (in days) later, at 00:00 UTC: so the contract ends lead - 0.5 days after the start, and every
instant below is a whole number of hours after it.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain.models import AlertSeverity, ContractOutcomeKind, Segment, TaskPriority
from domain.segments import default_config
from starter.api import journey_status, start_journey
from tests.support.cs_doubles import FakeCrm
from tests.support.cs_driver import event
from tests.support.cs_fixtures import journey_input
from tests.support.cs_timed_support import TimedCrm, align_to, offset
from workflows.catalog import WORKFLOWS
from workflows.contract_dates import contract_end_at
from workflows.customer_event import CustomerEvent
from workflows.renewal import RenewalInput, RenewalResult, RenewalWorkflow

CSM = "csm@csflow.example"
MANAGER = "manager@csflow.example"
DAY = 24  # hours
LEAD_DAYS = {Segment.ENTERPRISE: 120, Segment.MID_MARKET: 60, Segment.SMB: 30}


class Renewals:
    def __init__(self, env: WorkflowEnvironment, crm: TimedCrm, queue: str) -> None:
        self.env, self.crm, self.queue = env, crm, queue
        self.started_at: datetime | None = None
        self.account_id = f"acct-{uuid.uuid4().hex[:8]}"
        self.contract_end: date | None = None

    async def start(
        self,
        segment: Segment,
        *,
        auto_renew: bool = False,
        cancel_requested: bool = False,
    ) -> WorkflowHandle[RenewalWorkflow, RenewalResult]:
        self.started_at = await align_to(self.env, 12)
        self.contract_end = self.started_at.date() + timedelta(days=LEAD_DAYS[segment])
        return await self.env.client.start_workflow(
            RenewalWorkflow.run,
            RenewalInput(
                account_id=self.account_id,
                csm_owner=CSM,
                csm_manager=MANAGER,
                decision_maker_contact_id=f"{self.account_id}-dm",
                contract_end=self.contract_end,
                contract_value=12_000,
                auto_renew=auto_renew,
                config=default_config(segment),
                cancel_requested=cancel_requested,
            ),
            id=f"renewal-{self.account_id}",
            task_queue=self.queue,
        )

    def hours(self, at: datetime) -> int:
        assert self.started_at is not None
        return offset(self.started_at, at, timedelta(hours=1))

    def outreach(self) -> list[tuple[int, str, str, int]]:
        """(hours after start, idempotency key suffix, template, days_left) per renewal email."""
        return [
            (
                self.hours(at),
                e.idempotency_key.removeprefix(f"renewal-{self.account_id}:"),
                e.template,
                e.context["days_left"],
            )
            for at, e in self.crm.at("send_email")
        ]

    def tasks(self) -> list[tuple[int, str, str, TaskPriority]]:
        return [
            (self.hours(at), t.step or "", t.owner, t.priority)
            for at, t in self.crm.at("create_csm_task")
        ]


@pytest_asyncio.fixture
async def renewals(ts_env: WorkflowEnvironment) -> AsyncIterator[Renewals]:
    crm = TimedCrm()
    queue = f"tq-{uuid.uuid4()}"
    async with Worker(
        ts_env.client, task_queue=queue, workflows=[RenewalWorkflow], activities=crm.activities
    ):
        yield Renewals(ts_env, crm, queue)


async def _event(
    handle: WorkflowHandle[RenewalWorkflow, RenewalResult],
    account_id: str,
    type_: str,
    **payload: Any,
) -> None:
    await handle.signal(
        RenewalWorkflow.customer_event,
        CustomerEvent(account_id=account_id, type=type_, payload=payload),
    )


@pytest.mark.parametrize("segment", list(LEAD_DAYS))
async def test_the_journey_opens_the_renewal_window_the_segment_lead_time_before_the_end(
    ts_env: WorkflowEnvironment, segment: Segment
):
    crm = FakeCrm()
    queue = f"tq-{uuid.uuid4()}"
    acct = f"lead-{uuid.uuid4().hex[:8]}"
    today = (await ts_env.get_current_time()).date()
    async with Worker(
        ts_env.client, task_queue=queue, workflows=WORKFLOWS, activities=crm.activities
    ):
        await start_journey(
            ts_env.client,
            journey_input(acct, segment, contract_start=today),
            CustomerEvent(account_id=acct, type="payment_received"),
            task_queue=queue,
        )
        # An update returns once the journey processed it: by then the contract is known.
        await event(ts_env.client, acct, "usage_reported", active_users=1, licensed_seats=2)
        status = await journey_status(ts_env.client, acct)
    assert status.contract_end == today + timedelta(days=365)
    assert status.renewal_starts_at is not None
    assert contract_end_at(status.contract_end) - status.renewal_starts_at == timedelta(
        days=LEAD_DAYS[segment]
    )


# Silent decision maker, per segment: (hours of each outreach email, hour of the manager
# escalation, emails sent before it, hour the contract ends).
SILENT_CADENCE = {
    # 120 days lead, a reminder every 14 days, manager pulled in 45 days before the end.
    Segment.ENTERPRISE: ([0, 14, 28, 42, 56, 70, 84, 98, 112], 74.5, 6, 119.5),
    # 60 days lead, every 10 days, manager 21 days before the end.
    Segment.MID_MARKET: ([0, 10, 20, 30, 40, 50], 38.5, 4, 59.5),
    # 30 days lead, every 7 days, manager 7 days before the end.
    Segment.SMB: ([0, 7, 14, 21, 28], 22.5, 4, 29.5),
}


@pytest.mark.parametrize("segment", list(SILENT_CADENCE))
async def test_silent_decision_maker_gets_the_cadence_then_the_manager_is_alerted(
    renewals: Renewals, segment: Segment
):
    outreach_days, escalation_day, emails_before_escalation, end_day = SILENT_CADENCE[segment]
    handle = await renewals.start(segment, auto_renew=False)
    result = await handle.result()
    end = renewals.contract_end
    assert end is not None

    assert renewals.outreach() == [
        (
            day * DAY,
            f"renewal_outreach:{n}",
            "renewal_outreach" if n == 1 else "renewal_reminder",
            int(end_day - day),
        )
        for n, day in enumerate(outreach_days, start=1)
    ]
    # The first email goes out the lead time before the end (less the half day of the setup).
    assert renewals.outreach()[0][3] == LEAD_DAYS[segment] - 1
    emails = renewals.crm.emails
    assert {e.to_contact_id for e in emails} == {f"{renewals.account_id}-dm"}
    assert {e.context["renewal_date"] for e in emails} == {end.isoformat()}
    assert [e.step for e in emails] == [f"renewal_outreach:{n}" for n in range(1, len(emails) + 1)]
    assert all(count == 1 for count in renewals.crm.email_sends.values())

    escalation_hour = int(escalation_day * DAY)
    assert renewals.tasks() == [
        (0, "prepare", CSM, TaskPriority.NORMAL),
        (escalation_hour, "manager_escalation_task", CSM, TaskPriority.URGENT),
    ]
    prepare = renewals.crm.named("create_csm_task")[0]
    assert prepare.title == f"Prepare renewal (contract ends {end.isoformat()})"
    assert prepare.due_at is not None and renewals.hours(prepare.due_at) == escalation_hour
    assert prepare.idempotency_key == f"{handle.id}:prepare"

    [(alert_at, alert)] = renewals.crm.at("alert_csm")
    assert renewals.hours(alert_at) == escalation_hour
    assert (alert.owner, alert.severity, alert.step) == (
        MANAGER,
        AlertSeverity.CRITICAL,
        "manager_escalation",
    )
    assert alert.subject == "Renewal at risk: decision maker unresponsive"
    assert alert.message == (
        f"No reply after {emails_before_escalation} renewal emails; the contract ends "
        f"{end.isoformat()}."
    )

    # Nobody answered and nothing renews the contract by itself: it ends at the end date.
    [(outcome_at, outcome)] = renewals.crm.at("record_contract_outcome")
    assert renewals.hours(outcome_at) == int(end_day * DAY)
    assert (outcome.outcome, outcome.new_end_date) == (ContractOutcomeKind.CHURNED, None)
    assert outcome.reason == "the contract ended without a renewal decision"
    assert (outcome.account_id, outcome.workflow_id) == (renewals.account_id, handle.id)
    assert (result.outcome, result.new_end_date) == (ContractOutcomeKind.CHURNED, None)
    assert (result.responded, result.outreach_sent, result.escalated_to_manager) == (
        False,
        len(outreach_days),
        True,
    )
    assert [e.key for e in result.log.emails] == [e.idempotency_key for e in emails]


async def test_an_auto_renewing_contract_gets_one_notice_and_renews_by_itself(
    renewals: Renewals,
) -> None:
    handle = await renewals.start(Segment.ENTERPRISE, auto_renew=True)
    result = await handle.result()
    end = renewals.contract_end
    assert end is not None
    # One notice at the start of the window: no reminders, no manager escalation.
    assert [key for _, key, _, _ in renewals.outreach()] == ["renewal_outreach:1"]
    assert renewals.crm.at("alert_csm") == []
    [(_, outcome)] = renewals.crm.at("record_contract_outcome")
    assert (outcome.outcome, outcome.new_end_date, outcome.new_value) == (
        ContractOutcomeKind.AUTO_RENEWED,
        end + timedelta(days=365),
        12_000,
    )
    assert outcome.reason == "renewed automatically at the end of the term"
    assert (result.outreach_sent, result.escalated_to_manager) == (1, False)


async def test_silence_without_auto_renew_churns_at_the_end_date(renewals: Renewals):
    handle = await renewals.start(Segment.SMB, auto_renew=False)
    result = await handle.result()
    [(outcome_at, outcome)] = renewals.crm.at("record_contract_outcome")
    assert renewals.hours(outcome_at) == int(29.5 * DAY)
    assert (outcome.outcome, outcome.new_end_date, outcome.new_value) == (
        ContractOutcomeKind.CHURNED,
        None,
        None,
    )
    assert (result.outcome, result.new_end_date, result.escalated_to_manager) == (
        ContractOutcomeKind.CHURNED,
        None,
        True,
    )
    assert result.outreach_sent == 5


async def test_a_reply_stops_the_reminders_and_the_escalation_then_renewal_is_recorded(
    renewals: Renewals,
):
    """Mid-market: emails on day 0 and 10; the reply on day 12 stops the rest."""
    handle = await renewals.start(Segment.MID_MARKET)
    await renewals.env.sleep(timedelta(days=12))
    await _event(handle, renewals.account_id, "email_replied", subject="Re: your renewal")
    await renewals.env.sleep(timedelta(days=28))  # day 40: past the day-38.5 escalation point
    assert renewals.crm.alerts == []
    end = renewals.contract_end
    assert end is not None
    new_end = end + timedelta(days=730)
    await _event(
        handle,
        renewals.account_id,
        "contract_renewed",
        new_end_date=new_end.isoformat(),
        new_value=15_000,
    )
    result = await handle.result()

    assert renewals.outreach() == [
        (0, "renewal_outreach:1", "renewal_outreach", 59),
        (10 * DAY, "renewal_outreach:2", "renewal_reminder", 49),
    ]
    assert renewals.tasks() == [(0, "prepare", CSM, TaskPriority.NORMAL)]
    assert renewals.crm.alerts == []
    [(outcome_at, outcome)] = renewals.crm.at("record_contract_outcome")
    assert renewals.hours(outcome_at) == 40 * DAY  # decided at once, not at the end date
    assert (outcome.outcome, outcome.new_end_date) == (ContractOutcomeKind.RENEWED, new_end)
    assert (result.outcome, result.new_end_date, result.responded) == (
        ContractOutcomeKind.RENEWED,
        new_end,
        True,
    )
    assert (result.outreach_sent, result.escalated_to_manager) == (2, False)


async def test_a_reply_without_a_decision_churns_at_the_end_unless_auto_renew(
    renewals: Renewals,
):
    handle = await renewals.start(Segment.SMB)
    await renewals.env.sleep(timedelta(days=1))
    await _event(handle, renewals.account_id, "email_replied")
    result = await handle.result()
    assert [key for _, key, _, _ in renewals.outreach()] == ["renewal_outreach:1"]
    assert renewals.crm.alerts == []
    [(outcome_at, outcome)] = renewals.crm.at("record_contract_outcome")
    assert renewals.hours(outcome_at) == int(29.5 * DAY)
    assert outcome.outcome == ContractOutcomeKind.CHURNED
    assert (result.responded, result.escalated_to_manager, result.outreach_sent) == (
        True,
        False,
        1,
    )


async def test_a_cancellation_churns_immediately(renewals: Renewals):
    """Enterprise: emails on day 0 and 14; cancelled on day 20."""
    handle = await renewals.start(Segment.ENTERPRISE, auto_renew=False)
    await renewals.env.sleep(timedelta(days=20))
    await _event(handle, renewals.account_id, "contract_cancelled", reason="budget")
    # A later renewal cannot undo the decision.
    await _event(handle, renewals.account_id, "contract_renewed", new_end_date="2099-01-01")
    result = await handle.result()
    [(outcome_at, outcome)] = renewals.crm.at("record_contract_outcome")
    assert renewals.hours(outcome_at) == 20 * DAY
    assert outcome.reason == "budget"  # the customer's own words
    assert (outcome.outcome, outcome.new_end_date, outcome.new_value) == (
        ContractOutcomeKind.CHURNED,
        None,
        None,
    )
    assert (result.outcome, result.outreach_sent, result.escalated_to_manager) == (
        ContractOutcomeKind.CHURNED,
        2,
        False,
    )
    assert [key for _, key, _, _ in renewals.outreach()] == [
        "renewal_outreach:1",
        "renewal_outreach:2",
    ]


async def test_a_cancellation_before_the_window_churns_without_outreach(renewals: Renewals):
    handle = await renewals.start(Segment.MID_MARKET, auto_renew=True, cancel_requested=True)
    result = await handle.result()
    assert renewals.crm.emails == [] and renewals.crm.alerts == []
    [(outcome_at, outcome)] = renewals.crm.at("record_contract_outcome")
    assert renewals.hours(outcome_at) == 0
    assert outcome.outcome == ContractOutcomeKind.CHURNED
    assert (result.outcome, result.outreach_sent) == (ContractOutcomeKind.CHURNED, 0)


async def test_a_malformed_event_is_ignored(renewals: Renewals):
    handle = await renewals.start(Segment.SMB, auto_renew=False)
    await renewals.env.sleep(timedelta(days=2))
    await _event(handle, renewals.account_id, "contract_renewed", new_end_date="not a date")
    await _event(handle, renewals.account_id, "party_started")
    await renewals.env.sleep(timedelta(days=6))  # day 8: the day-7 reminder still went out
    assert await handle.query(RenewalWorkflow.decision) is None
    assert [key for _, key, _, _ in renewals.outreach()] == [
        "renewal_outreach:1",
        "renewal_outreach:2",
    ]
    await _event(handle, renewals.account_id, "contract_cancelled")
    result = await handle.result()
    assert result.outcome == ContractOutcomeKind.CHURNED and not result.escalated_to_manager


async def test_a_renewal_records_the_renewed_contract_value(renewals: Renewals):
    handle = await renewals.start(Segment.SMB)
    await renewals.env.sleep(timedelta(days=1))
    await _event(
        handle, renewals.account_id, "contract_renewed", new_end_date="2099-01-01", new_value=15_000
    )
    await handle.result()
    [outcome] = renewals.crm.outcomes
    assert (outcome.outcome, outcome.new_end_date) == (
        ContractOutcomeKind.RENEWED,
        date(2099, 1, 1),
    )
    assert outcome.new_value == 15_000
