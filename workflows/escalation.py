"""EscalationWorkflow: a support problem or a detractor score, under SLA timers.

Acknowledge, update and resolve SLAs come from the segment's escalation policy. Each missed SLA
moves the escalation one level up the chain (CSM -> CS manager -> VP ...) and alerts that person.
It is closed by a `resolved` action (or a forwarded `ticket_resolved` event); the customer then gets
a follow-up CSAT survey.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, Field
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.durations import in_words
    from domain.models import ESCALATION_RESOLVED, AlertSeverity, CsmTask, SurveyKind
    from domain.segments import SegmentPlaybookConfig
    from workflows.actions import CsActions
    from workflows.customer_event import CustomerEvent, TicketResolvedPayload, TicketSeverity
    from workflows.event_payloads import payload_of
    from workflows.work_log import WorkLog


class EscalationSource(StrEnum):
    TICKET = "ticket"
    DETRACTOR = "detractor"
    LOW_CSAT = "low_csat"


_SOURCE_WORDS = {
    EscalationSource.TICKET: "high-severity support ticket",
    EscalationSource.DETRACTOR: "detractor score on the NPS survey",
    EscalationSource.LOW_CSAT: "low satisfaction score after a ticket",
}


class EscalationInput(BaseModel):
    escalation_id: str
    account_id: str
    contact_id: str
    source: EscalationSource
    severity: TicketSeverity
    summary: str
    # Email addresses for the policy's chain roles, lowest level first.
    chain: list[str] = Field(min_length=1)
    config: SegmentPlaybookConfig
    ticket_id: str | None = None
    # False when a support follow-up playbook owns the customer's CSAT for this ticket.
    follow_up_csat: bool = True


class EscalationActionKind(StrEnum):
    ACKNOWLEDGED = "acknowledged"
    UPDATED = "updated"
    RESOLVED = "resolved"


class EscalationAction(BaseModel):
    kind: EscalationActionKind
    by: str = "support"
    note: str = ""


class MissedSla(BaseModel):
    sla: str
    at: datetime
    escalated_to: str | None


class EscalationResult(BaseModel):
    escalation_id: str
    source: EscalationSource
    level: int
    missed_slas: list[MissedSla] = Field(default_factory=list)
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    csat_token: str | None = None
    log: WorkLog = Field(default_factory=WorkLog)


class EscalationStatus(BaseModel):
    escalation_id: str
    level: int
    owner: str
    acknowledged: bool
    resolved: bool
    missed_slas: list[MissedSla]


# How loudly a ticket of each severity reaches the CSM (the escalation and the support follow-up).
ALERT_FOR_TICKET: dict[TicketSeverity, AlertSeverity] = {
    TicketSeverity.LOW: AlertSeverity.INFO,
    TicketSeverity.NORMAL: AlertSeverity.WARNING,
    TicketSeverity.HIGH: AlertSeverity.CRITICAL,
    TicketSeverity.URGENT: AlertSeverity.CRITICAL,
}


@workflow.defn
class EscalationWorkflow:
    def __init__(self) -> None:
        self._acked_at: datetime | None = None
        self._last_update_at: datetime | None = None
        self._resolved_at: datetime | None = None
        self._level = 0
        self._missed: list[MissedSla] = []
        self._chain: list[str] = []
        self._id = ""
        self._log = WorkLog()
        self._opened_task: int | None = None  # the CSM's "acknowledge" task
        self._completed_tasks: set[int] = set()

    @workflow.signal(name="task_completed")
    def task_completed(self, task: CsmTask) -> None:
        """The CSM completed a task of this escalation; its opening task acknowledges it."""
        self._completed_tasks.add(task.id)
        if task.id == self._opened_task and self._acked_at is None:
            self._acked_at = workflow.now()

    @workflow.signal(name="action")
    def action(self, action: EscalationAction) -> None:
        now = workflow.now()
        if action.kind == EscalationActionKind.ACKNOWLEDGED and self._acked_at is None:
            self._acked_at = now
        elif action.kind == EscalationActionKind.UPDATED:
            self._acked_at = self._acked_at or now
            self._last_update_at = now
        elif action.kind == EscalationActionKind.RESOLVED and self._resolved_at is None:
            self._acked_at = self._acked_at or now
            self._resolved_at = now

    @workflow.signal(name="customer_event")
    def customer_event(self, event: CustomerEvent) -> None:
        if payload_of(event, TicketResolvedPayload) is not None:
            self.action(EscalationAction(kind=EscalationActionKind.RESOLVED, by="customer"))

    @workflow.query
    def status(self) -> EscalationStatus:
        return EscalationStatus(
            escalation_id=self._id,
            level=self._level,
            owner=self._chain[self._level] if self._chain else "",
            acknowledged=self._acked_at is not None,
            resolved=self._resolved_at is not None,
            missed_slas=list(self._missed),
        )

    @workflow.run
    async def run(self, input: EscalationInput) -> EscalationResult:
        self._work = CsActions(input.account_id, input.chain[0], input.contact_id, log=self._log)
        policy = input.config.escalation
        self._chain = list(input.chain)
        self._id = input.escalation_id
        opened = workflow.now()
        severity = ALERT_FOR_TICKET[input.severity]
        opened_task = await self._work.alert(
            f"Escalation opened ({input.severity.value}): {input.summary}"[:300],
            "opened",
            message=f"Acknowledge within {in_words(policy.ack_within)}, resolve within "
            f"{in_words(policy.resolve_within)}. Opened from a {_SOURCE_WORDS[input.source]}.",
            severity=severity,
            due_at=opened + policy.ack_within,
            owner=self._chain[0],
        )
        # A customer email may wait for the contact's quiet hours; the SLA clock does not.
        # The customer hears a person's acknowledgement in their own terms; the internals (level,
        # source, severity) stay with the staff alert above.
        notice = asyncio.ensure_future(
            self._work.email(
                policy.notice_template,
                "notice",
                context={
                    "topic": input.summary if input.source == EscalationSource.TICKET else "",
                    "ticket_id": input.ticket_id,
                    "first_response_within": in_words(policy.ack_within),
                    "resolution_within": in_words(policy.resolve_within),
                },
                # The customer hears back within the acknowledgement SLA, whatever the hour.
                deadline=opened + policy.ack_within,
            )
        )

        self._opened_task = opened_task.id
        if opened_task.id in self._completed_tasks and self._acked_at is None:
            self._acked_at = workflow.now()  # completed before the alert activity returned
        ack_at = opened + policy.ack_within
        resolve_at = opened + policy.resolve_within
        ack_missed = resolve_missed = False
        update_windows_missed = 0
        while self._resolved_at is None:
            now = workflow.now()
            if not ack_missed and self._acked_at is None and ack_at <= now:
                ack_missed = True
                await self._missed_sla(input, "acknowledge", severity)
            next_update = self._next_update_due(policy.update_every)
            if next_update is not None and next_update <= now and not resolve_missed:
                update_windows_missed += 1
                # The missed window counts from its due time, so the next window starts there.
                self._last_update_at = next_update
                await self._missed_sla(input, f"update:{update_windows_missed}", severity)
            if not resolve_missed and resolve_at <= now:
                resolve_missed = True
                await self._missed_sla(input, "resolve", severity)

            deadlines: list[datetime] = []
            if not ack_missed and self._acked_at is None:
                deadlines.append(ack_at)
            if not resolve_missed:
                deadlines.append(resolve_at)
                due = self._next_update_due(policy.update_every)
                if due is not None:
                    deadlines.append(due)
            acked_before = self._acked_at is not None
            updated_before = self._last_update_at

            def changed(
                acked_before: bool = acked_before, updated_before: datetime | None = updated_before
            ) -> bool:
                return (
                    self._resolved_at is not None
                    or (self._acked_at is not None) != acked_before
                    or self._last_update_at != updated_before
                )

            if not deadlines:
                await workflow.wait_condition(lambda: self._resolved_at is not None)
                break
            remaining = min(deadlines) - workflow.now()
            if remaining <= timedelta(0):
                continue
            try:
                await workflow.wait_condition(changed, timeout=remaining)
            except TimeoutError:
                pass

        await notice
        # Its tasks are done with: nobody has to acknowledge or chase a resolved escalation.
        await self._work.close("opened", "sla:*", outcome=ESCALATION_RESOLVED)
        csat_token: str | None = None
        if input.follow_up_csat:
            survey = await self._work.survey(
                SurveyKind.CSAT, "escalation", input.config.surveys.survey_template, "csat"
            )
            csat_token = survey.token
        return EscalationResult(
            escalation_id=input.escalation_id,
            source=input.source,
            level=self._level,
            missed_slas=list(self._missed),
            acknowledged_at=self._acked_at,
            resolved_at=self._resolved_at,
            csat_token=csat_token,
            log=self._log,
        )

    def _next_update_due(self, every: timedelta) -> datetime | None:
        """Updates are owed every `every` once acknowledged; None before acknowledgement."""
        if self._acked_at is None:
            return None
        return (self._last_update_at or self._acked_at) + every

    async def _missed_sla(self, input: EscalationInput, sla: str, severity: AlertSeverity) -> None:
        escalated_to: str | None = None
        if self._level + 1 < len(self._chain):
            self._level += 1
            escalated_to = self._chain[self._level]
            await self._work.alert(
                f"Escalation SLA missed ({sla.split(':')[0]}): {input.summary}"[:300],
                f"sla:{sla}",
                message=f"Escalated to level {self._level} of {len(self._chain) - 1}.",
                severity=severity,
                owner=escalated_to,
            )
        self._missed.append(MissedSla(sla=sla, at=workflow.now(), escalated_to=escalated_to))
