"""Health recompute on input changes; the Segment/HealthScore attributes follow it.

The nightly schedule runs on the dev server: tests/workflows/test_schedules_and_visibility.py."""

from __future__ import annotations

from datetime import timedelta

from starter.api import journey_status
from tests.support.cs_doubles import Playground, start_account
from tests.support.cs_driver import advance_until, event
from workflows import search_attributes as sa


async def test_health_changes_move_the_segment_attributes(pg: Playground) -> None:
    acct = await start_account(pg)
    status = await journey_status(pg.client, acct)
    # Last scored while onboarding (the milestone usage reports).
    assert status.segment_key == "smb-healthy-onboarding" and status.health_score == 80
    await event(pg.client, acct, "usage_reported", active_users=8, licensed_seats=10)
    await event(pg.client, acct, "usage_reported", active_users=1, licensed_seats=10)
    status = await journey_status(pg.client, acct)
    assert status.segment_key == "smb-critical-adoption" and status.health_score == 10
    assert [h.segment for h in status.health_history][-3:] == [
        "smb-healthy-onboarding",
        "smb-healthy-adoption",
        "smb-critical-adoption",
    ]
    described = await pg.client.get_workflow_handle(f"journey-{acct}").describe()
    attributes = described.typed_search_attributes
    assert attributes.get(sa.SEGMENT) == "smb-critical-adoption"
    assert attributes.get(sa.HEALTH_SCORE) == 10
    assert attributes.get(sa.CUSTOMER_ID) == acct


async def test_deferred_emails_sleep_until_not_before_and_go_out_once(pg: Playground) -> None:
    pg.crm.defer_first = timedelta(hours=10)
    acct = await start_account(pg, answer=False)
    first = f"requirements-{acct}"
    await advance_until(
        pg.env, acct, lambda s: s.stage == "requirements", step=timedelta(minutes=1)
    )
    assert pg.crm.email_sends == {}  # held by the governor
    await pg.env.sleep(timedelta(hours=11))
    sent = [e for e in pg.crm.emails if e.workflow_id == first]
    assert sent, "the deferred email went out after not_before"
    key = sent[0].idempotency_key
    calls = [e for _, e in pg.crm.calls if getattr(e, "idempotency_key", None) == key]
    assert len(calls) == 2 and calls[0].now is not None
    assert calls[1].now is not None and calls[1].now >= calls[0].now + timedelta(hours=10)
    assert pg.crm.email_sends[key] == 1
