"""send_email through the contact governor: opt-out, quiet hours, frequency cap, deferral loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import col, select

from activities import Activities
from crm.database import Store
from crm.tables import EmailSendRow, TouchpointRow
from domain.models import CsmAlert, EmailReceipt, EmailRequest, EmailStatus
from tests.support.cs_support import TestClock, run, seed_account

# Chloe (c-champ) lives in New York; Derek (c-exec) has no zone and gets the account's Berlin.
WED_10_NY = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)
TUE_21_NY = datetime(2026, 11, 18, 2, 0, tzinfo=UTC)
WED_08_NY = datetime(2026, 11, 18, 13, 0, tzinfo=UTC)


def request(key: str, now: datetime, contact: str = "c-champ", **extra: Any) -> EmailRequest:
    return EmailRequest(
        **{
            "idempotency_key": key,
            "account_id": "acme",
            "to_contact_id": contact,
            "template": "csm_introduction",
            "now": now,
            **extra,
        }
    )


def ledger(store: Store) -> dict[str, EmailSendRow]:
    with store.session() as session:
        return {r.idempotency_key: r for r in session.exec(select(EmailSendRow)).all()}


def timeline(store: Store, kind: str) -> list[TouchpointRow]:
    with store.session() as session:
        return list(
            session.exec(
                select(TouchpointRow)
                .where(TouchpointRow.kind == kind)
                .order_by(col(TouchpointRow.id))
            ).all()
        )


async def test_quiet_hours_defer_then_the_same_key_goes_out_once(
    store: Store, outbox: Path, acts: Activities
) -> None:
    await seed_account(acts)
    deferred: EmailReceipt = await run(acts.email.send_email, request("intro", TUE_21_NY))
    assert deferred.status == EmailStatus.DEFERRED
    assert deferred.not_before == WED_08_NY
    assert "quiet hours" in (deferred.reason or "") and "America/New_York" in (
        deferred.reason or ""
    )
    row = ledger(store)["intro"]
    assert (row.status, row.not_before, row.sent_at) == ("deferred", WED_08_NY, None)
    [entry] = timeline(store, "email_deferred")
    assert entry.details["not_before"] == WED_08_NY.isoformat()
    assert not outbox.exists() or not list(outbox.iterdir())

    # Too early (the workflow woke up before not_before): same answer, nothing new recorded.
    early = await run(acts.email.send_email, request("intro", WED_08_NY - timedelta(minutes=1)))
    assert early == deferred
    assert len(timeline(store, "email_deferred")) == 1

    sent = await run(acts.email.send_email, request("intro", WED_08_NY))
    again = await run(acts.email.send_email, request("intro", WED_08_NY + timedelta(hours=1)))
    assert sent.status == again.status == EmailStatus.OUTBOXED
    assert sent.message_id == again.message_id and sent.not_before is None
    assert len(list(outbox.glob("*.eml"))) == 1
    row = ledger(store)["intro"]
    assert (row.status, row.not_before, row.sent_at) == ("outboxed", None, WED_08_NY)
    assert len(timeline(store, "email")) == 1


async def test_quiet_hours_use_each_contacts_zone(
    store: Store, outbox: Path, acts: Activities
) -> None:
    await seed_account(acts)
    # 15:00 UTC Wednesday: 10:00 for Chloe in New York, 16:00 for Derek in Berlin.
    assert (
        await run(acts.email.send_email, request("a", WED_10_NY))
    ).status == EmailStatus.OUTBOXED
    assert (
        await run(acts.email.send_email, request("b", WED_10_NY, contact="c-exec"))
    ).status == EmailStatus.OUTBOXED
    # 02:00 UTC: Chloe's 21:00 and Derek's 03:00 -> both wait for their own 08:00.
    ny = await run(acts.email.send_email, request("c", TUE_21_NY))
    berlin = await run(acts.email.send_email, request("d", TUE_21_NY, contact="c-exec"))
    assert ny.not_before == WED_08_NY
    assert berlin.not_before == datetime(2026, 11, 18, 7, 0, tzinfo=UTC)


async def test_opt_out_wins_over_quiet_hours(store: Store, outbox: Path, acts: Activities) -> None:
    await seed_account(acts)
    # A check-in is nurture mail: the opt-out stops it (service mail would still go).
    receipt = await run(
        acts.email.send_email,
        request("o", TUE_21_NY, contact="c-optout", template="usage_check_in"),
    )
    assert receipt.status == EmailStatus.SUPPRESSED and receipt.not_before is None
    assert ledger(store)["o"].reason == "contact opted out"
    assert len(timeline(store, "email_suppressed")) == 1
    assert timeline(store, "email_deferred") == []


async def test_frequency_cap_counts_sent_emails_only(
    store: Store, outbox: Path, acts: Activities
) -> None:
    await seed_account(acts)
    monday = datetime(2026, 11, 16, 15, 0, tzinfo=UTC)
    # A deferred email never reached Chloe: it must not use up her allowance.
    assert (
        await run(acts.email.send_email, request("night", TUE_21_NY))
    ).status == EmailStatus.DEFERRED
    assert (await run(acts.email.send_email, request("one", monday))).status == EmailStatus.OUTBOXED
    assert (
        await run(acts.email.send_email, request("two", WED_10_NY))
    ).status == EmailStatus.OUTBOXED
    third = await run(acts.email.send_email, request("three", WED_10_NY + timedelta(hours=1)))
    assert third.status == EmailStatus.DEFERRED
    assert "frequency cap" in (third.reason or "")
    # Monday's send ages out of the 7-day window a week later, inside working hours.
    assert third.not_before == monday + timedelta(days=7)
    row = ledger(store)["three"]
    assert (row.status, row.not_before) == ("deferred", monday + timedelta(days=7))
    # Another contact of the same account has their own allowance.
    derek = await run(acts.email.send_email, request("derek", WED_10_NY, contact="c-exec"))
    assert derek.status == EmailStatus.OUTBOXED


async def test_concurrent_playbooks_share_one_allowance(
    store: Store, outbox: Path, acts: Activities
) -> None:
    await seed_account(acts)
    await run(
        acts.email.send_email, request("onboarding:welcome", datetime(2026, 11, 17, 15, tzinfo=UTC))
    )
    # Two playbooks email Chloe at the same moment with their own keys: one slot is left.
    receipts = await asyncio.gather(
        run(acts.email.send_email, request("renewal:outreach", WED_10_NY)),
        run(acts.email.send_email, request("nps:survey", WED_10_NY)),
    )
    statuses = sorted(r.status.value for r in receipts)
    assert statuses == ["deferred", "outboxed"]
    sent_rows = [r for r in ledger(store).values() if r.status == "outboxed"]
    assert len(sent_rows) == 2


async def test_csm_alerts_are_exempt(
    store: Store, outbox: Path, clock: TestClock, acts: Activities
) -> None:
    await seed_account(acts)
    # Saturday night for everyone: an internal alert still goes out.
    clock.now = datetime(2026, 11, 21, 23, 0, tzinfo=UTC)
    await run(
        acts.alerts.alert_csm,
        CsmAlert(
            account_id="acme",
            owner="dana.csm@vendor.example.com",
            subject="Escalation opened",
            idempotency_key="alert-1",
        ),
    )
    assert ledger(store)["alert-1:email"].status == "outboxed"


async def test_request_without_now_is_only_checked_for_opt_out(
    store: Store, outbox: Path, clock: TestClock, acts: Activities
) -> None:
    # Callers that cannot run the deferral loop keep the old behaviour (see contracts.md).
    await seed_account(acts)
    clock.now = TUE_21_NY
    receipt = await run(
        acts.email.send_email,
        EmailRequest(
            idempotency_key="legacy",
            account_id="acme",
            to_contact_id="c-champ",
            template="csm_introduction",
        ),
    )
    assert receipt.status == EmailStatus.OUTBOXED
    assert ledger(store)["legacy"].sent_at == TUE_21_NY


async def test_governor_switched_off_keeps_opt_out_but_not_quiet_hours(
    store: Store, outbox: Path, make_acts: Callable[..., Activities]
) -> None:
    acts = make_acts(contact_governor=False)
    await seed_account(acts)
    night: EmailReceipt = await run(acts.email.send_email, request("night", TUE_21_NY))
    assert night.status == EmailStatus.OUTBOXED
    for index in range(4):  # past the default cap of 2 per 7 days
        sent = await run(acts.email.send_email, request(f"burst-{index}", WED_10_NY))
        assert sent.status == EmailStatus.OUTBOXED


async def test_a_message_due_by_a_time_is_never_held_past_it(
    store: Store, outbox: Path, acts: Activities
) -> None:
    await seed_account(acts)
    # 21:00 in New York: quiet hours would hold it until 08:00, an hour after it is due.
    urgent = request("ack", TUE_21_NY, deadline=WED_08_NY - timedelta(hours=1))
    receipt: EmailReceipt = await run(acts.email.send_email, urgent)
    assert receipt.status in (EmailStatus.SENT, EmailStatus.OUTBOXED)
    # Due after quiet hours end: it waits for the morning like any other message.
    later = request("later", TUE_21_NY, deadline=WED_08_NY + timedelta(hours=4))
    held: EmailReceipt = await run(acts.email.send_email, later)
    assert (held.status, held.not_before) == (EmailStatus.DEFERRED, WED_08_NY)
