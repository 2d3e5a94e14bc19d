"""NpsFollowUpWorkflow: after the journey's periodic NPS survey (`playbook-nps-<account>-<n>`).

One reminder when the survey is still unanswered after the policy's delay. A promoter's answer
opens a task to ask for a reference, testimonial or advocacy; a detractor's answer is escalated
by the journey (the same EscalationWorkflow as before playbooks existed), noted here.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.models import Survey, SurveyCategory
    from workflows.playbooks import base, spec


class NpsPolicy(base.PlaybookPolicy):
    # One reminder, then the answer window closes.
    reminder_after: timedelta = timedelta(days=5)
    window: timedelta = timedelta(days=14)
    reminder_template: str = "survey_invitation"


class NpsFollowUpInput(base.PlaybookInput[NpsPolicy]):
    survey_token: str
    survey_link: str
    round: int


class NpsFollowUpResult(base.PlaybookResult):
    reminded: bool
    score: int | None = None
    category: SurveyCategory | None = None


@workflow.defn
class NpsFollowUpWorkflow(base.AwaitsSurveyAnswer):
    @workflow.run
    async def run(self, input: NpsFollowUpInput) -> NpsFollowUpResult:
        ctx = input.context
        self._survey_token = input.survey_token
        work = ctx.actions()
        reminded = False
        if not await base.answered_within(self._answered, input.policy.reminder_after):
            reminded = True
            await work.email(
                input.policy.reminder_template,
                "reminder",
                context={
                    "survey_link": input.survey_link,
                    "survey_kind": "nps",
                    "topic": "relationship",
                    "reminder": True,
                },
                category="survey",
                asks=True,
            )
            await base.answered_within(
                self._answered, input.policy.window - input.policy.reminder_after
            )
        answer = self._answer
        if answer is None:
            outcome = "no answer" + (" after a reminder" if reminded else "")
        elif answer.category == SurveyCategory.PROMOTER:
            await work.task(
                "Promoter: ask for a reference, testimonial or advocacy",
                "advocacy_ask",
                description=f"Scored {answer.score} on NPS round {input.round}.",
                due_in=timedelta(days=7),
                priority=ctx.task_priority,
            )
            outcome = f"promoter ({answer.score}): advocacy ask task"
        elif answer.category == SurveyCategory.DETRACTOR:
            outcome = f"detractor ({answer.score}): escalated by the journey"
        else:
            outcome = f"{answer.category.value} ({answer.score})"
        await base.finish(ctx, outcome, work.log)
        return NpsFollowUpResult(
            reminded=reminded,
            score=answer.score if answer else None,
            category=answer.category if answer else None,
            log=work.log,
        )


class NpsSent(BaseModel):
    """The journey's periodic NPS survey that just went out."""

    survey: Survey
    round: int


@spec.opens_on(spec.JourneyMoment.NPS_SENT)
def _opens(trigger: spec.Trigger, policy: NpsPolicy) -> spec.Opening | None:
    sent = trigger.payload
    if not isinstance(sent, NpsSent):
        return None
    return spec.Opening(
        situation=f"round-{sent.round}",
        summary=f"NPS round {sent.round}: reminder, promoter ask, detractor escalation",
        input=NpsFollowUpInput(
            context=trigger.context(),
            policy=policy,
            survey_token=sent.survey.token,
            survey_link=sent.survey.link,
            round=sent.round,
        ),
    )


# The answer to its round's survey.
_HEARS = spec.Receives(survey_outcomes=True)
SPEC = spec.PlaybookSpec("nps", "NPS follow-up", NpsFollowUpWorkflow, NpsPolicy, _opens, _HEARS)
