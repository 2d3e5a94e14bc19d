"""Failures no retry can fix are non-retryable ApplicationErrors with a type, not plain
exceptions Temporal would retry forever."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import pytest
from sqlmodel import select

from activities import Activities
from activities.context import in_thread
from activities.delivery import MessageRefused, OutgoingEmail
from activities.errors import INVALID_INPUT
from activities.outbox import OutboxProvider
from activities.sendgrid_provider import SendGridProvider
from crm.database import Store
from crm.tables import ContactRow, EmailSendRow
from tests.support.cs_support import expect_failure, introduction_email, run, seed_account

pytestmark = pytest.mark.usefixtures("outbox")

# How a contact name with a line break reaches the CRM: a sync or an import that never went
# through the API's validation (AccountUpsert refuses it now).
INJECTED = "Chloe Champion\r\nBcc: everyone@elsewhere.example"


def rename_contact(store: Store, contact_id: str, name: str) -> None:
    with store.session() as session:
        contact = session.get(ContactRow, contact_id)
        assert contact is not None
        contact.name = name


async def test_a_contact_name_with_a_line_break_is_refused_for_good(
    store: Store, outbox: Path, acts: Activities
) -> None:
    await seed_account(acts)
    rename_contact(store, "c-champ", INJECTED)
    for _ in range(2):  # every attempt fails the same way: nothing to retry
        failure = await expect_failure(acts.email.send_email, introduction_email(), INVALID_INPUT)
        assert failure.non_retryable
        assert "contact name" in str(failure) and "U+000D" in str(failure)
    assert not list(outbox.glob("*.eml"))
    with store.session() as session:
        rows = session.exec(
            select(EmailSendRow).where(EmailSendRow.idempotency_key == "acme:intro")
        ).all()
    assert rows == []  # refused before the ledger: a fixed name can be sent under the same key

    # Once the CRM record is fixed, the same step goes out.
    rename_contact(store, "c-champ", "Chloe Champion")
    receipt = await run(acts.email.send_email, introduction_email())
    assert receipt.status == "outboxed"


async def test_sendgrid_is_never_called_with_a_refused_header(
    store: Store, make_acts: Callable[..., Activities], acts: Activities
) -> None:
    class NeverCalled:
        def send(self, message: Any) -> Any:
            raise AssertionError("SendGrid must not be called")

    await seed_account(acts)
    rename_contact(store, "c-champ", INJECTED)
    acts = make_acts(provider=SendGridProvider("key", client=NeverCalled()))
    await expect_failure(acts.email.send_email, introduction_email(), INVALID_INPUT)


def test_the_outbox_turns_a_header_error_into_a_refusal(tmp_path: Path) -> None:
    message = OutgoingEmail(
        idempotency_key="k",
        to_email="chloe@acme.example.com",
        to_name=INJECTED,
        subject="Hello",
        text="hi",
        html="<p>hi</p>",
        categories=["x"],
        custom_args={},
        from_email="success@csflow.example.com",
        from_name="Customer Success",
    )
    with pytest.raises(MessageRefused, match="outbox refused"):
        OutboxProvider(tmp_path).deliver(message)


class RefusingProvider:
    """A provider that finds the message unbuildable (what the outbox does with a bad header)."""

    name: Literal["sendgrid", "outbox"] = "outbox"

    def __init__(self) -> None:
        self.calls = 0

    def deliver(self, message: OutgoingEmail) -> str | None:
        self.calls += 1
        raise MessageRefused("outbox refused the message: header value with a line feed")


async def test_a_refused_message_is_remembered_and_refused_again_the_same_way(
    store: Store,
    make_acts: Callable[..., Activities],
    acts: Activities,
) -> None:
    await seed_account(acts)
    provider = RefusingProvider()
    acts = make_acts(provider=provider)
    first = await expect_failure(acts.email.send_email, introduction_email(), INVALID_INPUT)
    again = await expect_failure(acts.email.send_email, introduction_email(), INVALID_INPUT)
    assert first.non_retryable and again.non_retryable
    assert provider.calls == 1  # the ledger remembers: no second attempt at the provider
    with store.session() as session:
        [row] = session.exec(select(EmailSendRow)).all()
    assert row.status == "rejected" and row.reason is not None and "line feed" in row.reason


async def test_bad_data_inside_an_activity_is_permanent_other_failures_stay_retryable() -> None:
    def overflow() -> None:
        from datetime import date, timedelta

        date(1, 1, 1) - timedelta(days=1)

    with pytest.raises(Exception) as caught:
        await in_thread(overflow)
    failure: Any = caught.value
    assert failure.type == INVALID_INPUT and failure.non_retryable
    assert "OverflowError" in str(failure)

    def connection_lost() -> None:
        raise ConnectionResetError("peer went away")

    with pytest.raises(ConnectionResetError):
        await in_thread(connection_lost)
