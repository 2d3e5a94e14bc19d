"""EscalationWorkflow on its own: SLA timers, the escalation chain, closing and the CSAT follow-up.

Every time below is virtual (Temporal's time-skipping test server); `TimedCrm` notes when each
activity was scheduled, so "the manager was alerted after 60 minutes" is asserted to the minute.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
import pytest_asyncio
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain.models import AlertSeverity, Segment, SurveyKind
from domain.segments import EscalationPolicy, SegmentPlaybookConfig, default_config
from tests.support.cs_timed_support import TimedCrm, offset
from workflows.customer_event import CustomerEvent, TicketSeverity
from workflows.escalation import (
    EscalationAction,
    EscalationActionKind,
    EscalationInput,
    EscalationResult,
    EscalationSource,
    EscalationWorkflow,
)

CSM = "csm@csflow.example"
MANAGER = "manager@csflow.example"
VP = "vp@csflow.example"
CRO = "cro@csflow.example"
CHAINS = {
    Segment.ENTERPRISE: [CSM, MANAGER, VP, CRO],
    Segment.MID_MARKET: [CSM, MANAGER, VP],
    Segment.SMB: [CSM, MANAGER],
}
HOUR = 60  # minutes


class Escalations:
    def __init__(self, env: WorkflowEnvironment, crm: TimedCrm, queue: str) -> None:
        self.env, self.crm, self.queue = env, crm, queue
        self.opened_at: datetime | None = None

    async def open(
        self,
        segment: Segment = Segment.ENTERPRISE,
        severity: TicketSeverity = TicketSeverity.HIGH,
        *,
        chain: list[str] | None = None,
        config: SegmentPlaybookConfig | None = None,
        source: EscalationSource = EscalationSource.TICKET,
    ) -> WorkflowHandle[EscalationWorkflow, EscalationResult]:
        escalation_id = f"escalation-{uuid.uuid4().hex[:10]}"
        self.opened_at = await self.env.get_current_time()
        return await self.env.client.start_workflow(
            EscalationWorkflow.run,
            EscalationInput(
                escalation_id=escalation_id,
                account_id="acct-esc",
                contact_id="acct-esc-champion",
                source=source,
                severity=severity,
                summary="Sync broken",
                chain=chain or CHAINS[segment],
                config=config or default_config(segment),
                ticket_id="T-1" if source == EscalationSource.TICKET else None,
            ),
            id=escalation_id,
            task_queue=self.queue,
        )

    def minutes(self, at: datetime) -> int:
        assert self.opened_at is not None
        return offset(self.opened_at, at)

    def alerts(self) -> list[tuple[int, str, str]]:
        """(minutes after opening, owner, step) of every alert sent so far."""
        return [(self.minutes(at), a.owner, a.step) for at, a in self.crm.at("alert_csm")]

    def missed(self, result: EscalationResult) -> list[tuple[str, int, str | None]]:
        return [(m.sla, self.minutes(m.at), m.escalated_to) for m in result.missed_slas]


@pytest_asyncio.fixture
async def esc(ts_env: WorkflowEnvironment) -> AsyncIterator[Escalations]:
    crm = TimedCrm()
    queue = f"tq-{uuid.uuid4()}"
    async with Worker(
        ts_env.client, task_queue=queue, workflows=[EscalationWorkflow], activities=crm.activities
    ):
        yield Escalations(ts_env, crm, queue)


async def _act(handle: WorkflowHandle[EscalationWorkflow, EscalationResult], kind: str) -> None:
    await handle.signal(
        EscalationWorkflow.action, EscalationAction(kind=EscalationActionKind(kind))
    )


async def test_opening_alerts_the_csm_and_notifies_the_customer(esc: Escalations):
    handle = await esc.open(Segment.ENTERPRISE)
    await esc.env.sleep(timedelta(minutes=10))
    assert esc.alerts() == [(0, CSM, "opened")]
    opened = esc.crm.alerts[0]
    assert opened.subject == "Escalation opened (high): Sync broken"
    assert opened.message == (
        "Acknowledge within 1 hour, resolve within 2 days. Opened from a high-severity support "
        "ticket."
    )
    assert opened.severity == AlertSeverity.CRITICAL
    assert opened.idempotency_key == f"{handle.id}:opened"
    assert opened.due_at is not None and esc.minutes(opened.due_at) == HOUR

    # The customer hears a person's acknowledgement, in words, due within the first-response SLA.
    [notice] = esc.crm.emails
    assert notice.idempotency_key == f"{handle.id}:notice"
    assert notice.template == "escalation_acknowledgement"
    assert notice.to_contact_id == "acct-esc-champion"
    assert notice.context == {
        "topic": "Sync broken",
        "ticket_id": "T-1",
        "first_response_within": "1 hour",
        "resolution_within": "2 days",
    }
    assert notice.deadline is not None and esc.minutes(notice.deadline) == HOUR
    status = await handle.query(EscalationWorkflow.status)
    assert (status.level, status.owner, status.acknowledged, status.resolved) == (
        0,
        CSM,
        False,
        False,
    )


async def test_each_missed_sla_escalates_one_level_up_the_chain(esc: Escalations):
    """Enterprise: ack 1 h, update every 4 h, resolve 2 days; chain CSM > manager > VP > CRO."""
    handle = await esc.open(Segment.ENTERPRISE)

    await esc.env.sleep(timedelta(hours=2))
    status = await handle.query(EscalationWorkflow.status)
    assert (status.level, status.owner, status.acknowledged) == (1, MANAGER, False)
    assert [(m.sla, m.escalated_to) for m in status.missed_slas] == [("acknowledge", MANAGER)]

    # A late acknowledgement starts the update clock (every 4 h) from the acknowledgement.
    await _act(handle, "acknowledged")
    await esc.env.sleep(timedelta(hours=9))  # to 11 h: update windows due at 6 h and 10 h missed
    status = await handle.query(EscalationWorkflow.status)
    assert (status.level, status.owner, status.acknowledged) == (3, CRO, True)

    await esc.env.sleep(timedelta(hours=39))  # to 50 h: past the 48 h resolve deadline
    await _act(handle, "resolved")
    result = await handle.result()

    # Alerts: the CSM when opened, then one level up per missed SLA until the top (the CRO).
    assert esc.alerts() == [
        (0, CSM, "opened"),
        (HOUR, MANAGER, "sla:acknowledge"),
        (6 * HOUR, VP, "sla:update:1"),
        (10 * HOUR, CRO, "sla:update:2"),
    ]
    assert [a.subject for a in esc.crm.alerts[1:]] == [
        "Escalation SLA missed (acknowledge): Sync broken",
        "Escalation SLA missed (update): Sync broken",
        "Escalation SLA missed (update): Sync broken",
    ]
    assert [a.message for a in esc.crm.alerts[1:]] == [
        "Escalated to level 1 of 3.",
        "Escalated to level 2 of 3.",
        "Escalated to level 3 of 3.",
    ]
    assert {a.severity for a in esc.crm.alerts} == {AlertSeverity.CRITICAL}
    # At the top of the chain, further misses are recorded but alert nobody new.
    update_windows = [6 + 4 * k for k in range(11)]  # 6 h .. 46 h, all before the 48 h deadline
    assert esc.missed(result) == [
        ("acknowledge", HOUR, MANAGER),
        *[
            (f"update:{n}", h * HOUR, {1: VP, 2: CRO}.get(n))
            for n, h in enumerate(update_windows, start=1)
        ],
        ("resolve", 48 * HOUR, None),
    ]
    assert result.level == 3
    assert result.acknowledged_at is not None and esc.minutes(result.acknowledged_at) == 2 * HOUR
    assert result.resolved_at is not None and esc.minutes(result.resolved_at) == 50 * HOUR


async def test_timely_acknowledgement_and_updates_keep_the_escalation_with_the_csm(
    esc: Escalations,
):
    """Mid-market: ack 4 h, update every 12 h; each update restarts the update window."""
    handle = await esc.open(Segment.MID_MARKET, TicketSeverity.NORMAL)
    await esc.env.sleep(timedelta(hours=3))
    await _act(handle, "acknowledged")
    await esc.env.sleep(timedelta(hours=2))  # 5 h: the 4 h acknowledge deadline has passed
    status = await handle.query(EscalationWorkflow.status)
    assert (status.level, status.owner, status.acknowledged, status.missed_slas) == (
        0,
        CSM,
        True,
        [],
    )

    await esc.env.sleep(timedelta(hours=9))  # 14 h: update due at 15 h
    await _act(handle, "updated")
    await esc.env.sleep(timedelta(hours=11))  # 25 h: update due at 26 h
    await _act(handle, "updated")
    await esc.env.sleep(timedelta(hours=13))  # 38 h: the update due at 37 h was missed
    status = await handle.query(EscalationWorkflow.status)
    assert (status.level, status.owner) == (1, MANAGER)
    await _act(handle, "resolved")
    result = await handle.result()

    assert esc.alerts() == [(0, CSM, "opened"), (37 * HOUR, MANAGER, "sla:update:1")]
    assert esc.missed(result) == [("update:1", 37 * HOUR, MANAGER)]
    assert {a.severity for a in esc.crm.alerts} == {AlertSeverity.WARNING}
    assert result.acknowledged_at is not None and esc.minutes(result.acknowledged_at) == 3 * HOUR


async def test_resolving_stops_every_timer_and_sends_the_csat_follow_up(esc: Escalations):
    """SMB: ack 8 h, update daily, resolve 10 days; chain CSM > manager."""
    handle = await esc.open(Segment.SMB, TicketSeverity.LOW)
    await esc.env.sleep(timedelta(hours=9))  # acknowledge missed at 8 h
    await _act(handle, "resolved")
    result = await handle.result()

    assert esc.missed(result) == [("acknowledge", 8 * HOUR, MANAGER)]
    assert result.level == 1
    # Resolving counts as the (late) acknowledgement too.
    assert result.acknowledged_at == result.resolved_at
    assert result.resolved_at is not None and esc.minutes(result.resolved_at) == 9 * HOUR

    # The follow-up CSAT goes to the customer right after resolution.
    [(survey_at, survey)] = esc.crm.at("create_survey")
    assert esc.minutes(survey_at) == 9 * HOUR
    assert (survey.kind, survey.topic, survey.contact_id) == (
        SurveyKind.CSAT,
        "escalation",
        "acct-esc-champion",
    )
    assert survey.idempotency_key == f"{handle.id}:csat"
    csat_email = esc.crm.emails[-1]
    assert csat_email.idempotency_key == f"{handle.id}:csat:email"
    assert csat_email.template == "survey_invitation"
    assert csat_email.context["survey_link"] == f"https://surveys.example/{result.csat_token}"
    assert result.csat_token == "tok-csat-1"
    assert [s.token for s in result.log.surveys] == ["tok-csat-1"]
    assert [e.key for e in result.log.emails] == [f"{handle.id}:notice", f"{handle.id}:csat:email"]

    # Closed: no update or resolve timer is left to fire, and nobody is alerted any more.
    description = await handle.describe()
    assert description.status == WorkflowExecutionStatus.COMPLETED
    assert description.close_time is not None and esc.minutes(description.close_time) == 9 * HOUR
    await esc.env.sleep(timedelta(days=11))
    assert esc.alerts() == [(0, CSM, "opened"), (8 * HOUR, MANAGER, "sla:acknowledge")]
    assert {a.severity for a in esc.crm.alerts} == {AlertSeverity.INFO}


async def test_a_forwarded_ticket_resolved_event_closes_the_escalation(esc: Escalations):
    handle = await esc.open(Segment.MID_MARKET)
    await esc.env.sleep(timedelta(hours=1))
    # A malformed event is ignored (logged), not fatal.
    await handle.signal(
        EscalationWorkflow.customer_event,
        CustomerEvent(account_id="acct-esc", type="ticket_resolved", payload={}),
    )
    await handle.signal(
        EscalationWorkflow.customer_event,
        CustomerEvent(account_id="acct-esc", type="no_such_event", payload={}),
    )
    await esc.env.sleep(timedelta(minutes=30))
    status = await handle.query(EscalationWorkflow.status)
    assert not status.resolved and not status.acknowledged

    await handle.signal(
        EscalationWorkflow.customer_event,
        CustomerEvent(account_id="acct-esc", type="ticket_resolved", payload={"ticket_id": "T-1"}),
    )
    result = await handle.result()
    assert result.resolved_at is not None and esc.minutes(result.resolved_at) == 90
    assert result.missed_slas == [] and result.level == 0
    assert result.csat_token == "tok-csat-1"
    assert esc.alerts() == [(0, CSM, "opened")]


@pytest.mark.parametrize(
    ("segment", "ack_hours", "resolve_hours", "resolve_escalated_to"),
    [
        (Segment.ENTERPRISE, 1, 48, VP),
        (Segment.MID_MARKET, 4, 120, VP),
        # The SMB chain ends at the manager: the resolve miss has nobody higher to go to.
        (Segment.SMB, 8, 240, None),
    ],
)
async def test_sla_timings_follow_the_segment_policy(
    esc: Escalations,
    segment: Segment,
    ack_hours: int,
    resolve_hours: int,
    resolve_escalated_to: str | None,
):
    handle = await esc.open(segment, TicketSeverity.URGENT)
    await esc.env.sleep(timedelta(hours=resolve_hours + 1))
    await _act(handle, "resolved")
    result = await handle.result()
    assert esc.missed(result) == [
        ("acknowledge", ack_hours * HOUR, MANAGER),
        ("resolve", resolve_hours * HOUR, resolve_escalated_to),
    ]
    expected_alerts = [(0, CSM, "opened"), (ack_hours * HOUR, MANAGER, "sla:acknowledge")]
    if resolve_escalated_to is not None:
        expected_alerts.append((resolve_hours * HOUR, resolve_escalated_to, "sla:resolve"))
    assert esc.alerts() == expected_alerts


async def test_a_custom_policy_sets_the_timers(esc: Escalations):
    config = default_config(Segment.MID_MARKET).model_copy(
        update={
            "escalation": EscalationPolicy(
                ack_within=timedelta(minutes=15),
                update_every=timedelta(minutes=30),
                resolve_within=timedelta(hours=2),
            )
        }
    )
    handle = await esc.open(Segment.MID_MARKET, config=config)
    await esc.env.sleep(timedelta(minutes=20))
    await _act(handle, "acknowledged")  # at 20 min: updates owed at 50 and 80 min
    await esc.env.sleep(timedelta(minutes=105))  # to 125 min: past the 120 min resolve deadline
    await _act(handle, "resolved")
    result = await handle.result()
    assert esc.missed(result) == [
        ("acknowledge", 15, MANAGER),
        ("update:1", 50, VP),
        ("update:2", 80, None),
        ("update:3", 110, None),
        ("resolve", 120, None),
    ]
    assert esc.alerts() == [
        (0, CSM, "opened"),
        (15, MANAGER, "sla:acknowledge"),
        (50, VP, "sla:update:1"),
    ]


@pytest.mark.parametrize(
    ("severity", "alert_severity"),
    [
        (TicketSeverity.LOW, AlertSeverity.INFO),
        (TicketSeverity.NORMAL, AlertSeverity.WARNING),
        (TicketSeverity.HIGH, AlertSeverity.CRITICAL),
        (TicketSeverity.URGENT, AlertSeverity.CRITICAL),
    ],
)
async def test_ticket_severity_sets_the_alert_severity(
    esc: Escalations, severity: TicketSeverity, alert_severity: AlertSeverity
):
    handle = await esc.open(Segment.ENTERPRISE, severity)
    await esc.env.sleep(timedelta(minutes=61))
    await _act(handle, "resolved")
    await handle.result()
    assert [(a.step, a.severity) for a in esc.crm.alerts] == [
        ("opened", alert_severity),
        ("sla:acknowledge", alert_severity),
    ]
    assert esc.crm.alerts[0].subject == f"Escalation opened ({severity.value}): Sync broken"


async def test_a_detractor_escalation_with_a_one_person_chain_alerts_only_the_csm(
    esc: Escalations,
):
    handle = await esc.open(
        Segment.SMB, chain=[CSM], source=EscalationSource.DETRACTOR, severity=TicketSeverity.HIGH
    )
    await esc.env.sleep(timedelta(days=11))
    await _act(handle, "resolved")
    result = await handle.result()
    assert result.source == EscalationSource.DETRACTOR and result.level == 0
    assert esc.missed(result) == [("acknowledge", 8 * HOUR, None), ("resolve", 240 * HOUR, None)]
    assert esc.alerts() == [(0, CSM, "opened")]
    # A detractor is thanked for the feedback: no ticket topic, no internal wording.
    assert esc.crm.emails[0].context["topic"] == ""
    assert "detractor" in esc.crm.alerts[0].message


async def test_completing_the_opening_task_acknowledges_and_resolution_closes_the_rest(
    esc: Escalations,
) -> None:
    handle = await esc.open(Segment.ENTERPRISE)
    await esc.env.sleep(timedelta(minutes=10))
    [opened_task] = esc.crm.alert_tasks.values()
    # The CSM ticks the task off in their queue (csflow task done / the API signals this).
    await handle.signal(
        EscalationWorkflow.task_completed,
        opened_task.model_copy(update={"status": "done", "outcome": "called the customer"}),
    )
    await esc.env.sleep(timedelta(hours=2))  # past the 1-hour acknowledgement SLA
    status = await handle.query(EscalationWorkflow.status)
    assert status.acknowledged and [m.sla for m in status.missed_slas] == []

    await esc.env.sleep(timedelta(hours=3))  # the 4-hourly update is missed: an SLA task
    await _act(handle, "resolved")
    result = await handle.result()
    assert [m.sla for m in result.missed_slas] == ["update:1"]
    closed = {c.task_id: c.outcome for c in esc.crm.completions}
    # Every task this escalation opened is closed with its reason once it is resolved.
    assert set(closed) == {t.id for t in esc.crm.alert_tasks.values()}
    assert set(closed.values()) == {"the escalation was resolved"}
    assert all(not t.open for t in result.log.tasks)
