"""What the journey does with each customer event: one small handler per event type, then the
playbooks the event triggers, the open playbooks it concerns, and the stage it is for."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.crm import CrmActivities
    from activities.surveys import SurveyActivities
    from domain.input_checks import ACCEPTED_EARLIER, clean_text
    from domain.models import (
        AccountUpsert,
        AlertSeverity,
        SurveyAnswer,
        SurveyCategory,
        SurveyKind,
        TaskPriority,
        TouchpointInput,
        TouchpointKind,
    )
    from workflows.activity_calls import call
    from workflows.customer_event import (
        CUSTOMER_ACTIONS,
        ContactChangedPayload,
        ContractCancelledPayload,
        ContractRenewedPayload,
        ContractSignedPayload,
        CustomerEvent,
        CustomerEventType,
        EmailBouncedPayload,
        InvalidCustomerEvent,
        PlanChange,
        PlanChangedPayload,
        StartPayload,
        SurveyAnsweredPayload,
        TicketOpenedPayload,
        TicketResolvedPayload,
        TicketSeverity,
        UsageReportedPayload,
    )
    from workflows.escalation import EscalationSource
    from workflows.idempotency import step_key
    from workflows.journey_context import JourneyContext, for_crm
    from workflows.journey_escalations import EscalationDesk
    from workflows.journey_health import HealthKeeper
    from workflows.journey_stages import Handover, Stage, StageRunner
    from workflows.playbooks.base import SurveyOutcome
    from workflows.playbooks.launcher import PlaybookLauncher

# Support tickets that also get an SLA escalation (the others: the support follow-up only).
SLA_SEVERITIES = frozenset({TicketSeverity.HIGH, TicketSeverity.URGENT})


class EventHandlers:
    def __init__(
        self,
        journey: JourneyContext,
        stages: StageRunner,
        escalations: EscalationDesk,
        health: HealthKeeper,
        playbooks: PlaybookLauncher,
    ) -> None:
        self._journey = journey
        self._stages = stages
        self._escalations = escalations
        self._health = health
        self._playbooks = playbooks

    async def apply(self, event: CustomerEvent) -> Handover:
        """Apply one event; where it went (an escalation or stage child, or kept for a stage).
        Raises when the event cannot be applied (the caller rejects it)."""
        journey = self._journey
        if event.rejection is not None:
            raise InvalidCustomerEvent(event.rejection)
        kind = event.event_type
        # Checked as new input when it arrived (validator, signal handler): re-read, not re-judged.
        payload = event.parse(accepted=True)
        journey.note(kind.value, journey.describe(event))
        before = journey.account
        handled_by = await self._handle(event, payload)
        await self._playbooks.on(kind, journey.trigger(event, payload, before))
        await self._playbooks.forward(event, payload)
        if handled_by is not None:
            return Handover(handed_to=handled_by)
        if kind in CUSTOMER_ACTIONS:
            self._health.responded(kind)
        journey.work_logged = True
        handover = await self._stages.hand_over(event, payload)
        if handover == Handover() and kind == CustomerEventType.EMAIL_REPLIED:
            await self._log_reply(event)  # no stage took it
        return handover

    async def _handle(self, event: CustomerEvent, payload: object) -> str | None:
        """The event type's own effect; the escalation it went to, if one took it."""
        journey = self._journey
        renewal_running = self._stages.running == Stage.RENEWAL
        match payload:
            case StartPayload(contract=contract):
                if contract is not None:
                    journey.set_contract(contract)
                if event.event_type == CustomerEventType.PAYMENT_RECEIVED:
                    journey.state.paid = True
            case ContractSignedPayload(contract=contract):
                journey.set_contract(contract)
                journey.state.paid = True
            case SurveyAnsweredPayload():
                await self._survey_answered(event, payload)
            case TicketOpenedPayload() if payload.severity in SLA_SEVERITIES:
                await self._escalations.open(
                    EscalationSource.TICKET,
                    f"escalation-{event.account_id}-ticket-{payload.ticket_id}",
                    payload.subject,
                    payload.severity,
                    ticket_id=payload.ticket_id,
                    follow_up_csat=False,  # the support follow-up asks for the CSAT
                )
            case TicketResolvedPayload():
                return await self._escalations.ticket_resolved(event, payload)
            case UsageReportedPayload():
                self._health.usage(payload)
                await self._health.refresh()
            case EmailBouncedPayload(email=email):
                await self._bounced(email)
            case ContactChangedPayload():
                await self._contact_changed(payload)
            case PlanChangedPayload():
                await self._plan_changed(payload)
            case ContractRenewedPayload(new_end_date=end) if not renewal_running:
                journey.set_contract_end(end)
            case ContractCancelledPayload(reason=reason) if not renewal_running:
                journey.state.cancel_requested = True
                journey.state.cancel_reason = reason
        return None

    async def _survey_answered(self, event: CustomerEvent, answer: SurveyAnsweredPayload) -> None:
        state = self._journey.state
        response = await call(
            SurveyActivities.record_survey_response,
            SurveyAnswer.model_validate(
                # Cleaned: an answer accepted before the checks existed still reaches the CRM.
                {
                    "token": answer.token,
                    "score": answer.score,
                    "comment": clean_text(answer.comment),
                },
                context=ACCEPTED_EARLIER,
            ),
        )
        for record in state.log.surveys:
            if record.token == answer.token:
                record.score = response.score
                record.category = response.category.value
        if response.kind == SurveyKind.NPS:
            state.latest_nps = response.score
        else:
            state.latest_csat = response.score
        await self._health.refresh()
        await self._playbooks.survey_outcome(
            SurveyOutcome(
                token=response.token,
                kind=response.kind,
                score=response.score,
                category=response.category,
            )
        )
        if response.category == SurveyCategory.DETRACTOR:
            await self._escalations.open(
                EscalationSource.DETRACTOR,
                f"escalation-{event.account_id}-nps-{response.survey_id}",
                f"NPS detractor: scored {response.score}"
                + (f" ({response.comment})" if response.comment else ""),
                TicketSeverity.HIGH,
            )

    async def _bounced(self, email: str) -> None:
        journey = self._journey
        journey.state.bounced.append(email)
        await journey.work().task(
            f"Email to {email} bounced: find a working contact",
            f"bounce:{journey.state.sequence + 1}",
            priority=TaskPriority.HIGH,
        )

    async def _contact_changed(self, change: ContactChangedPayload) -> None:
        account = self._journey.account
        contact = change.contact
        if change.left:
            contact = contact.model_copy(update={"opted_out": True})
        contacts = [c for c in account.contacts if c.id != contact.id]
        contacts.append(contact)
        await self._update_account(account.model_copy(update={"contacts": contacts}))

    async def _plan_changed(self, change: PlanChangedPayload) -> None:
        journey = self._journey
        account = journey.account
        previous = change.previous_plan or account.plan
        await self._update_account(account.model_copy(update={"plan": change.plan}))
        if change.change == PlanChange.DOWNGRADE:
            await journey.work().alert(
                f"Plan downgraded: {previous} -> {change.plan}",
                f"downgrade:{journey.state.sequence + 1}",
                severity=AlertSeverity.WARNING,
                owner=account.csm_owner,
            )

    async def _update_account(self, updated: AccountUpsert) -> None:
        await call(CrmActivities.upsert_account, for_crm(updated))
        self._journey.input.account = updated

    async def _log_reply(self, event: CustomerEvent) -> None:
        """A reply no stage is waiting for goes on the account's record as a touchpoint."""
        journey = self._journey
        number = journey.state.sequence + 1
        workflow_id = workflow.info().workflow_id
        await call(
            CrmActivities.append_touchpoint,
            TouchpointInput(
                account_id=event.account_id,
                kind=TouchpointKind.NOTE,
                summary=journey.describe(event),
                workflow_id=workflow_id,
                step=f"event:{number}",
                occurred_at=event.occurred_at or workflow.now(),
                idempotency_key=step_key(workflow_id, "event", number),
            ),
        )
