"""Support follow-up playbook: ticket logged, resolved, CSAT after a delay, low CSAT escalates."""

from __future__ import annotations

from datetime import timedelta

from starter.api import journey_status
from tests.support.cs_doubles import Playground, save_history, start_account
from tests.support.cs_driver import advance_until, event


async def test_ticket_alerts_at_once_then_csat_after_resolution_and_low_csat_escalates(
    pg: Playground,
) -> None:
    acct = await start_account(pg)
    await event(
        pg.client,
        acct,
        "ticket_opened",
        ticket_id="T-7",
        subject="Export broken",
        severity="normal",
    )
    status = await journey_status(pg.client, acct)
    [playbook] = status.playbooks
    assert playbook.playbook_id == f"playbook-support-{acct}-T-7"
    await pg.env.sleep(timedelta(minutes=1))  # the playbook runs on its own: its first minute
    logged = [a for a in pg.crm.alerts if a.subject.startswith("Ticket T-7 logged")]
    assert len(logged) == 1 and logged[0].owner == "csm@csflow.example"
    # A normal-severity ticket gets no SLA escalation; the playbook owns it.
    assert status.escalations == []

    await pg.env.sleep(timedelta(hours=3))
    await event(pg.client, acct, "ticket_resolved", ticket_id="T-7")
    await pg.env.sleep(timedelta(hours=12))
    status = await journey_status(pg.client, acct)
    assert not [s for s in status.surveys if s.topic == "ticket T-7"]  # not yet: 1 day delay

    status = await advance_until(
        pg.env,
        acct,
        lambda s: any(v.topic == "ticket T-7" for v in s.surveys),
        step=timedelta(hours=6),
    )
    csat = next(s for s in status.surveys if s.topic == "ticket T-7")
    survey_email = next(e for e in pg.crm.emails if e.workflow_id == playbook.playbook_id)
    assert survey_email.context["topic"] == "ticket T-7"

    await event(pg.client, acct, "survey_answered", token=csat.token, kind="csat", score=1)
    status = await advance_until(
        pg.env, acct, lambda s: not s.playbooks[0].open, step=timedelta(minutes=5)
    )
    assert "escalated" in status.playbooks[0].outcome
    escalation = pg.client.get_workflow_handle(f"escalation-{acct}-csat-T-7")
    assert (await escalation.describe()).status is not None
    assert any("Escalation opened" in a.subject for a in pg.crm.alerts)
    await save_history(pg.client, playbook.playbook_id, "SupportFollowUpWorkflow-1")
    await save_history(pg.client, f"journey-{acct}", "CustomerJourneyWorkflow-3")


async def test_the_same_ticket_twice_opens_one_playbook(pg: Playground) -> None:
    acct = await start_account(pg)
    for event_id in ("e1", "e2"):
        await pg.client.get_workflow_handle(f"journey-{acct}").execute_update(
            "record_customer_event",
            {
                "account_id": acct,
                "type": "ticket_opened",
                "event_id": event_id,
                "payload": {"ticket_id": "T-9", "subject": "Slow", "severity": "urgent"},
            },
        )
    status = await journey_status(pg.client, acct)
    assert [p.playbook_id for p in status.playbooks] == [f"playbook-support-{acct}-T-9"]
    assert len([a for a in pg.crm.alerts if a.subject.startswith("Ticket T-9 logged")]) == 1
    # Urgent: the SLA escalation runs too, once, without a CSAT of its own.
    assert [e.source for e in status.escalations] == ["ticket"]
