"""UsageFluctuationWorkflow: a usage drop or a sustained rise (`playbook-usage-<account>-<n>`).

Drop beyond the segment's threshold: a CSM task and a check-in email to the champion. Sustained
rise: an expansion-opportunity task for sales.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, Field
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.models import TaskPriority
    from workflows import actions
    from workflows.playbook import PlaybookContext, final_report, report
    from workflows.usage_trend import UsageShift
    from workflows.work_log import WorkLog


class UsageFluctuationInput(BaseModel):
    context: PlaybookContext
    shift: UsageShift
    baseline: float
    current: int
    # Expansion opportunities go to sales; falls back to the CSM.
    sales_owner: str | None = None


class UsageFluctuationResult(BaseModel):
    shift: UsageShift
    log: WorkLog = Field(default_factory=WorkLog)


@workflow.defn
class UsageFluctuationWorkflow:
    @workflow.run
    async def run(self, input: UsageFluctuationInput) -> UsageFluctuationResult:
        ctx = input.context
        log = WorkLog()
        change = (input.current - input.baseline) / input.baseline if input.baseline else 0.0
        facts = f"active users {input.current} vs usual {input.baseline:.0f} ({change:+.0%})"
        now = workflow.now()
        if input.shift == UsageShift.DROP:
            await actions.create_task(
                log,
                account_id=ctx.account_id,
                owner=ctx.csm_owner,
                title=f"Usage dropped {abs(change):.0%}: find out why",
                description=facts,
                step="drop_task",
                due_at=now + timedelta(days=2),
                priority=max(ctx.task_priority, TaskPriority.HIGH, key=_rank),
            )
            await actions.send_email(
                log,
                account_id=ctx.account_id,
                contact_id=ctx.contact_id,
                template=ctx.policy.templates.usage_check_in,
                step="check_in",
                context={"active_users": input.current, "usual_active_users": input.baseline},
                owner=ctx.csm_owner,
            )
            outcome = f"drop: {facts}; CSM task and check-in email"
        else:
            await actions.create_task(
                log,
                account_id=ctx.account_id,
                owner=input.sales_owner or ctx.csm_owner,
                title=f"Expansion opportunity: usage up {change:.0%}",
                description=facts + " over several reports in a row.",
                step="expansion_task",
                due_at=now + timedelta(days=7),
                priority=ctx.task_priority,
            )
            outcome = f"rise: {facts}; expansion task for sales"
        await report(ctx, final_report(workflow.info().workflow_id, outcome, log))
        return UsageFluctuationResult(shift=input.shift, log=log)


_ORDER = [TaskPriority.LOW, TaskPriority.NORMAL, TaskPriority.HIGH, TaskPriority.URGENT]


def _rank(priority: TaskPriority) -> int:
    return _ORDER.index(priority)
