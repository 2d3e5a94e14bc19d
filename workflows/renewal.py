"""RenewalWorkflow: outreach cadence to the decision maker ahead of the contract end date.

Starts the plan's lead time before the end date (120/60/30 days for enterprise/mid-market/SMB).
Reminders follow the cadence until the decision maker replies; with neither a reply nor a
decision by the manager-escalation point, the CSM's manager is alerted. The outcome (renewed,
churned, auto-renewed) is recorded on the contract.
"""

from __future__ import annotations

from datetime import date, timedelta

from pydantic import BaseModel, Field
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.crm import CrmActivities
    from domain.models import (
        AlertSeverity,
        ContractOutcome,
        ContractOutcomeKind,
        TaskPriority,
    )
    from domain.segments import SegmentPlaybookConfig
    from workflows.actions import CsActions
    from workflows.activity_calls import call
    from workflows.contract_dates import contract_end_at
    from workflows.customer_event import (
        ContractCancelledPayload,
        ContractRenewedPayload,
        CustomerEvent,
        EmailRepliedPayload,
    )
    from workflows.event_payloads import payload_of
    from workflows.work_log import WorkLog


class RenewalInput(BaseModel):
    account_id: str
    csm_owner: str
    csm_manager: str
    decision_maker_contact_id: str
    contract_end: date
    contract_value: float = 0.0
    auto_renew: bool = False
    # Term of an auto-renewal (and of a renewal that does not name its own end date).
    renewal_term: timedelta = timedelta(days=365)
    config: SegmentPlaybookConfig
    # A cancellation that arrived before the renewal window opened, and the reason given.
    cancel_requested: bool = False
    cancel_reason: str = ""


class RenewalResult(BaseModel):
    outcome: ContractOutcomeKind
    new_end_date: date | None = None
    responded: bool = False
    outreach_sent: int = 0
    escalated_to_manager: bool = False
    log: WorkLog = Field(default_factory=WorkLog)


_DECIDED = {
    ContractOutcomeKind.RENEWED: "renewed",
    ContractOutcomeKind.CHURNED: "not renewed",
    ContractOutcomeKind.AUTO_RENEWED: "renewed automatically",
}
# Why a renewal ended as it did, when the customer gave no reason of their own.
_REASONS = {
    ContractOutcomeKind.RENEWED: "renewed by the customer",
    ContractOutcomeKind.CHURNED: "cancelled by the customer",
    ContractOutcomeKind.AUTO_RENEWED: "renewed automatically",
}
_UNDECIDED = {
    ContractOutcomeKind.RENEWED: "renewed by the customer",
    ContractOutcomeKind.CHURNED: "the contract ended without a renewal decision",
    ContractOutcomeKind.AUTO_RENEWED: "renewed automatically at the end of the term",
}


