"""Upgrade follow-up playbook: congratulations, enablement, 30-day check-in."""

from __future__ import annotations

from datetime import timedelta

from starter.api import journey_status
from tests.support.cs_doubles import Playground, save_history, start_account
from tests.support.cs_driver import advance_until, event


async def test_plan_upgrade_runs_the_follow_up_over_thirty_days(pg: Playground) -> None:
    acct = await start_account(pg)
    await event(
        pg.client,
        acct,
        "plan_changed",
        plan="pro",
        previous_plan="standard",
        new_features=["Playbooks", "SSO"],
    )
    await event(pg.client, acct, "plan_changed", plan="pro", change="expansion")  # same plan
    status = await journey_status(pg.client, acct)
    [playbook] = status.playbooks
    assert playbook.playbook_id == f"playbook-upgrade-{acct}-pro"
    [upsert] = [u for u in pg.crm.named("upsert_account") if u.plan == "pro"][:1]
    assert upsert.id == acct

    def mine() -> list[str]:
        return [e.template for e in pg.crm.emails if e.workflow_id == playbook.playbook_id]

    await pg.env.sleep(timedelta(hours=1))
    assert mine() == ["upgrade_congratulations"]
    await pg.env.sleep(timedelta(days=2))
    assert mine() == ["upgrade_congratulations", "training_material"]
    enablement = [e for e in pg.crm.emails if e.workflow_id == playbook.playbook_id][1]
    assert [m["title"] for m in enablement.context["materials"]] == [
        "Getting started with Playbooks",
        "Getting started with SSO",
    ]
    await pg.env.sleep(timedelta(days=27))
    assert mine() == ["upgrade_congratulations", "training_material"]
    status = await advance_until(
        pg.env, acct, lambda s: not s.playbooks[0].open, step=timedelta(hours=12)
    )
    assert mine()[-1] == "upgrade_check_in"
    await save_history(pg.client, playbook.playbook_id, "UpgradeFollowUpWorkflow-1")
