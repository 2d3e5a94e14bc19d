"""UpgradeFollowUpWorkflow: a plan upgrade or expansion (`playbook-upgrade-<account>-<plan>`).

Congratulations at once, enablement material for the new features a little later, and a
check-in 30 days on.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.customer_event import CustomerEventType, PlanChange, PlanChangedPayload
    from workflows.playbooks import base, spec


class UpgradePolicy(base.PlaybookPolicy):
    enablement_after: timedelta = timedelta(days=2)
    check_in_after: timedelta = timedelta(days=30)
    congratulations_template: str = "upgrade_congratulations"
    enablement_template: str = "training_material"
    check_in_template: str = "upgrade_check_in"


class UpgradeFollowUpInput(base.PlaybookInput[UpgradePolicy]):
    plan: str
    previous_plan: str | None = None
    new_features: list[str] = Field(default_factory=list)


class UpgradeFollowUpResult(base.PlaybookResult):
    """Its work log."""


@workflow.defn
class UpgradeFollowUpWorkflow:
    @workflow.run
    async def run(self, input: UpgradeFollowUpInput) -> UpgradeFollowUpResult:
        ctx = input.context
        policy = input.policy
        work = ctx.actions()
        plan = {"plan": input.plan, "previous_plan": input.previous_plan}
        await work.email(policy.congratulations_template, "congratulations", context=plan)
        await workflow.sleep(policy.enablement_after)
        await work.email(
            policy.enablement_template,
            "enablement",
            context={
                **plan,
                "materials": [
                    {"title": f"Getting started with {feature}", "path": _guide(feature)}
                    for feature in input.new_features
                ],
            },
        )
        remaining = policy.check_in_after - policy.enablement_after
        await workflow.sleep(max(remaining, timedelta(0)))
        await work.email(policy.check_in_template, "check_in", context=plan, asks=True)
        outcome = f"upgrade to {input.plan}: congratulations, enablement, 30-day check-in"
        await base.finish(ctx, outcome, work.log)
        return UpgradeFollowUpResult(log=work.log)


def _guide(feature: str) -> str:
    slug = "-".join(feature.lower().split())
    return f"/guides/{slug}"  # on the public site; the email adds its address


@spec.opens_on(CustomerEventType.PLAN_CHANGED)
def _opens(trigger: spec.Trigger, policy: UpgradePolicy) -> spec.Opening | None:
    """An upgrade or expansion (a downgrade alerts the CSM instead: the journey does that)."""
    change = trigger.payload
    if not isinstance(change, PlanChangedPayload) or change.change == PlanChange.DOWNGRADE:
        return None
    before = trigger.account_before or trigger.journey.account
    previous = change.previous_plan or before.plan
    return spec.Opening(
        situation=change.plan,
        summary=f"{change.change.value}: {previous} -> {change.plan}",
        input=UpgradeFollowUpInput(
            context=trigger.context(),
            policy=policy,
            plan=change.plan,
            previous_plan=previous,
            new_features=list(change.new_features),
        ),
    )


SPEC = spec.PlaybookSpec(
    "upgrade", "Upgrade follow-up", UpgradeFollowUpWorkflow, UpgradePolicy, _opens
)
