"""ContactChangeWorkflow: the champion left or changed (`playbook-contact-<account>-...`).

The CSM is alerted and gets a task to secure a (new) champion; the new contact, when there is a
reachable one, gets a re-introduction from the CSM.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, Field
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.models import AlertSeverity, TaskPriority
    from workflows import actions
    from workflows.playbook import PlaybookContext, final_report, report
    from workflows.work_log import WorkLog


class ContactChangeInput(BaseModel):
    # `context.contact_id` is the new contact (None-like "" when nobody is left to talk to).
    context: PlaybookContext
    previous_champion: str
    new_contact_name: str | None = None
    champion_left: bool


class ContactChangeResult(BaseModel):
    reintroduced: bool
    log: WorkLog = Field(default_factory=WorkLog)


@workflow.defn
class ContactChangeWorkflow:
    @workflow.run
    async def run(self, input: ContactChangeInput) -> ContactChangeResult:
        ctx = input.context
        log = WorkLog()
        what = "left" if input.champion_left else "changed"
        await actions.alert(
            log,
            account_id=ctx.account_id,
            owner=ctx.csm_owner,
            subject=f"Champion {what}: {input.previous_champion}",
            message=(
                f"New contact: {input.new_contact_name}."
                if input.new_contact_name
                else "No replacement contact is known yet."
            ),
            step="alert",
            severity=AlertSeverity.WARNING,
        )
        await actions.create_task(
            log,
            account_id=ctx.account_id,
            owner=ctx.csm_owner,
            title=(
                f"Secure {input.new_contact_name} as the new champion"
                if input.new_contact_name
                else "Find a new champion"
            ),
            description=f"{input.previous_champion} is no longer the champion.",
            step="find_champion",
            due_at=workflow.now() + timedelta(days=5),
            priority=TaskPriority.HIGH,
        )
        reintroduced = False
        if ctx.contact_id:
            await actions.send_email(
                log,
                account_id=ctx.account_id,
                contact_id=ctx.contact_id,
                template=ctx.policy.templates.champion_reintroduction,
                step="reintroduction",
                context={"previous_champion": input.previous_champion},
                owner=ctx.csm_owner,
            )
            reintroduced = True
        outcome = f"champion {what}; alert, task" + (", re-introduction" if reintroduced else "")
        await report(ctx, final_report(workflow.info().workflow_id, outcome, log))
        return ContactChangeResult(reintroduced=reintroduced, log=log)
