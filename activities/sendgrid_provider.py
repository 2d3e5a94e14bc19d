"""SendGrid v3 Mail Send (the `sendgrid` package), mapping HTTP outcomes to retry semantics."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Literal, Protocol

from python_http_client.exceptions import HTTPError
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import (
    Attachment,
    Category,
    Content,
    CustomArg,
    Disposition,
    FileContent,
    FileName,
    FileType,
    From,
    Header,
    Mail,
    ReplyTo,
    To,
)

from activities.delivery import (
    DeliveryRejected,
    DeliveryUnavailable,
    MessageRefused,
    OutgoingEmail,
)

HTTP_TIMEOUT_SECONDS = 10.0
# Without a Retry-After header, back off at least this long on 429.
DEFAULT_THROTTLE_DELAY = timedelta(seconds=30)


class SendGridClient(Protocol):
    """What we use of `SendGridAPIClient` (tests inject a fake with the same shape)."""

    def send(self, message: Mail) -> Any: ...


def build_mail(message: OutgoingEmail) -> Mail:
    mail = Mail(
        from_email=From(message.from_email, message.from_name),
        to_emails=To(message.to_email, message.to_name),
        subject=message.subject,
        plain_text_content=Content("text/plain", message.text),
        html_content=Content("text/html", message.html),
    )
    if message.reply_to:
        mail.reply_to = ReplyTo(message.reply_to)
    # The same Message-ID on every attempt of one idempotency key: if a crash makes csflow send
    # a message twice, the copies are one message to mail systems that deduplicate by it (Gmail
    # shows one), and SendGrid's events carry it as `smtp-id`. SendGrid sets `Date` itself (when
    # it sends); List-Unsubscribe and List-Unsubscribe-Post are ordinary headers to its API.
    mail.header = Header("Message-ID", message.message_id)
    for name, value in message.headers.items():
        mail.header = Header(name, value)
    # SendGrid allows at most 10 categories per message.
    mail.category = [Category(c) for c in message.categories[:10]]
    for key, value in message.custom_args.items():
        mail.add_custom_arg(CustomArg(key, value))
    for item in message.attachments:
        mail.add_attachment(
            Attachment(
                FileContent(base64.b64encode(item.content.encode()).decode()),
                FileName(item.filename),
                FileType(item.content_type),
                Disposition("attachment"),
            )
        )
    return mail


def retry_after(headers: Mapping[str, Any] | None) -> timedelta | None:
    """Retry-After as seconds or an HTTP date (case-insensitive header lookup)."""
    value = _header(headers, "Retry-After")
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return timedelta(seconds=int(text))
    try:
        delay = parsedate_to_datetime(text) - datetime.now(UTC)
    except (TypeError, ValueError):
        return None
    return max(delay, timedelta(0))


def _header(headers: Mapping[str, Any] | None, name: str) -> str | None:
    if not headers:
        return None
    for key, value in headers.items():
        if str(key).lower() == name.lower():
            return str(value)
    return None


def _body_text(body: Any) -> str:
    if isinstance(body, bytes):
        return body.decode("utf-8", "replace")[:500]
    return str(body)[:500]


class SendGridProvider:
    name: Literal["sendgrid", "outbox"] = "sendgrid"

    def __init__(
        self,
        api_key: str,
        client: SendGridClient | None = None,
        timeout_seconds: float = HTTP_TIMEOUT_SECONDS,
    ) -> None:
        if client is None:
            real = SendGridAPIClient(api_key)
            # python_http_client passes this to urlopen for every request it builds.
            real.client.timeout = timeout_seconds
            client = real
        self.client = client

    def deliver(self, message: OutgoingEmail) -> str | None:
        try:
            mail = build_mail(message)
        except (ValueError, TypeError) as err:
            raise MessageRefused(f"SendGrid message could not be built: {err}") from err
        try:
            response = self.client.send(mail)
        except HTTPError as err:
            status = int(err.status_code)
            detail = _body_text(err.body)
            if status == 429:
                raise DeliveryUnavailable(
                    f"SendGrid throttled the request (429): {detail}",
                    retry_after(err.headers) or DEFAULT_THROTTLE_DELAY,
                ) from err
            if 400 <= status < 500:
                raise DeliveryRejected(status, detail) from err
            raise DeliveryUnavailable(
                f"SendGrid error {status}: {detail}", retry_after(err.headers)
            ) from err
        except (OSError, TimeoutError) as err:
            # URLError, socket timeouts, connection resets: transient by nature.
            raise DeliveryUnavailable(f"SendGrid unreachable: {err}") from err
        status = int(getattr(response, "status_code", 0))
        if status not in (200, 202):
            raise DeliveryUnavailable(f"unexpected SendGrid status {status}")
        return _header(getattr(response, "headers", None), "X-Message-Id")
