"""Campaigns across a segment: CRM listing, rate-limited fan-out, dedupe per run.

Scheduled campaigns run on the dev server: tests/workflows/test_schedules_and_visibility.py."""

from __future__ import annotations

from datetime import timedelta

from starter.api import journey_status
from tests.support.cs_doubles import Playground, save_history, start_account
from tests.support.cs_driver import advance_until


async def test_campaign_fans_out_at_most_n_per_minute_and_emails_once(pg: Playground) -> None:
    from domain.segment_query import SegmentQuery
    from starter.api import start_campaign
    from workflows.campaign import CampaignInput, CampaignKind, CampaignMessage

    accounts = sorted([await start_account(pg, answer=False) for _ in range(5)])
    for acct in accounts:  # each journey has run its first task (search attributes set)
        await journey_status(pg.client, acct)
    campaign = CampaignInput(
        campaign_id=f"release-{accounts[0]}",
        kind=CampaignKind.FEATURE_RELEASE,
        segment=SegmentQuery(segment_prefix="smb"),
        context={"feature": "Playbooks"},
        per_minute=2,
    )
    handle = await start_campaign(pg.client, campaign, task_queue=pg.queue)
    again = await start_campaign(pg.client, campaign, task_queue=pg.queue)
    assert again.id == handle.id == f"campaign-{campaign.campaign_id}"
    result = await handle.result()
    assert (result.targeted, result.delivered, result.batches) == (5, 5, 3)
    # Batches of two, a minute apart.
    assert result.finished_at - result.started_at >= timedelta(minutes=2)

    for acct in accounts:
        await advance_until(
            pg.env,
            acct,
            lambda s: result.campaign_run_id in s.campaigns,
            step=timedelta(seconds=10),
        )
    sends = [e for e in pg.crm.emails if e.category == "campaign"]
    assert sorted(e.account_id for e in sends) == accounts
    assert {e.template for e in sends} == {"feature_release"}
    assert sends[0].context["feature"] == "Playbooks"

    # The same campaign run delivered again (a retried signal) sends nothing more.
    message = CampaignMessage(campaign_run_id=result.campaign_run_id, kind=campaign.kind)
    await pg.client.get_workflow_handle(f"journey-{accounts[0]}").signal(
        "campaign_message", message
    )
    await pg.env.sleep(timedelta(minutes=1))
    assert len([e for e in pg.crm.emails if e.category == "campaign"]) == 5
    await save_history(pg.client, handle.id, "CampaignWorkflow-1")
