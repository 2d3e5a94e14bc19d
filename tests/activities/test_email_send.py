"""send_email: exactly-once per key, opt-out suppression, address checks, SendGrid outcomes."""

from __future__ import annotations

import base64
import email
from collections.abc import Callable
from datetime import timedelta
from email import policy
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Literal

import pytest
from pydantic import SecretStr
from python_http_client.exceptions import HTTPError, err_dict
from sendgrid.helpers.mail import Mail
from sqlmodel import col, select
from temporalio.exceptions import ApplicationError

from activities import Activities
from activities.delivery import OutgoingEmail
from activities.email import provider_for
from activities.outbox import OutboxProvider
from activities.sendgrid_provider import SendGridProvider
from crm.database import Store
from crm.tables import EmailSendRow, TouchpointRow
from domain.models import EmailRequest, EmailStatus
from domain.settings import Settings
from tests.support.cs_support import expect_failure, run, seed_account

pytestmark = pytest.mark.usefixtures("outbox")


class CountingProvider:
    """The real outbox, counting deliveries; optionally dies before the first one."""

    name: Literal["sendgrid", "outbox"] = "outbox"

    def __init__(self, directory: Path, crash_first: bool = False) -> None:
        self.inner = OutboxProvider(directory)
        self.crash_first = crash_first
        self.deliveries = 0

    def deliver(self, message: OutgoingEmail) -> str | None:
        if self.crash_first:
            self.crash_first = False
            raise RuntimeError("worker process killed before reaching the provider")
        self.deliveries += 1
        return self.inner.deliver(message)


class FakeSendGridClient:
    """Stands in for `SendGridAPIClient`: replays scripted HTTP outcomes, keeps the payloads."""

    def __init__(self, *outcomes: Any) -> None:
        self.outcomes = list(outcomes)
        self.payloads: list[dict[str, Any]] = []

    def send(self, message: Mail) -> Any:
        self.payloads.append(message.get())
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def http_error(
    status: int, body: bytes = b"{}", headers: dict[str, str] | None = None
) -> HTTPError:
    cls = err_dict.get(status, HTTPError)
    return cls(status, "error", body, headers or {})


def accepted(message_id: str = "sg-msg-1") -> SimpleNamespace:
    return SimpleNamespace(status_code=202, body=b"", headers={"X-Message-Id": message_id})


def welcome(key: str = "acme:intro", **overrides: Any) -> EmailRequest:
    fields: dict[str, Any] = {
        "idempotency_key": key,
        "account_id": "acme",
        "to_contact_id": "c-champ",
        "template": "csm_introduction",
        "category": "onboarding",
        "workflow_id": "onboarding-acme",
        "step": "introduction",
    }
    fields.update(overrides)
    return EmailRequest(**fields)


def ledger(store: Store) -> list[EmailSendRow]:
    with store.session() as session:
        return list(session.exec(select(EmailSendRow)).all())


def timeline(store: Store) -> list[TouchpointRow]:
    with store.session() as session:
        return list(session.exec(select(TouchpointRow).order_by(col(TouchpointRow.id))).all())


async def test_outbox_send_writes_eml_and_ledger(
    store: Store, outbox: Path, acts: Activities
) -> None:
    await seed_account(acts)
    receipt = await run(acts.email.send_email, welcome())

    assert receipt.status == EmailStatus.OUTBOXED
    assert receipt.to_email == "chloe@acme.example.com"
    files = list(outbox.glob("*.eml"))
    assert len(files) == 1
    message = email.message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert message["To"] == "Chloe Champion <chloe@acme.example.com>"
    assert message["Reply-To"] == "dana.csm@vendor.example.com"
    assert message["Message-ID"] == receipt.message_id
    assert message["X-Csflow-Idempotency-Key"] == "acme:intro"
    assert message["X-Csflow-Workflow-Id"] == "onboarding-acme"
    assert message["Subject"] == "Welcome to Example Software: meet your Customer Success Manager"
    body = message.get_body(preferencelist=("plain",))
    assert body is not None and "Hi Chloe," in body.get_content()
    [row] = ledger(store)
    assert (row.status, row.provider, row.attempts) == ("outboxed", "outbox", 1)
    assert row.sent_at is not None
    assert [t.kind for t in timeline(store)][-1] == "email"


async def test_replies_go_to_the_accounts_reply_address_when_configured(
    store: Store, outbox: Path, make_acts: Callable[..., Activities]
) -> None:
    from domain.reply_address import account_for, tokens_in

    acts = make_acts(
        reply_secret=SecretStr("reply-secret"), reply_domain="reply.vendor.example.com"
    )
    await seed_account(acts)
    await run(acts.email.send_email, welcome())
    [file] = list(outbox.glob("*.eml"))
    reply_to = email.message_from_bytes(file.read_bytes(), policy=policy.default)["Reply-To"]
    assert reply_to.endswith("@reply.vendor.example.com") and reply_to.startswith("reply+")
    [token] = tokens_in(reply_to)
    assert account_for(token, "reply-secret", ["globex", "acme"]) == "acme"


