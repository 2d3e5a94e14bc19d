"""Kickoff invitations (.ics attached to the email) and CSM alerts (email + task)."""

from __future__ import annotations

import email
import re
from datetime import UTC, datetime, timedelta
from email import policy
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel import select

from activities import Activities
from activities.calendar import build_invite
from crm.database import Store
from crm.tables import EmailSendRow, TouchpointRow
from domain.models import (
    AccountRef,
    AlertSeverity,
    CsmAlert,
    EmailStatus,
    KickoffInvite,
    TaskPriority,
)
from tests.support.cs_support import expect_failure, run, seed_account


def unfold(ics: str) -> list[str]:
    return ics.replace("\r\n ", "").split("\r\n")


async def test_kickoff_invite_attaches_valid_ics(
    store: Store, outbox: Path, acts: Activities
) -> None:
    await seed_account(acts)
    starts = datetime(2026, 2, 10, 15, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    invite = KickoffInvite(
        account_id="acme",
        contact_id="c-champ",
        starts_at=starts,
        duration_minutes=45,
        idempotency_key="onb-acme:kickoff",
        agenda="Goals; timeline, owners",
        meeting_url="https://meet.example.com/acme",
    )
    receipt = await run(acts.calendar.send_kickoff_invite, invite)
    assert receipt.status == EmailStatus.OUTBOXED
    assert await run(acts.calendar.send_kickoff_invite, invite) == receipt

    [eml] = list(outbox.glob("*.eml"))
    message = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "invite.ics"
    assert attachment.get_content_type() == "text/calendar"
    ics = attachment.get_content()
    assert isinstance(ics, str)
    assert ics.startswith("BEGIN:VCALENDAR\r\n") and ics.endswith("END:VCALENDAR\r\n")
    lines = unfold(ics)
    assert "METHOD:REQUEST" in lines
    props = dict(line.split(":", 1) for line in lines if line and ":" in line)
    assert props["DTSTART"] == "20260210T140000Z"
    assert props["DTEND"] == "20260210T144500Z"
    assert props["SUMMARY"] == "Kickoff call: Acme Corp"
    assert props["DESCRIPTION"] == "Goals\\; timeline\\, owners"
    assert re.fullmatch(r"[0-9a-f]{32}@csflow", props["UID"])
    # The organiser as people know them: the CSM's name, not their address.
    assert props['ORGANIZER;CN="Dana"'] == "mailto:dana.csm@vendor.example.com"
    assert any(line.endswith(":mailto:chloe@acme.example.com") for line in lines)
    assert lines.count("BEGIN:VEVENT") == 1 and lines.count("END:VEVENT") == 1
    # local time in the contact's timezone (America/New_York) in the body
    body = message.get_body(preferencelist=("plain",))
    assert body is not None and "09:00 EST" in body.get_content()
    with store.session() as session:
        meetings = session.exec(select(TouchpointRow).where(TouchpointRow.kind == "meeting")).all()
    assert len(meetings) == 1


def test_ics_lines_are_folded_at_75_octets() -> None:
    ics = build_invite(
        uid="u@csflow",
        starts_at=datetime(2026, 1, 1, tzinfo=UTC),
        duration=timedelta(hours=1),
        summary="Ünïcødé " * 30,
        description="d",
        organizer_email="o@example.com",
        attendee_email="a@example.com",
        attendee_name="A",
        location=None,
        stamp=datetime(2026, 1, 1, tzinfo=UTC),
    )
    assert all(len(line.encode()) <= 75 for line in ics.split("\r\n"))
    assert "SUMMARY:" + ("Ünïcødé " * 30) in unfold(ics)


async def test_kickoff_invite_reaches_an_opted_out_contact(
    store: Store, outbox: Path, acts: Activities
) -> None:
    # An invitation is service mail: unsubscribing from nurture mail does not stop it.
    await seed_account(acts)
    receipt = await run(
        acts.calendar.send_kickoff_invite,
        KickoffInvite(
            account_id="acme",
            contact_id="c-optout",
            starts_at=datetime(2026, 2, 10, 14, tzinfo=UTC),
            idempotency_key="k2",
        ),
    )
    assert receipt.status == EmailStatus.OUTBOXED
    [eml] = list(outbox.glob("*.eml"))
    message = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert message["List-Unsubscribe"] is None and message["Date"] is not None


async def test_kickoff_invite_unknown_contact(store: Store, outbox: Path, acts: Activities) -> None:
    await seed_account(acts)
    invite = KickoffInvite(
        account_id="acme",
        contact_id="nobody",
        starts_at=datetime(2026, 2, 10, 14, tzinfo=UTC),
        idempotency_key="k3",
    )
    await expect_failure(acts.calendar.send_kickoff_invite, invite, "InvalidInput")


async def test_alert_creates_task_and_emails_owner_once(
    store: Store, outbox: Path, acts: Activities
) -> None:
    await seed_account(acts)
    alert = CsmAlert(
        account_id="acme",
        owner="dana.csm@vendor.example.com",
        subject="Detractor: NPS 3",
        message="Chloe answered 3: slow support",
        severity=AlertSeverity.CRITICAL,
        idempotency_key="nps-q1:detractor",
    )
    await run(acts.alerts.alert_csm, alert)
    await run(acts.alerts.alert_csm, alert)

    snapshot = await run(acts.crm.get_account, AccountRef(account_id="acme"))
    [task] = snapshot.open_tasks
    assert (task.title, task.priority, task.owner) == (
        "Detractor: NPS 3",
        TaskPriority.URGENT,
        "dana.csm@vendor.example.com",
    )
    [eml] = list(outbox.glob("*.eml"))
    message = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert message["To"] == "dana.csm@vendor.example.com"
    assert message["Subject"] == "[CRITICAL] Acme Corp: Detractor: NPS 3"
    with store.session() as session:
        [row] = session.exec(select(EmailSendRow)).all()
    assert row.idempotency_key == "nps-q1:detractor:email"
