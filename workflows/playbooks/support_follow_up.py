"""SupportFollowUpWorkflow: one per support ticket (`playbook-support-<account>-<ticket>`).

Ticket logged: the CSM is alerted at once. Ticket resolved: after the policy's delay the
customer gets a CSAT survey about it. A low answer opens an EscalationWorkflow (abandoned to run
its SLAs on its own).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import Field
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.models import SurveyKind
    from domain.segments import SegmentPlaybookConfig
    from workflows import search_attributes as sa
    from workflows.customer_event import (
        CustomerEvent,
        CustomerEventType,
        TicketOpenedPayload,
        TicketResolvedPayload,
        TicketSeverity,
    )
    from workflows.escalation import (
        ALERT_FOR_TICKET,
        EscalationInput,
        EscalationSource,
        EscalationWorkflow,
    )
    from workflows.event_payloads import payload_of
    from workflows.playbooks import base, spec

# A ticket nobody resolves in this time is the escalation's business, not the follow-up's.
RESOLUTION_WAIT = timedelta(days=90)


class SupportPolicy(base.PlaybookPolicy):
    # CSAT this long after the ticket is resolved; answers at or below `low_csat_at_most`
    # escalate.
    csat_delay: timedelta = timedelta(days=1)
    low_csat_at_most: int = Field(default=2, ge=1, le=5)
    survey_window: timedelta = timedelta(days=7)
    survey_template: str = "survey_invitation"


class SupportFollowUpInput(base.PlaybookInput[SupportPolicy]):
    ticket_id: str
    subject: str
    severity: TicketSeverity = TicketSeverity.NORMAL
    # For the escalation a low CSAT opens.
    config: SegmentPlaybookConfig
    chain: list[str] = Field(min_length=1)


class SupportFollowUpResult(base.PlaybookResult):
    resolved: bool
    csat: int | None = None
    escalation_id: str | None = None


@workflow.defn
class SupportFollowUpWorkflow(base.AwaitsSurveyAnswer):
    def __init__(self) -> None:
        super().__init__()
        self._ticket_id = ""
        self._resolved = False

    @workflow.signal(name="customer_event")
    def customer_event(self, event: CustomerEvent) -> None:
        payload = payload_of(event, TicketResolvedPayload)
        if payload is not None and payload.ticket_id == self._ticket_id:
            self._resolved = True

    @workflow.run
    async def run(self, input: SupportFollowUpInput) -> SupportFollowUpResult:
        ctx = input.context
        work = ctx.actions()
        self._ticket_id = input.ticket_id
        me = workflow.info().workflow_id
        await work.alert(
            f"Ticket {input.ticket_id} logged ({input.severity.value}): {input.subject}"[:300],
            "ticket_logged",
            message="The customer opened a support ticket; check in before it festers.",
            severity=ALERT_FOR_TICKET[input.severity],
        )
        try:
            await workflow.wait_condition(lambda: self._resolved, timeout=RESOLUTION_WAIT)
        except TimeoutError:
            await base.finish(ctx, "ticket not resolved", work.log)
            return SupportFollowUpResult(resolved=False, log=work.log)
        await work.close("ticket_logged", outcome="the ticket was resolved")

        await workflow.sleep(input.policy.csat_delay)
        survey = await work.survey(
            SurveyKind.CSAT, f"ticket {input.ticket_id}", input.policy.survey_template, "csat"
        )
        self._survey_token = survey.token
        await base.report(ctx, base.PlaybookReport(playbook_id=me, surveys=list(work.log.surveys)))
        if not await base.answered_within(self._answered, input.policy.survey_window):
            await base.finish(ctx, "CSAT not answered", work.log)
            return SupportFollowUpResult(resolved=True, log=work.log)

        csat = self._answer
        assert csat is not None
        escalation_id: str | None = None
        outcome = f"CSAT {csat.score}"
        if csat.score <= input.policy.low_csat_at_most:
            escalation_id = f"escalation-{ctx.account_id}-csat-{input.ticket_id}"
            await workflow.start_child_workflow(
                EscalationWorkflow.run,
                EscalationInput(
                    escalation_id=escalation_id,
                    account_id=ctx.account_id,
                    contact_id=ctx.contact_id,
                    source=EscalationSource.LOW_CSAT,
                    severity=TicketSeverity.HIGH,
                    summary=f"Low CSAT ({csat.score}) after ticket {input.ticket_id}",
                    chain=input.chain,
                    config=input.config,
                    ticket_id=input.ticket_id,
                    # No survey about the survey: the escalation closes with a call.
                    follow_up_csat=False,
                ),
                id=escalation_id,
                search_attributes=sa.inherited_family(),
                static_summary=f"Escalation: low CSAT after ticket {input.ticket_id}",
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
            )
            outcome += f", escalated ({escalation_id})"
        await base.finish(ctx, outcome, work.log)
        return SupportFollowUpResult(
            resolved=True, csat=csat.score, escalation_id=escalation_id, log=work.log
        )


@spec.opens_on(CustomerEventType.TICKET_OPENED)
def _opens(trigger: spec.Trigger, policy: SupportPolicy) -> spec.Opening | None:
    ticket = trigger.payload
    if not isinstance(ticket, TicketOpenedPayload):
        return None
    journey = trigger.journey
    return spec.Opening(
        situation=ticket.ticket_id,
        summary=f"ticket {ticket.ticket_id} ({ticket.severity.value}): {ticket.subject}",
        input=SupportFollowUpInput(
            context=trigger.context(),
            policy=policy,
            ticket_id=ticket.ticket_id,
            subject=ticket.subject,
            severity=ticket.severity,
            config=journey.config,
            chain=journey.escalation_chain() or [journey.account.csm_owner],
        ),
    )


def _own_ticket(situation: str, payload: Any) -> bool:
    # A resolution goes to the follow-up of its own ticket only.
    return isinstance(payload, TicketResolvedPayload) and payload.ticket_id == situation


# The resolution of its ticket, and the CSAT answer it asked for.
_HEARS = spec.Receives(
    frozenset({CustomerEventType.TICKET_RESOLVED}), survey_outcomes=True, wants=_own_ticket
)
SPEC = spec.PlaybookSpec(
    "support", "Support follow-up", SupportFollowUpWorkflow, SupportPolicy, _opens, _HEARS
)
