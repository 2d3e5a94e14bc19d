"""ContactChangeWorkflow: the champion left or changed (`playbook-contact-<account>-...`).

The CSM is alerted and gets a task to secure a (new) champion; the new contact, when there is a
reachable one, gets a re-introduction from the CSM.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.models import AlertSeverity, ContactRole, TaskPriority
    from workflows.customer_event import ContactChangedPayload, CustomerEventType
    from workflows.playbooks import base, spec


class ContactChangePolicy(base.PlaybookPolicy):
    reintroduction_template: str = "csm_introduction"


class ContactChangeInput(base.PlaybookInput[ContactChangePolicy]):
    # `context.contact_id` is the new contact (None-like "" when nobody is left to talk to).
    previous_champion: str
    new_contact_name: str | None = None
    champion_left: bool


class ContactChangeResult(base.PlaybookResult):
    reintroduced: bool


@workflow.defn
class ContactChangeWorkflow:
    @workflow.run
    async def run(self, input: ContactChangeInput) -> ContactChangeResult:
        ctx = input.context
        work = ctx.actions()
        what = "left" if input.champion_left else "changed"
        await work.alert(
            f"Champion {what}: {input.previous_champion}",
            "alert",
            message=f"New contact: {input.new_contact_name}."
            if input.new_contact_name
            else "No replacement contact is known yet.",
            severity=AlertSeverity.WARNING,
        )
        await work.task(
            f"Secure {input.new_contact_name} as the new champion"
            if input.new_contact_name
            else "Find a new champion",
            "find_champion",
            description=f"{input.previous_champion} is no longer the champion.",
            due_in=timedelta(days=5),
            priority=TaskPriority.HIGH,
        )
        reintroduced = False
        if ctx.contact_id:
            await work.email(
                input.policy.reintroduction_template,
                "reintroduction",
                context={"previous_champion": input.previous_champion},
            )
            reintroduced = True
        outcome = f"champion {what}; alert, task" + (", re-introduction" if reintroduced else "")
        await base.finish(ctx, outcome, work.log)
        return ContactChangeResult(reintroduced=reintroduced, log=work.log)


@spec.opens_on(CustomerEventType.CONTACT_CHANGED)
def _opens(trigger: spec.Trigger, policy: ContactChangePolicy) -> spec.Opening | None:
    """The champion left, stopped being the champion, or someone else became it."""
    change = trigger.payload
    before = trigger.account_before
    if not isinstance(change, ContactChangedPayload) or before is None:
        return None
    champion = next(
        (c for c in before.contacts if c.role == ContactRole.CHAMPION and not c.opted_out), None
    )
    if champion is None:
        return None
    contact = change.contact
    # Unsubscribing from our mail is not leaving: only `left` or another role is.
    left = champion.id == contact.id and (change.left or contact.role != ContactRole.CHAMPION)
    replaced = champion.id != contact.id and contact.role == ContactRole.CHAMPION
    if not (left or replaced):
        return None
    reachable = [c for c in trigger.journey.account.contacts if not c.opted_out]
    new = (
        contact
        if replaced
        else next((c for c in reachable if c.role == ContactRole.DECISION_MAKER), None)
    )
    return spec.Opening(
        situation=f"{champion.id}-{new.id if new else 'none'}",
        summary=f"champion {champion.name} {'replaced' if replaced else 'left'}"
        + (f"; new contact {new.name}" if new else ""),
        input=ContactChangeInput(
            context=trigger.context(contact_id=new.id if new else ""),
            policy=policy,
            previous_champion=champion.name,
            new_contact_name=new.name if new else None,
            champion_left=not replaced,
        ),
    )


SPEC = spec.PlaybookSpec(
    "contact", "Champion change", ContactChangeWorkflow, ContactChangePolicy, _opens
)
