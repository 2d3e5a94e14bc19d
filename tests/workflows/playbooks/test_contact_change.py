"""Contact-change playbook: the champion leaves or is replaced."""

from __future__ import annotations

from datetime import timedelta

from tests.support.cs_doubles import Playground, save_history, start_account
from tests.support.cs_driver import advance_until, event
from workflows.journey_state import JourneyStatus
from workflows.playbooks.base import PlaybookSummary


def contact(status: JourneyStatus) -> list[PlaybookSummary]:
    return [p for p in status.playbooks if p.kind == "contact"]


async def test_champion_leaving_alerts_tasks_and_reintroduces_the_decision_maker(
    pg: Playground,
) -> None:
    acct = await start_account(pg)
    champion = {
        "id": f"{acct}-champion",
        "name": "Chris Champion",
        "email": f"champion@{acct}.example",
        "role": "champion",
    }
    for _ in range(2):  # the same change reported twice is one situation
        await event(pg.client, acct, "contact_changed", contact=champion, left=True)
    status = await advance_until(
        pg.env,
        acct,
        lambda s: bool(contact(s)) and not contact(s)[0].open,
        step=timedelta(minutes=1),
    )
    [playbook] = contact(status)
    assert playbook.playbook_id == f"playbook-contact-{acct}-{acct}-champion-{acct}-dm"
    [alert] = [a for a in pg.crm.alerts if a.subject.startswith("Champion left")]
    assert alert.owner == "csm@csflow.example"
    [task] = pg.crm.named_tasks("new champion")
    assert task.title == "Secure Dana Decider as the new champion"
    [intro] = [e for e in pg.crm.emails if e.workflow_id == playbook.playbook_id]
    assert intro.template == "csm_introduction" and intro.to_contact_id == f"{acct}-dm"
    await save_history(pg.client, playbook.playbook_id, "ContactChangeWorkflow-1")


async def test_a_new_champion_gets_the_reintroduction(pg: Playground) -> None:
    acct = await start_account(pg)
    new = {"id": "c-new", "name": "Nia New", "email": "nia@x.example", "role": "champion"}
    await event(pg.client, acct, "contact_changed", contact=new)
    status = await advance_until(
        pg.env,
        acct,
        lambda s: bool(contact(s)) and not contact(s)[0].open,
        step=timedelta(minutes=1),
    )
    assert contact(status)[0].summary.startswith("champion Chris Champion replaced")
    [intro] = [e for e in pg.crm.emails if e.workflow_id == contact(status)[0].playbook_id]
    assert intro.to_contact_id == "c-new"
