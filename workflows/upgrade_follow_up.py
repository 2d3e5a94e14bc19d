"""UpgradeFollowUpWorkflow: a plan upgrade or expansion (`playbook-upgrade-<account>-<plan>`).

Congratulations at once, enablement material for the new features a little later, and a
check-in 30 days on.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, Field
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows import actions
    from workflows.playbook import PlaybookContext, final_report, report
    from workflows.work_log import WorkLog


class UpgradeFollowUpInput(BaseModel):
    context: PlaybookContext
    plan: str
    previous_plan: str | None = None
    new_features: list[str] = Field(default_factory=list)


class UpgradeFollowUpResult(BaseModel):
    log: WorkLog = Field(default_factory=WorkLog)


@workflow.defn
class UpgradeFollowUpWorkflow:
    @workflow.run
    async def run(self, input: UpgradeFollowUpInput) -> UpgradeFollowUpResult:
        ctx = input.context
        templates = ctx.policy.templates
        log = WorkLog()
        plan = {"plan": input.plan, "previous_plan": input.previous_plan}
        await actions.send_email(
            log,
            account_id=ctx.account_id,
            contact_id=ctx.contact_id,
            template=templates.upgrade_congratulations,
            step="congratulations",
            context=plan,
            owner=ctx.csm_owner,
        )
        await workflow.sleep(ctx.policy.enablement_after)
        await actions.send_email(
            log,
            account_id=ctx.account_id,
            contact_id=ctx.contact_id,
            template=templates.enablement,
            step="enablement",
            context={
                **plan,
                "materials": [
                    {"title": f"Getting started with {feature}", "url": _guide(feature)}
                    for feature in input.new_features
                ],
            },
            owner=ctx.csm_owner,
        )
        remaining = ctx.policy.upgrade_check_in_after - ctx.policy.enablement_after
        await workflow.sleep(max(remaining, timedelta(0)))
        await actions.send_email(
            log,
            account_id=ctx.account_id,
            contact_id=ctx.contact_id,
            template=templates.upgrade_check_in,
            step="check_in",
            context=plan,
            owner=ctx.csm_owner,
        )
        outcome = f"upgrade to {input.plan}: congratulations, enablement, 30-day check-in"
        await report(ctx, final_report(workflow.info().workflow_id, outcome, log))
        return UpgradeFollowUpResult(log=log)


def _guide(feature: str) -> str:
    slug = "-".join(feature.lower().split())
    return f"https://csflow.example/guides/{slug}"