@workflow.defn
class RenewalWorkflow:
    def __init__(self) -> None:
        self._responded = False
        self._decision: ContractOutcomeKind | None = None
        # The renewed contract's value when the customer renewed at a new price.
        self._new_value: float | None = None
        self._new_end: date | None = None
        self._reason = ""  # the customer's own words when they cancel
        self._log = WorkLog()

    @workflow.signal(name="customer_event")
    def customer_event(self, event: CustomerEvent) -> None:
        match payload_of(event, object):
            case EmailRepliedPayload():
                self._responded = True
            case ContractRenewedPayload(new_end_date=end, new_value=value) if not self._decision:
                self._responded = True
                self._decision = ContractOutcomeKind.RENEWED
                self._new_end, self._new_value = end, value
            case ContractCancelledPayload(reason=reason) if self._decision is None:
                self._responded = True
                self._decision = ContractOutcomeKind.CHURNED
                self._reason = reason

    @workflow.query
    def decision(self) -> ContractOutcomeKind | None:
        return self._decision

    @workflow.run
    async def run(self, input: RenewalInput) -> RenewalResult:
        self._work = CsActions(
            input.account_id, input.csm_owner, input.decision_maker_contact_id, log=self._log
        )
        plan = input.config.renewal
        if input.cancel_requested:
            self._decision = ContractOutcomeKind.CHURNED
            self._reason = input.cancel_reason
        end_at = contract_end_at(input.contract_end)
        escalate_at = end_at - plan.manager_escalation_before_end

        await self._work.task(
            f"Prepare renewal (contract ends {input.contract_end.isoformat()})",
            "prepare",
            due_at=escalate_at,
        )

        outreach = 0
        escalated = False
        next_outreach = workflow.now()
        while self._decision is None and workflow.now() < end_at:
            now = workflow.now()
            # An auto-renewing contract gets one notice, not a chase: it renews by itself.
            chase = not input.auto_renew or outreach == 0
            if not self._responded and chase and next_outreach <= now:
                outreach += 1
                await self._work.email(
                    plan.outreach_template if outreach == 1 else plan.reminder_template,
                    "renewal_outreach",
                    context={
                        "renewal_date": input.contract_end.isoformat(),
                        "days_left": max(0, (end_at - now).days),
                    },
                    attempt=outreach,
                    asks=True,
                    # An auto-renewal notice is about billing: it reaches even an unsubscribed
                    # contact; a renewal conversation is nurture mail.
                    category="billing" if input.auto_renew else "customer_success",
                )
                next_outreach = now + plan.reminder_cadence
            if (
                not self._responded
                and not input.auto_renew
                and not escalated
                and escalate_at <= now
            ):
                escalated = True
                await self._work.alert(
                    "Renewal at risk: decision maker unresponsive",
                    "manager_escalation",
                    message=f"No reply after {outreach} renewal emails; the contract ends "
                    f"{input.contract_end.isoformat()}.",
                    severity=AlertSeverity.CRITICAL,
                    owner=input.csm_manager,
                )
                await self._work.task(
                    "Renewal escalated to your manager: agree a save plan",
                    "manager_escalation_task",
                    priority=TaskPriority.URGENT,
                )
            deadlines = [end_at]
            if not self._responded and not input.auto_renew:
                deadlines.append(next_outreach)
                if not escalated:
                    deadlines.append(escalate_at)
            elif not self._responded and outreach == 0:
                deadlines.append(next_outreach)
            remaining = min(deadlines) - workflow.now()
            if remaining <= timedelta(0):
                continue
            responded_before = self._responded
            try:
                await workflow.wait_condition(
                    lambda before=responded_before: (  # type: ignore[misc]
                        self._decision is not None or self._responded != before
                    ),
                    timeout=remaining,
                )
            except TimeoutError:
                pass

        outcome, new_end = self._outcome(input)
        await self._work.close(
            "prepare", "manager_escalation*", outcome=f"renewal decided: {_DECIDED[outcome]}"
        )
        await call(
            CrmActivities.record_contract_outcome,
            ContractOutcome(
                account_id=input.account_id,
                outcome=outcome,
                new_end_date=new_end,
                new_value=(
                    None
                    if outcome == ContractOutcomeKind.CHURNED
                    else self._new_value or input.contract_value
                ),
                reason=self._reason_for(outcome),
                workflow_id=workflow.info().workflow_id,
            ),
        )
        return RenewalResult(
            outcome=outcome,
            new_end_date=new_end,
            responded=self._responded,
            outreach_sent=outreach,
            escalated_to_manager=escalated,
            log=self._log,
        )

    def _reason_for(self, outcome: ContractOutcomeKind) -> str:
        """What the CRM keeps as the outcome's reason: the customer's words when they gave any."""
        if self._reason:
            return self._reason
        return _REASONS[outcome] if self._decision is not None else _UNDECIDED[outcome]

    def _outcome(self, input: RenewalInput) -> tuple[ContractOutcomeKind, date | None]:
        if self._decision == ContractOutcomeKind.RENEWED:
            return self._decision, self._new_end or input.contract_end + input.renewal_term
        if self._decision == ContractOutcomeKind.CHURNED:
            return self._decision, None
        if input.auto_renew:
            return ContractOutcomeKind.AUTO_RENEWED, input.contract_end + input.renewal_term
        return ContractOutcomeKind.CHURNED, None
