"""RequirementsGatheringWorkflow: introduce the CSM, send the questionnaire, chase the answers.

Reminders at the plan's offsets (day 3 and 7 by default), a CSM task if nothing arrived by the
escalation offset (day 10); answers arrive as a forwarded `questionnaire_answered` customer event
and are recorded on the account.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, Field
from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.crm import CrmActivities
    from domain.models import RequirementsAnswers, TaskPriority
    from domain.segments import SegmentPlaybookConfig
    from workflows.actions import CsActions, failure_type
    from workflows.activity_calls import call
    from workflows.customer_event import CustomerEvent, CustomerEventType, InvalidCustomerEvent
    from workflows.work_log import WorkLog


def questionnaire_path(account_id: str) -> str:
    """Where the questionnaire lives on the public site (the email adds its address)."""
    return f"/requirements/{account_id}"


class RequirementsInput(BaseModel):
    account_id: str
    csm_owner: str
    contact_id: str
    config: SegmentPlaybookConfig
    # After the CSM task, keep listening this long before handing over to onboarding anyway.
    give_up_after: timedelta = timedelta(days=30)


class RequirementsResult(BaseModel):
    answered: bool
    answered_at: datetime | None = None
    reminders_sent: int = 0
    escalated: bool = False
    log: WorkLog = Field(default_factory=WorkLog)


@workflow.defn
class RequirementsGatheringWorkflow:
    def __init__(self) -> None:
        self._answers: RequirementsAnswers | None = None
        self._answered_at: datetime | None = None
        self._log = WorkLog()

    @workflow.signal(name="customer_event")
    def customer_event(self, event: CustomerEvent) -> None:
        if self._answers is not None:
            return  # first answer wins; later ones are duplicates of the same questionnaire
        try:
            if event.event_type != CustomerEventType.QUESTIONNAIRE_ANSWERED:
                return
            self._answers = event.requirements_answers(workflow.info().workflow_id)
        except InvalidCustomerEvent as exc:
            workflow.logger.warning("ignoring customer event: %s", exc)
            return
        self._answered_at = workflow.now()

    @workflow.query
    def answered(self) -> bool:
        return self._answers is not None

    @workflow.run
    async def run(self, input: RequirementsInput) -> RequirementsResult:
        self._work = CsActions(input.account_id, input.csm_owner, input.contact_id, log=self._log)
        plan = input.config.requirements
        started = workflow.now()
        await self._work.email(
            input.config.onboarding.introduction_template,
            "introduction",
            context={"csm_owner": input.csm_owner},
        )
        await self._work.email(
            plan.questionnaire_template,
            "questionnaire",
            context={"questionnaire_path": questionnaire_path(input.account_id)},
            asks=True,
        )

        reminders = 0
        for number, offset in enumerate(plan.reminder_after, start=1):
            if await self._wait_for_answers_until(started + offset):
                break
            await self._work.email(
                plan.reminder_template,
                "questionnaire_reminder",
                context={"questionnaire_path": questionnaire_path(input.account_id)},
                attempt=number,
                asks=True,
            )
            reminders += 1

        escalated = False
        if not await self._wait_for_answers_until(started + plan.escalate_after):
            await self._work.task(
                "Requirements questionnaire unanswered: call the champion",
                "questionnaire_escalation",
                description=f"No answers {plan.escalate_after.days} days after the questionnaire "
                f"and {reminders} reminders.",
                due_in=timedelta(days=2),
                priority=TaskPriority.HIGH,
            )
            escalated = True
            await self._wait_for_answers_until(started + plan.escalate_after + input.give_up_after)

        if self._answers is not None:
            await self._work.close("questionnaire_escalation", outcome="the customer answered")
            try:
                await call(CrmActivities.record_requirements, self._answers)
            except ActivityError as exc:
                # E.g. an unknown respondent contact: the answers stand, a human files them.
                workflow.logger.warning("requirements not recorded: %s", exc.cause or exc)
                await self._work.failed_step(
                    "Requirements answers could not be recorded in the CRM",
                    reason=f"{exc.cause or exc}\n\nAnswers: "
                    f"reasons for purchase: {self._answers.reasons_for_purchase}; "
                    f"intended use: {self._answers.intended_use}",
                    step=f"record_requirements:{failure_type(exc)}",
                )
        return RequirementsResult(
            answered=self._answers is not None,
            answered_at=self._answered_at,
            reminders_sent=reminders,
            escalated=escalated,
            log=self._log,
        )

    async def _wait_for_answers_until(self, deadline: datetime) -> bool:
        """True once answers are in; False when the absolute `deadline` passes first."""
        remaining = deadline - workflow.now()
        if self._answers is not None:
            return True
        if remaining <= timedelta(0):
            return False
        try:
            await workflow.wait_condition(lambda: self._answers is not None, timeout=remaining)
        except TimeoutError:
            return False
        return True
