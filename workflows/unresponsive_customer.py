"""UnresponsiveCustomerWorkflow: no reply to N touches in a row (`playbook-unresponsive-...`).

A re-engagement sequence, one email per cadence step: product updates, congratulations on the
milestones the customer reached, an offer of help; still nothing, and the CSM gets a task to go
through the executive sponsor. Any response (forwarded by the journey) ends it.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, Field
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.models import TaskPriority
    from workflows import actions
    from workflows.customer_event import CustomerEvent
    from workflows.playbook import PlaybookContext, final_report, report
    from workflows.work_log import WorkLog


class UnresponsiveInput(BaseModel):
    context: PlaybookContext
    unanswered_touches: int
    milestones: list[str] = Field(default_factory=list)


class UnresponsiveResult(BaseModel):
    responded: bool
    emails_sent: int
    executive_task: bool
    log: WorkLog = Field(default_factory=WorkLog)


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
        templates = ctx.policy.templates
        log = WorkLog()
        steps: list[tuple[str, str, dict[str, object]]] = [
            ("product_updates", templates.re_engagement_product_updates, {}),
        ]
        if input.milestones:
            steps.append(
                (
                    "milestones",
                    templates.re_engagement_milestones,
                    {"milestones": [m.replace("_", " ") for m in input.milestones]},
                )
            )
        steps.append(("offer_help", templates.re_engagement_help, {"csm_email": ctx.csm_owner}))
        sent = 0
        for index, (step, template, context) in enumerate(steps):
            if index and await self._answered_within(ctx.policy.re_engagement_every):
                break
            if self._responded:
                break
            await actions.send_email(
                log,
                account_id=ctx.account_id,
                contact_id=ctx.contact_id,
                template=template,
                step=step,
                context=context,
                category="re_engagement",
                owner=ctx.csm_owner,
            )
            sent += 1
        executive = False
        if not self._responded and not await self._answered_within(ctx.policy.re_engagement_every):
            executive = True
            await actions.create_task(
                log,
                account_id=ctx.account_id,
                owner=ctx.csm_owner,
                title="Unresponsive customer: reach out through the executive sponsor",
                description=(
                    f"No reply to {input.unanswered_touches} touches nor to {sent} "
                    "re-engagement emails."
                ),
                step="executive_sponsor",
                due_at=workflow.now() + timedelta(days=3),
                priority=TaskPriority.HIGH,
            )
        outcome = (
            f"customer responded after {sent} re-engagement emails"
            if self._responded
            else f"{sent} re-engagement emails, executive-sponsor task"
        )
        await report(ctx, final_report(workflow.info().workflow_id, outcome, log))
        return UnresponsiveResult(
            responded=self._responded, emails_sent=sent, executive_task=executive, log=log
        )

    async def _answered_within(self, wait: timedelta) -> bool:
        try:
            await workflow.wait_condition(lambda: self._responded, timeout=wait)
        except TimeoutError:
            return False
        return True
