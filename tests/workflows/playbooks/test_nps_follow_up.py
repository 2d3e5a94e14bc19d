"""Periodic NPS playbook: one reminder, promoter ask, detractor escalation."""

from __future__ import annotations

from datetime import timedelta

from tests.support.cs_doubles import Playground, save_history, start_account
from tests.support.cs_driver import advance_until, event


async def test_unanswered_nps_gets_one_reminder_and_a_promoter_an_advocacy_task(
    pg: Playground,
) -> None:
    acct = await start_account(pg)
    status = await advance_until(pg.env, acct, lambda s: any(p.kind == "nps" for p in s.playbooks))
    nps_playbook = next(p for p in status.playbooks if p.kind == "nps")
    assert nps_playbook.playbook_id == f"playbook-nps-{acct}-round-1"
    nps = next(s for s in status.surveys if s.kind == "nps")
    await pg.env.sleep(timedelta(days=6))
    [reminder] = [e for e in pg.crm.emails if e.workflow_id == nps_playbook.playbook_id]
    assert reminder.context["survey_link"].endswith(nps.token) and reminder.context["reminder"]
    await event(pg.client, acct, "survey_answered", token=nps.token, kind="nps", score=10)
    status = await advance_until(
        pg.env,
        acct,
        lambda s: not next(p for p in s.playbooks if p.kind == "nps").open,
        step=timedelta(minutes=1),
    )
    outcome = next(p for p in status.playbooks if p.kind == "nps").outcome
    assert outcome == "promoter (10): advocacy ask task"
    [task] = pg.crm.named_tasks("reference, testimonial or advocacy")
    assert task.owner == "csm@csflow.example"
    # Only one reminder, however long the survey stays open.
    assert len([e for e in pg.crm.emails if e.workflow_id == nps_playbook.playbook_id]) == 1
    await save_history(pg.client, nps_playbook.playbook_id, "NpsFollowUpWorkflow-1")


async def test_a_detractor_is_escalated_without_a_reminder(pg: Playground) -> None:
    acct = await start_account(pg)
    status = await advance_until(pg.env, acct, lambda s: any(p.kind == "nps" for p in s.playbooks))
    nps = next(s for s in status.surveys if s.kind == "nps")
    await event(pg.client, acct, "survey_answered", token=nps.token, kind="nps", score=2)
    status = await advance_until(
        pg.env,
        acct,
        lambda s: not next(p for p in s.playbooks if p.kind == "nps").open,
        step=timedelta(minutes=1),
    )
    assert [e.source for e in status.escalations] == ["detractor"]
    nps_playbook = next(p for p in status.playbooks if p.kind == "nps")
    assert nps_playbook.outcome == "detractor (2): escalated by the journey"
    assert [e for e in pg.crm.emails if e.workflow_id == nps_playbook.playbook_id] == []
