"""NpsFollowUpWorkflow: after the journey's periodic NPS survey (`playbook-nps-<account>-<n>`).

One reminder when the survey is still unanswered after the policy's delay. A promoter's answer
opens a task to ask for a reference, testimonial or advocacy; a detractor's answer is escalated
by the journey (the same EscalationWorkflow as before playbooks existed), noted here.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, Field
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.models import SurveyCategory
    from workflows import actions
    from workflows.playbook import PlaybookContext, SurveyOutcome, final_report, report
    from workflows.work_log import WorkLog


class NpsFollowUpInput(BaseModel):
    context: PlaybookContext
    survey_token: str
    survey_link: str
    round: int


class NpsFollowUpResult(BaseModel):
    reminded: bool
    score: int | None = None
    category: SurveyCategory | None = None
    log: WorkLog = Field(default_factory=WorkLog)


@workflow.defn
class NpsFollowUpWorkflow:
    def __init__(self) -> None:
        self._token = ""
        self._answer: SurveyOutcome | None = None

    @workflow.signal(name="survey_outcome")
    def survey_outcome(self, outcome: SurveyOutcome) -> None:
        if outcome.token == self._token and self._answer is None:
            self._answer = outcome

    @workflow.run
    async def run(self, input: NpsFollowUpInput) -> NpsFollowUpResult:
        ctx = input.context
        self._token = input.survey_token
        log = WorkLog()
        reminded = False
        if not await self._answered_within(ctx.policy.nps_reminder_after):
            reminded = True
            await actions.send_email(
                log,
                account_id=ctx.account_id,
                contact_id=ctx.contact_id,
                template=ctx.policy.templates.survey,
                step="reminder",
                context={
                    "survey_link": input.survey_link,
                    "survey_kind": "nps",
                    "topic": "relationship",
                    "reminder": True,
                },
                category="survey",
                owner=ctx.csm_owner,
            )
            await self._answered_within(ctx.policy.nps_window - ctx.policy.nps_reminder_after)
        answer = self._answer
        if answer is None:
            outcome = "no answer" + (" after a reminder" if reminded else "")
        elif answer.category == SurveyCategory.PROMOTER:
            await actions.create_task(
                log,
                account_id=ctx.account_id,
                owner=ctx.csm_owner,
                title="Promoter: ask for a reference, testimonial or advocacy",
                description=f"Scored {answer.score} on NPS round {input.round}.",
                step="advocacy_ask",
                due_at=workflow.now() + timedelta(days=7),
                priority=ctx.task_priority,
            )
            outcome = f"promoter ({answer.score}): advocacy ask task"
        elif answer.category == SurveyCategory.DETRACTOR:
            outcome = f"detractor ({answer.score}): escalated by the journey"
        else:
            outcome = f"{answer.category.value} ({answer.score})"
        await report(ctx, final_report(workflow.info().workflow_id, outcome, log))
        return NpsFollowUpResult(
            reminded=reminded,
            score=answer.score if answer else None,
            category=answer.category if answer else None,
            log=log,
        )

    async def _answered_within(self, wait: timedelta) -> bool:
        try:
            await workflow.wait_condition(
                lambda: self._answer is not None, timeout=max(wait, timedelta(seconds=1))
            )
        except TimeoutError:
            return False
        return True
