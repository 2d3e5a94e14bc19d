"""Email delivery: the message handed to a provider, the provider interface and its failures."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal, Protocol

from domain.input_checks import single_line_problem
from domain.models import EmailAttachment


@dataclass(frozen=True)
class OutgoingEmail:
    idempotency_key: str
    to_email: str
    to_name: str | None
    subject: str
    text: str
    html: str
    categories: list[str]
    # Echoed back by SendGrid event webhooks: lets events be tied to a workflow step.
    custom_args: dict[str, str]
    # The sender: CSFLOW_FROM_EMAIL and CSFLOW_FROM_NAME.
    from_email: str
    from_name: str
    reply_to: str | None = None
    attachments: list[EmailAttachment] = field(default_factory=list)
    # When it is sent (the `Date` header): the time the send was decided, workflow time.
    sent_at: datetime | None = None
    # The template it was rendered from (names outbox files).
    template: str = ""
    # More headers: `List-Unsubscribe` and `List-Unsubscribe-Post` on marketing and nurture mail.
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def message_id(self) -> str:
        return message_id_for(self.idempotency_key, self.from_email)


def message_id_for(idempotency_key: str, from_email: str) -> str:
    """The `Message-ID`: derived from the idempotency key (the same on every attempt, unique per
    message), in the sender's domain."""
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
    domain = from_email.rpartition("@")[2] or "localhost"
    return f"<{digest}@{domain}>"


class DeliveryRejected(Exception):
    """The provider refused the message for good (a 4xx other than 429)."""

    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(f"provider rejected the message ({status_code}): {detail}")
        self.status_code = status_code
        self.detail = detail


class MessageRefused(Exception):
    """The message cannot be built as an email (e.g. a header value with a line break): no
    provider will ever take it. Raised before anything is sent."""


class DeliveryUnavailable(Exception):
    """The provider could not take the message now (429, 5xx, timeout); try again later."""

    def __init__(self, detail: str, retry_after: timedelta | None = None) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


def header_problem(message: OutgoingEmail) -> str | None:
    """What makes `message` impossible to send (a header value that is not one clean line)."""
    values: list[tuple[str, str | None]] = [
        ("contact name", message.to_name),
        ("to_email", message.to_email),
        ("subject", message.subject),
        ("from_name", message.from_name),
        ("from_email", message.from_email),
        ("reply_to", message.reply_to),
    ]
    values += [("category", c) for c in message.categories]
    values += [(f"header {name}", name + value) for name, value in message.headers.items()]
    values += [(f"custom_args.{k}", v) for k, v in message.custom_args.items()]
    values += [
        (f"attachment {a.filename!r}", a.filename + a.content_type) for a in message.attachments
    ]
    for field_name, value in values:
        if value is None:
            continue
        if (problem := single_line_problem(value)) is not None:
            return f"{field_name} {value[:80]!r}: {problem}; the email header would be refused"
    return None


class EmailProvider(Protocol):
    name: Literal["sendgrid", "outbox"]

    def deliver(self, message: OutgoingEmail) -> str | None:
        """Deliver `message`; returns the provider's message id. Raises Delivery* errors.

        May be called again for the same message when an earlier call's outcome was lost;
        providers should make that harmless where they can (the outbox overwrites one file).
        A message that cannot be built at all raises MessageRefused.
        """
        ...
