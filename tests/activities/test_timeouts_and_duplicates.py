"""Email sends heartbeat while they work, carry a stable Message-ID, and a crash after the
provider call leaves nothing half-done."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Literal

import pytest
from sendgrid.helpers.mail import Mail
from sqlmodel import select
from temporalio.testing import ActivityEnvironment

import activities.email as email_activity
from activities import Activities
from activities.delivery import OutgoingEmail
from activities.outbox import OutboxProvider
from activities.sendgrid_provider import SendGridProvider
from crm.database import Store
from crm.tables import TouchpointRow
from domain.models import EmailStatus
from tests.support.cs_support import introduction_email, run, seed_account

pytestmark = pytest.mark.usefixtures("outbox")


class SlowProvider:
    """The outbox behind a provider call that takes a while (SendGrid on a bad day)."""

    name: Literal["sendgrid", "outbox"] = "outbox"

    def __init__(self, directory: Path, seconds: float) -> None:
        self.inner = OutboxProvider(directory)
        self.seconds = seconds

    def deliver(self, message: OutgoingEmail) -> str | None:
        time.sleep(self.seconds)
        return self.inner.deliver(message)


async def test_a_slow_send_heartbeats_while_it_waits(
    store: Store, outbox: Path, make_acts: Callable[..., Activities], acts: Activities
) -> None:
    """So a worker that dies mid-send is noticed within the heartbeat timeout, not after the
    whole start-to-close."""
    await seed_account(acts)
    acts = make_acts(provider=SlowProvider(outbox, seconds=2.5))
    beats: list[Any] = []
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, activity_id="slow-1")
    env.on_heartbeat = lambda *details: beats.append(details)
    receipt = await env.run(acts.email.send_email, introduction_email())
    assert receipt.status == EmailStatus.OUTBOXED
    assert len(beats) >= 2


class FakeSendGridClient:
    def __init__(self) -> None:
        self.payloads: list[dict[str, Any]] = []

    def send(self, message: Mail) -> Any:
        self.payloads.append(message.get())
        return SimpleNamespace(status_code=202, body=b"", headers={"X-Message-Id": "sg-1"})


async def test_sendgrid_messages_carry_a_message_id_stable_per_idempotency_key(
    store: Store,
    make_acts: Callable[..., Activities],
    acts: Activities,
) -> None:
    await seed_account(acts)
    client = FakeSendGridClient()
    acts = make_acts(provider=SendGridProvider("key", client=client))
    await run(acts.email.send_email, introduction_email("acme:one"))
    # A retry whose first attempt's outcome was lost sends again: the same Message-ID.
    with store.session() as session:
        row = email_activity.ledger_row(session, "acme:one")
        assert row is not None
        row.status = EmailStatus.PENDING.value
    await run(acts.email.send_email, introduction_email("acme:one"))
    await run(acts.email.send_email, introduction_email("acme:two"))
    ids = [p["headers"]["Message-ID"] for p in client.payloads]
    assert ids[0] == ids[1] != ids[2]
    assert ids[0].startswith("<") and ids[0].endswith("@csflow.example.com>")
    assert all(p["custom_args"]["idempotency_key"].startswith("acme:") for p in client.payloads)


async def test_a_crash_between_ledger_mark_and_timeline_entry_sends_nothing_again(
    store: Store,
    outbox: Path,
    monkeypatch: pytest.MonkeyPatch,
    make_acts: Callable[..., Activities],
    acts: Activities,
) -> None:
    await seed_account(acts)
    deliveries: list[str] = []

    class Counting(OutboxProvider):
        def deliver(self, message: OutgoingEmail) -> str:
            deliveries.append(message.idempotency_key)
            return super().deliver(message)

    acts = make_acts(provider=Counting(outbox))
    real = email_activity.record_sent
    crashes = iter([True])

    def crash_once(*args: Any) -> None:
        if next(crashes, False):
            raise ConnectionResetError("worker lost the database right after the mark")
        real(*args)

    monkeypatch.setattr(email_activity, "record_sent", crash_once)
    with pytest.raises(ConnectionResetError):
        await run(acts.email.send_email, introduction_email(), activity_id="a1", attempt=1)
    receipt = await run(acts.email.send_email, introduction_email(), activity_id="a1", attempt=2)
    assert receipt.status == EmailStatus.OUTBOXED
    assert deliveries == ["acme:intro"]  # the mark was committed: not delivered again
    with store.session() as session:
        entries = session.exec(
            select(TouchpointRow).where(TouchpointRow.idempotency_key == "email:acme:intro")
        ).all()
    assert len(entries) == 1  # the retry wrote the missing timeline entry