async def test_same_key_twice_delivers_once_and_returns_same_receipt(
    store: Store, outbox: Path, make_acts: Callable[..., Activities], acts: Activities
) -> None:
    await seed_account(acts)
    provider = CountingProvider(outbox)
    acts = make_acts(provider=provider)

    first = await run(acts.email.send_email, welcome())
    second = await run(acts.email.send_email, welcome())

    assert provider.deliveries == 1
    assert second == first
    assert len(ledger(store)) == 1
    assert len(list(outbox.glob("*.eml"))) == 1
    assert sum(1 for t in timeline(store) if t.kind == "email") == 1


async def test_crash_after_ledger_row_before_provider_does_not_double_send(
    store: Store, outbox: Path, make_acts: Callable[..., Activities], acts: Activities
) -> None:
    await seed_account(acts)
    provider = CountingProvider(outbox, crash_first=True)
    acts = make_acts(provider=provider)

    with pytest.raises(RuntimeError, match="killed"):
        await run(acts.email.send_email, welcome(), activity_id="a1", attempt=1)
    [row] = ledger(store)
    assert row.status == "pending"  # written before the provider call
    assert provider.deliveries == 0

    retried = await run(acts.email.send_email, welcome(), activity_id="a1", attempt=2)
    again = await run(acts.email.send_email, welcome(), activity_id="a1", attempt=3)

    assert retried.status == EmailStatus.OUTBOXED
    assert again == retried
    assert provider.deliveries == 1
    [row] = ledger(store)
    assert (row.status, row.attempts) == ("outboxed", 2)


async def test_opted_out_contact_is_suppressed_and_recorded(
    store: Store, outbox: Path, acts: Activities
) -> None:
    await seed_account(acts)
    # Nurture mail (a check-in): the opt-out stops it. Service mail still goes, see
    # test_email_content.py.
    receipt = await run(
        acts.email.send_email,
        welcome("acme:optout", to_contact_id="c-optout", template="usage_check_in"),
    )

    assert receipt.status == EmailStatus.SUPPRESSED
    assert receipt.reason == "contact opted out"
    assert list(outbox.glob("*.eml")) == []
    [row] = ledger(store)
    assert (row.status, row.provider) == ("suppressed", "none")
    suppressed = [t for t in timeline(store) if t.kind == "email_suppressed"]
    assert len(suppressed) == 1
    assert "olive@acme.example.com" in suppressed[0].summary


async def test_opt_out_applies_when_addressed_by_email(
    store: Store, outbox: Path, acts: Activities
) -> None:
    await seed_account(acts)
    receipt = await run(
        acts.email.send_email,
        welcome(
            "acme:optout2",
            to_contact_id=None,
            to_email=" Olive@ACME.example.com",
            template="usage_check_in",
        ),
    )
    assert receipt.status == EmailStatus.SUPPRESSED
    assert list(outbox.glob("*.eml")) == []


@pytest.mark.parametrize(
    "address", ["not-an-address", "a@b", "two@@ats.example.com", "sp ace@x.io"]
)
async def test_invalid_address_is_non_retryable(
    store: Store, address: str, acts: Activities
) -> None:
    await seed_account(acts)
    error = await expect_failure(
        acts.email.send_email, welcome(to_contact_id=None, to_email=address), "InvalidEmailAddress"
    )
    assert error.non_retryable
    assert ledger(store) == []


async def test_unknown_account_and_template_are_non_retryable(
    store: Store, acts: Activities
) -> None:
    await seed_account(acts)
    error = await expect_failure(
        acts.email.send_email, welcome(account_id="nope"), "UnknownAccount"
    )
    assert error.non_retryable
    error = await expect_failure(
        acts.email.send_email, welcome(template="no_such_template"), "InvalidInput"
    )
    assert error.non_retryable
    # A template variable missing from the context is a caller bug, not a blank in an email.
    error = await expect_failure(
        acts.email.send_email, welcome(template="renewal_reminder"), "InvalidInput"
    )
    assert "renewal_date" in str(error) or "days_left" in str(error)
    assert ledger(store) == []


async def test_reusing_a_key_for_another_message_is_rejected(
    store: Store, acts: Activities
) -> None:
    await seed_account(acts)
    await run(acts.email.send_email, welcome())
    await expect_failure(acts.email.send_email, welcome(to_contact_id="c-exec"), "InvalidInput")


