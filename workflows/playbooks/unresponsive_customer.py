"""UnresponsiveCustomerWorkflow: no reply to N touches in a row (`playbook-unresponsive-...`).

A re-engagement sequence, one email per cadence step: product updates, congratulations on the
milestones the customer reached, an offer of help; still nothing, and the CSM gets a task to go
through the executive sponsor. Any response (forwarded by the journey) ends it.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.models import EmailStatus, LifecycleStage, TaskPriority
    from workflows.customer_event import CUSTOMER_ACTIONS, CustomerEvent
    from workflows.playbooks import base, spec


class UnresponsivePolicy(base.PlaybookPolicy):
    # Touches that asked for an answer and got none within `answer_window`, in a row, before
    # re-engagement starts; and its cadence.
    after_touches: int = Field(default=3, ge=1)
    answer_window: timedelta = timedelta(days=7)  # about five business days
    every: timedelta = timedelta(days=7)
    product_updates_template: str = "re_engagement_product_updates"
    milestones_template: str = "re_engagement_milestones"
    help_template: str = "re_engagement_help"


class UnresponsiveInput(base.PlaybookInput[UnresponsivePolicy]):
    unanswered_touches: int
    milestones: list[str] = Field(default_factory=list)


class UnresponsiveResult(base.PlaybookResult):
    responded: bool
    emails_sent: int
    executive_task: bool


@workflow.defn
class UnresponsiveCustomerWorkflow:
    def __init__(self) -> None:
        self._responded = False

    @workflow.signal(name="customer_event")
    def customer_event(self, event: CustomerEvent) -> None:
        # The journey forwards only responses (replies, survey or questionnaire answers).
        self._responded = True

    @workflow.run
    async def run(self, input: UnresponsiveInput) -> UnresponsiveResult:
        ctx = input.context
        policy = input.policy
        work = ctx.actions()
        steps: list[tuple[str, str, dict[str, object]]] = [
            ("product_updates", policy.product_updates_template, {}),
        ]
        if input.milestones:
            steps.append(
                (
                    "milestones",
                    policy.milestones_template,
                    {"milestones": [m.replace("_", " ") for m in input.milestones]},
                )
            )
        steps.append(("offer_help", policy.help_template, {"csm_email": ctx.csm_owner}))
        sent = 0
        for index, (step, template, context) in enumerate(steps):
            if index and await base.answered_within(lambda: self._responded, policy.every):
                break
            if self._responded:
                break
            await work.email(template, step, context=context, category="re_engagement")
            sent += 1
        executive = False
        if not self._responded and not await base.answered_within(
            lambda: self._responded, policy.every
        ):
            executive = True
            await work.task(
                "Unresponsive customer: reach out through the executive sponsor",
                "executive_sponsor",
                description=f"No reply to {input.unanswered_touches} touches nor to {sent} "
                "re-engagement emails.",
                due_in=timedelta(days=3),
                priority=TaskPriority.HIGH,
            )
        outcome = (
            f"customer responded after {sent} re-engagement emails"
            if self._responded
            else f"{sent} re-engagement emails, executive-sponsor task"
        )
        await base.finish(ctx, outcome, work.log)
        return UnresponsiveResult(
            responded=self._responded, emails_sent=sent, executive_task=executive, log=work.log
        )


@spec.opens_on(spec.JourneyMoment.WORK_LOGGED)
def _opens(trigger: spec.Trigger, policy: UnresponsivePolicy) -> spec.Opening | None:
    """After `after_touches` touches in a row went unanswered; one playbook per silence."""
    state = trigger.state
    if state.silence_playbook_open or state.stage == LifecycleStage.CHURNED:
        return None
    since = state.last_response_at or state.started_at
    answered_by = trigger.now - policy.answer_window
    touches = [
        e
        for e in state.log.emails
        if e.asks
        and since < e.at <= answered_by
        and e.status in (EmailStatus.SENT, EmailStatus.OUTBOXED)
    ]
    if len(touches) < policy.after_touches:
        return None
    state.silence += 1
    state.silence_playbook_open = True  # until the customer responds (the journey resets it)
    return spec.Opening(
        situation=f"silence-{state.silence}",
        summary=f"no response to {len(touches)} touches since {since:%Y-%m-%d}",
        input=UnresponsiveInput(
            context=trigger.context(),
            policy=policy,
            unanswered_touches=len(touches),
            milestones=list(state.milestones),
        ),
    )


SPEC = spec.PlaybookSpec(
    "unresponsive",
    "Unresponsive customer",
    UnresponsiveCustomerWorkflow,
    UnresponsivePolicy,
    _opens,
    # Any response ends the re-engagement.
    spec.Receives(CUSTOMER_ACTIONS),
)
