"""Usage fluctuation playbook: a drop past the segment threshold, a sustained rise."""

from __future__ import annotations

from datetime import timedelta

from starter.api import journey_status
from tests.support.cs_doubles import Playground, save_history, start_account
from tests.support.cs_driver import advance_until, event
from workflows.journey_state import JourneyStatus
from workflows.playbooks.base import PlaybookSummary


def usage_playbooks(status: JourneyStatus) -> list[PlaybookSummary]:
    return [p for p in status.playbooks if p.kind == "usage"]


async def usage(pg: Playground, acct: str, users: int, after: timedelta) -> None:
    await pg.env.sleep(after)
    await event(pg.client, acct, "usage_reported", active_users=users, licensed_seats=20)


async def test_a_drop_opens_one_playbook_and_a_sustained_rise_an_expansion_task(
    pg: Playground,
) -> None:
    acct = await start_account(pg, sales_owner="sales@csflow.example")
    await usage(pg, acct, 10, timedelta(days=8))
    # SMB threshold is 30%: 8 active users against a usual ~8-10 is no drop.
    await usage(pg, acct, 8, timedelta(days=8))
    assert usage_playbooks(await journey_status(pg.client, acct)) == []

    await usage(pg, acct, 4, timedelta(days=8))
    await usage(pg, acct, 3, timedelta(days=1))  # the same dip: no second playbook
    status = await advance_until(
        pg.env,
        acct,
        lambda s: bool(usage_playbooks(s)) and not usage_playbooks(s)[0].open,
        step=timedelta(minutes=1),
    )
    [drop] = usage_playbooks(status)
    assert drop.playbook_id == f"playbook-usage-{acct}-drop-1"
    assert "drop" in drop.outcome
    [task] = pg.crm.named_tasks("Usage dropped")
    assert task.owner == "csm@csflow.example" and task.priority == "high"
    [check_in] = pg.crm.emails_with("usage_check_in")
    assert check_in.to_contact_id == f"{acct}-champion"

    await usage(pg, acct, 9, timedelta(days=1))  # back to normal ends the dip
    for _ in range(3):
        await usage(pg, acct, 14, timedelta(days=2))
    status = await advance_until(
        pg.env,
        acct,
        lambda s: len(usage_playbooks(s)) == 2 and not usage_playbooks(s)[1].open,
        step=timedelta(minutes=1),
        limit=timedelta(hours=1),
    )
    assert usage_playbooks(status)[1].playbook_id == f"playbook-usage-{acct}-rise-2"
    [expansion] = pg.crm.named_tasks("Expansion opportunity")
    assert expansion.owner == "sales@csflow.example"
    await save_history(pg.client, drop.playbook_id, "UsageFluctuationWorkflow-1")


def test_same_day_reports_are_not_a_trend() -> None:
    from datetime import UTC, datetime

    from workflows.playbooks.usage_trend import UsagePolicy, UsageTrend, observe

    trend, policy, now = UsageTrend(), UsagePolicy(), datetime(2026, 1, 5, tzinfo=UTC)
    assert observe(trend, now, 10, policy) is None
    assert observe(trend, now + timedelta(hours=1), 1, policy) is None  # nothing settled yet
    signal = observe(trend, now + timedelta(days=8), 2, policy)
    assert signal is not None and signal.shift == "drop" and signal.baseline == 5.5