async def test_sendgrid_202_builds_mail_with_categories_and_custom_args(
    store: Store, make_acts: Callable[..., Activities], acts: Activities
) -> None:
    await seed_account(acts)
    client = FakeSendGridClient(accepted("sg-123"))
    acts = make_acts(provider=SendGridProvider("SG.test", client=client))

    receipt = await run(acts.email.send_email, welcome())

    assert (receipt.status, receipt.message_id, receipt.provider) == (
        EmailStatus.SENT,
        "sg-123",
        "sendgrid",
    )
    [payload] = client.payloads
    assert sorted(payload["categories"]) == ["csm_introduction", "onboarding"]
    assert payload["custom_args"] == {
        "idempotency_key": "acme:intro",
        "account_id": "acme",
        "workflow_id": "onboarding-acme",
        "step": "introduction",
    }
    assert payload["personalizations"][0]["to"] == [
        {"email": "chloe@acme.example.com", "name": "Chloe Champion"}
    ]
    assert [c["type"] for c in payload["content"]] == ["text/plain", "text/html"]
    [row] = ledger(store)
    assert (row.status, row.message_id) == ("sent", "sg-123")
    # A retry after success sends nothing (the fake has no outcome left to give).
    assert await run(acts.email.send_email, welcome()) == receipt
    assert len(client.payloads) == 1


async def test_sendgrid_400_is_permanent_and_remembered(
    store: Store, make_acts: Callable[..., Activities], acts: Activities
) -> None:
    await seed_account(acts)
    client = FakeSendGridClient(http_error(400, b'{"errors":[{"message":"bad from"}]}'))
    acts = make_acts(provider=SendGridProvider("SG.test", client=client))

    error = await expect_failure(acts.email.send_email, welcome(), "EmailProviderRejected")
    assert error.non_retryable
    assert "bad from" in str(error)
    [row] = ledger(store)
    assert row.status == "rejected"
    # Re-running the same key fails the same way without calling SendGrid again.
    await expect_failure(acts.email.send_email, welcome(), "EmailProviderRejected")
    assert len(client.payloads) == 1


async def test_sendgrid_429_honours_retry_after_then_succeeds(
    store: Store, make_acts: Callable[..., Activities], acts: Activities
) -> None:
    await seed_account(acts)
    client = FakeSendGridClient(
        http_error(429, b"slow down", {"Retry-After": "17"}), accepted("sg-after-429")
    )
    acts = make_acts(provider=SendGridProvider("SG.test", client=client))

    with pytest.raises(ApplicationError) as caught:
        await run(acts.email.send_email, welcome(), activity_id="a1", attempt=1)
    assert caught.value.type == "EmailProviderUnavailable"
    assert not caught.value.non_retryable
    assert caught.value.next_retry_delay == timedelta(seconds=17)
    assert ledger(store)[0].status == "pending"

    receipt = await run(acts.email.send_email, welcome(), activity_id="a1", attempt=2)
    assert (receipt.status, receipt.message_id) == (EmailStatus.SENT, "sg-after-429")
    assert ledger(store)[0].attempts == 2


async def test_sendgrid_500_is_retryable(
    store: Store, make_acts: Callable[..., Activities], acts: Activities
) -> None:
    await seed_account(acts)
    client = FakeSendGridClient(http_error(500, b"oops"), accepted("sg-after-500"))
    acts = make_acts(provider=SendGridProvider("SG.test", client=client))

    with pytest.raises(ApplicationError) as caught:
        await run(acts.email.send_email, welcome())
    assert caught.value.type == "EmailProviderUnavailable"
    assert not caught.value.non_retryable
    assert caught.value.next_retry_delay is None  # Temporal's backoff applies

    receipt = await run(acts.email.send_email, welcome())
    assert receipt.status == EmailStatus.SENT
    assert len(client.payloads) == 2


async def test_sendgrid_network_timeout_is_retryable(
    store: Store, make_acts: Callable[..., Activities], acts: Activities
) -> None:
    await seed_account(acts)
    client = FakeSendGridClient(TimeoutError("timed out"))
    acts = make_acts(provider=SendGridProvider("SG.test", client=client))
    with pytest.raises(ApplicationError) as caught:
        await run(acts.email.send_email, welcome())
    assert caught.value.type == "EmailProviderUnavailable"
    assert not caught.value.non_retryable


def test_real_sendgrid_client_gets_an_http_timeout() -> None:
    provider = SendGridProvider("SG.test", timeout_seconds=7.5)
    assert provider.client.client.timeout == 7.5  # type: ignore[union-attr]


async def test_sendgrid_attachment_is_base64(
    store: Store, make_acts: Callable[..., Activities], acts: Activities
) -> None:
    await seed_account(acts)
    client = FakeSendGridClient(accepted())
    acts = make_acts(provider=SendGridProvider("SG.test", client=client))
    request = welcome(
        attachments=[{"filename": "notes.txt", "content_type": "text/plain", "content": "hi ✓"}]
    )
    await run(acts.email.send_email, request)
    [attachment] = client.payloads[0]["attachments"]
    assert attachment["filename"] == "notes.txt"
    assert base64.b64decode(attachment["content"]).decode() == "hi ✓"


def test_provider_chosen_from_settings(tmp_path: Path) -> None:
    chosen = provider_for(Settings(outbox_dir=tmp_path))
    assert isinstance(chosen, OutboxProvider) and chosen.directory == tmp_path
    with_key = Settings.from_env({"SENDGRID_API_KEY": "SG.fake"})
    assert isinstance(provider_for(with_key), SendGridProvider)
