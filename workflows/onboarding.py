"""OnboardingWorkflow: kickoff invite, staged training/webinar emails, milestone tracking.

Milestones (first login, first key action) arrive as forwarded `usage_reported` events. A milestone
with no progress for the plan's stall threshold creates one CSM task. Once every milestone is
reached the customer gets the completion email and a CSAT survey about onboarding; the journey
then moves the account to Adoption.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, NamedTuple

from pydantic import BaseModel, Field
from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.calendar import CalendarActivities
    from domain.models import EmailReceipt, EmailStatus, KickoffInvite, SurveyKind, TaskPriority
    from domain.segments import SegmentPlaybookConfig
    from workflows.actions import CsActions, failure_type
    from workflows.customer_event import (
        CustomerEvent,
        Milestone,
        UsageReportedPayload,
    )
    from workflows.email_deferral import send_governed
    from workflows.event_payloads import payload_of
    from workflows.idempotency import step_key
    from workflows.work_log import EmailRecord, WorkLog


class OnboardingInput(BaseModel):
    account_id: str
    csm_owner: str
    contact_id: str
    config: SegmentPlaybookConfig
    milestones: list[Milestone] = Field(
        default_factory=lambda: [Milestone.FIRST_LOGIN, Milestone.FIRST_KEY_ACTION]
    )
    # Staging of the learning material (not part of the segment playbook yet).
    training_after: timedelta = timedelta(days=7)
    webinar_after: timedelta = timedelta(days=14)
    # Hand over to adoption even if milestones never arrive (the CSM has a task by then).
    give_up_after: timedelta = timedelta(days=60)


class OnboardingResult(BaseModel):
    completed: bool
    milestones: dict[str, datetime] = Field(default_factory=dict)
    stalled: list[str] = Field(default_factory=list)
    csat_token: str | None = None
    log: WorkLog = Field(default_factory=WorkLog)


class _Staged(NamedTuple):
    """An onboarding email sent on its day unless the customer finished onboarding before."""

    step: str
    due: datetime
    template: str
    context: dict[str, Any]


# Self-serve material the training email links to.
_TRAINING_MATERIALS = [
    {"title": "Getting started", "path": "/guides/getting-started"},
    {"title": "Playbooks 101", "path": "/guides/playbooks"},
]


def _staged_emails(input: OnboardingInput, started: datetime) -> list[_Staged]:
    """Training material (unless the segment gets a webinar instead), then the webinar invite."""
    plan = input.config.onboarding
    webinar = {
        "webinar_title": "Onboarding live session",
        "webinar_at": (started + input.webinar_after + timedelta(days=7)).isoformat(),
        "registration_path": "/webinars/onboarding",
    }
    training = {"materials": _TRAINING_MATERIALS}
    emails = [
        _Staged("training", started + input.training_after, plan.training_template, training),
        _Staged("webinar", started + input.webinar_after, plan.webinar_template, webinar),
    ]
    return emails[1:] if plan.webinar_instead_of_training else emails


@workflow.defn
class OnboardingWorkflow:
    def __init__(self) -> None:
        self._reached: dict[str, datetime] = {}
        self._log = WorkLog()

    @workflow.signal(name="customer_event")
    def customer_event(self, event: CustomerEvent) -> None:
        payload = payload_of(event, UsageReportedPayload)
        if (
            payload is not None
            and payload.milestone is not None
            and payload.milestone.value not in self._reached
        ):
            self._reached[payload.milestone.value] = workflow.now()

    @workflow.query
    def milestones(self) -> dict[str, datetime]:
        return dict(self._reached)

    @workflow.run
    async def run(self, input: OnboardingInput) -> OnboardingResult:
        self._work = CsActions(input.account_id, input.csm_owner, input.contact_id, log=self._log)
        plan = input.config.onboarding
        started = workflow.now()
        wanted = [m.value for m in input.milestones]
        await self._kickoff(input, started + plan.kickoff_within)

        staged = _staged_emails(input, started)
        stalled: list[str] = []
        give_up_at = started + input.give_up_after

        def done() -> bool:
            return all(m in self._reached for m in wanted)

        while not done() and workflow.now() < give_up_at:
            # A milestone stalls when nothing progressed for the threshold since the last one.
            progress = max([started, *self._reached.values()])
            stall_at = progress + plan.stall_threshold
            pending = [m for m in wanted if m not in self._reached and m not in stalled]
            deadlines = [s.due for s in staged] + [give_up_at]
            if pending:
                deadlines.append(stall_at)
            next_at = min(deadlines)
            remaining = next_at - workflow.now()
            if remaining > timedelta(0):
                try:
                    await workflow.wait_condition(done, timeout=remaining)
                    break
                except TimeoutError:
                    pass
            now = workflow.now()
            for item in [s for s in staged if s.due <= now]:
                staged.remove(item)
                await self._work.email(item.template, item.step, context=dict(item.context))
            if pending and stall_at <= now and not done():
                milestone = pending[0]
                stalled.append(milestone)
                await self._work.task(
                    f"Onboarding stalled: {milestone.replace('_', ' ')} not reached",
                    f"stalled:{milestone}",
                    description=f"No onboarding progress for {plan.stall_threshold.days} days.",
                    due_in=timedelta(days=2),
                    priority=TaskPriority.HIGH,
                )

        completed = done()
        csat_token: str | None = None
        if completed:
            await self._work.close("stalled:*", outcome="the customer reached every milestone")
            await self._work.email(plan.complete_template, "complete")
            if input.config.surveys.csat_after_onboarding:
                survey = await self._work.survey(
                    SurveyKind.CSAT, "onboarding", input.config.surveys.survey_template, "csat"
                )
                csat_token = survey.token
        return OnboardingResult(
            completed=completed,
            milestones=dict(self._reached),
            stalled=stalled,
            csat_token=csat_token,
            log=self._log,
        )

    async def _kickoff(self, input: OnboardingInput, starts_at: datetime) -> None:
        workflow_id = workflow.info().workflow_id
        key = step_key(workflow_id, "kickoff")
        failure: ActivityError | None = None
        try:
            receipt = await send_governed(
                CalendarActivities.send_kickoff_invite,
                KickoffInvite(
                    account_id=input.account_id,
                    contact_id=input.contact_id,
                    starts_at=starts_at,
                    duration_minutes=input.config.onboarding.kickoff_duration_minutes,
                    idempotency_key=key,
                    organizer_email=input.csm_owner,
                    workflow_id=workflow_id,
                    step="kickoff",
                ),
            )
        except ActivityError as exc:
            workflow.logger.warning("kickoff invite not sent: %s", exc.cause or exc)
            receipt = EmailReceipt(
                idempotency_key=key, status=EmailStatus.REJECTED, reason=str(exc.cause or exc)
            )
            failure = exc
        self._log.emails.append(
            EmailRecord(
                key=key,
                template=input.config.onboarding.kickoff_template,
                status=receipt.status,
                at=workflow.now(),
            )
        )
        if failure is not None:
            await self._work.failed_step(
                f"Kickoff invitation could not be sent to contact {input.contact_id}",
                reason=receipt.reason or failure_type(failure),
                step=f"undeliverable:{input.contact_id}:{failure_type(failure)}",
            )
