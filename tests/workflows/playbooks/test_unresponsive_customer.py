"""Unresponsive-customer playbook: re-engagement sequence, executive-sponsor task."""

from __future__ import annotations

from datetime import timedelta

from starter.api import journey_status
from tests.support.cs_doubles import Playground, save_history, start_account
from tests.support.cs_driver import advance_until, event
from workflows.campaign import CampaignKind, CampaignMessage


async def test_silence_opens_re_engagement_then_executive_task(pg: Playground) -> None:
    # Never answers: questionnaire + 2 reminders are 3 unanswered touches.
    acct = await start_account(pg, answer=False)
    status = await advance_until(pg.env, acct, lambda s: bool(s.playbooks))
    [playbook] = status.playbooks
    assert playbook.playbook_id == f"playbook-unresponsive-{acct}-silence-1"
    assert [e.template for e in pg.crm.emails if e.workflow_id == playbook.playbook_id] == [
        "re_engagement_product_updates"
    ]
    status = await advance_until(pg.env, acct, lambda s: not s.playbooks[0].open)
    templates = [e.template for e in pg.crm.emails if e.workflow_id == playbook.playbook_id]
    # No milestones reached: no congratulations step.
    assert templates == ["re_engagement_product_updates", "re_engagement_help"]
    [task] = pg.crm.named_tasks("executive sponsor")
    assert task.priority == "high"
    assert "executive-sponsor task" in status.playbooks[0].outcome
    await save_history(pg.client, playbook.playbook_id, "UnresponsiveCustomerWorkflow-1")


async def test_any_response_ends_the_sequence(pg: Playground) -> None:
    acct = await start_account(pg, answer=False)
    status = await advance_until(pg.env, acct, lambda s: bool(s.playbooks))
    pid = status.playbooks[0].playbook_id
    await event(pg.client, acct, "email_replied", subject="Re: what's new")
    status = await advance_until(
        pg.env, acct, lambda s: not s.playbooks[0].open, step=timedelta(minutes=1)
    )
    assert status.playbooks[0].outcome == "customer responded after 1 re-engagement emails"
    assert len([e for e in pg.crm.emails if e.workflow_id == pid]) == 1
    assert pg.crm.named_tasks("executive sponsor") == []


async def test_informational_mail_is_not_an_unanswered_touch(pg: Playground) -> None:
    # An onboarded customer who reads our release notes without replying: newsletters ask for
    # no answer, so three of them are no silence.
    acct = await start_account(pg)
    journey = pg.client.get_workflow_handle(f"journey-{acct}")
    for number in range(3):
        release = CampaignMessage(
            campaign_run_id=f"release-{number}", kind=CampaignKind.FEATURE_RELEASE
        )
        await journey.signal("campaign_message", release)
        await pg.env.sleep(timedelta(days=3))
    await pg.env.sleep(timedelta(days=8))  # every answer window has closed
    status = await journey_status(pg.client, acct)
    assert len(pg.crm.emails_with("feature_release")) == 3
    assert [p for p in status.playbooks if p.kind == "unresponsive"] == []


async def test_using_the_product_ends_a_silence_before_it_opens_a_playbook(pg: Playground) -> None:
    acct = await start_account(pg, answer=False)
    # Questionnaire and reminders go unanswered, but the team logs in and works meanwhile.
    for day in range(1, 16):
        await pg.env.sleep(timedelta(days=1))
        if day % 4 == 0:
            await event(pg.client, acct, "usage_reported", active_users=3, licensed_seats=10)
    status = await journey_status(pg.client, acct)
    assert [p for p in status.playbooks if p.kind == "unresponsive"] == []


async def test_a_silent_customer_gets_no_nps_survey_until_they_act(pg: Playground) -> None:
    acct = await start_account(pg, answer=False)
    await advance_until(pg.env, acct, lambda s: s.stage == "adoption", limit=timedelta(days=200))
    status = await advance_until(pg.env, acct, lambda s: s.next_nps_at is not None)
    assert status.next_nps_at is not None
    await pg.env.sleep(status.next_nps_at - await pg.env.get_current_time() + timedelta(days=1))
    status = await journey_status(pg.client, acct)
    assert [p for p in status.playbooks if p.kind == "unresponsive"]
    assert [s for s in status.surveys if s.kind == "nps"] == []
    # Once they act again, the next round goes out.
    await event(pg.client, acct, "email_replied", subject="Sorry, busy quarter")
    status = await advance_until(
        pg.env, acct, lambda s: any(x.kind == "nps" for x in s.surveys), limit=timedelta(days=200)
    )
