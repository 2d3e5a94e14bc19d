"""UsageFluctuationWorkflow: a usage drop or a sustained rise (`playbook-usage-<account>-<n>`).

Drop beyond the segment's threshold: a CSM task and a check-in email to the champion. Sustained
rise: an expansion-opportunity task for sales.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.models import TaskPriority
    from workflows.customer_event import CustomerEventType, UsageReportedPayload
    from workflows.playbooks import spec
    from workflows.playbooks.base import PlaybookInput, PlaybookResult, finish
    from workflows.playbooks.usage_trend import UsagePolicy, UsageShift, observe


class UsageFluctuationInput(PlaybookInput[UsagePolicy]):
    shift: UsageShift
    baseline: float
    current: int
    # Expansion opportunities go to sales; falls back to the CSM.
    sales_owner: str | None = None


class UsageFluctuationResult(PlaybookResult):
    shift: UsageShift


@workflow.defn
class UsageFluctuationWorkflow:
    @workflow.run
    async def run(self, input: UsageFluctuationInput) -> UsageFluctuationResult:
        ctx = input.context
        work = ctx.actions()
        change = (input.current - input.baseline) / input.baseline if input.baseline else 0.0
        facts = f"active users {input.current} vs usual {input.baseline:.0f} ({change:+.0%})"
        if input.shift == UsageShift.DROP:
            await work.task(
                f"Usage dropped {abs(change):.0%}: find out why",
                "drop_task",
                description=facts,
                due_in=timedelta(days=2),
                priority=max(ctx.task_priority, TaskPriority.HIGH, key=_rank),
            )
            await work.email(
                input.policy.check_in_template,
                "check_in",
                context={"active_users": input.current, "usual_active_users": input.baseline},
                asks=True,
            )
            outcome = f"drop: {facts}; CSM task and check-in email"
        else:
            await work.task(
                f"Expansion opportunity: usage up {change:.0%}",
                "expansion_task",
                description=facts + " over several reports in a row.",
                due_in=timedelta(days=7),
                priority=ctx.task_priority,
                owner=input.sales_owner or ctx.csm_owner,
            )
            outcome = f"rise: {facts}; expansion task for sales"
        await finish(ctx, outcome, work.log)
        return UsageFluctuationResult(shift=input.shift, log=work.log)


_ORDER = [TaskPriority.LOW, TaskPriority.NORMAL, TaskPriority.HIGH, TaskPriority.URGENT]


def _rank(priority: TaskPriority) -> int:
    return _ORDER.index(priority)


@spec.opens_on(CustomerEventType.USAGE_REPORTED)
def _opens(trigger: spec.Trigger, policy: UsagePolicy) -> spec.Opening | None:
    """A new drop or a sustained rise in this report (the trend lives in the journey's state)."""
    payload = trigger.payload
    if not isinstance(payload, UsageReportedPayload):
        return None
    signal = observe(trigger.state.usage_trend, trigger.now, payload.active_users, policy)
    if signal is None:
        return None
    change = (signal.current - signal.baseline) / signal.baseline if signal.baseline else 0
    return spec.Opening(
        situation=signal.situation,
        summary=(
            f"usage {signal.shift.value} {change:+.0%} "
            f"({signal.current} vs {signal.baseline:.0f} active users)"
        ),
        input=UsageFluctuationInput(
            context=trigger.context(),
            policy=policy,
            shift=signal.shift,
            baseline=signal.baseline,
            current=signal.current,
            sales_owner=trigger.journey.sales_owner,
        ),
    )


SPEC = spec.PlaybookSpec(
    "usage", "Usage fluctuation", UsageFluctuationWorkflow, UsagePolicy, _opens
)
