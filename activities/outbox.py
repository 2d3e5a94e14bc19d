"""Local outbox: with no SendGrid key, each email becomes an `.eml` file (demos, development)."""

from __future__ import annotations

import hashlib
import os
from email.message import EmailMessage
from email.utils import formataddr
from pathlib import Path
from typing import Literal

from activities.delivery import MessageRefused, OutgoingEmail


def outbox_filename(idempotency_key: str) -> str:
    # Derived from the key, so a retried delivery overwrites rather than duplicates.
    return hashlib.sha256(idempotency_key.encode()).hexdigest()[:32] + ".eml"


class OutboxProvider:
    name: Literal["sendgrid", "outbox"] = "outbox"

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def deliver(self, message: OutgoingEmail) -> str:
        digest = hashlib.sha256(message.idempotency_key.encode()).hexdigest()[:32]
        message_id = f"<{digest}@outbox.csflow>"
        try:
            data = bytes(_mime(message, message_id))
        except (ValueError, TypeError) as err:
            # The email package refuses header values with line breaks (header injection).
            raise MessageRefused(f"outbox refused the message: {err}") from err
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self.directory / outbox_filename(message.idempotency_key)
        # Write-then-rename: a crash never leaves a half-written message behind.
        partial = target.with_suffix(".eml.partial")
        partial.write_bytes(data)
        os.replace(partial, target)
        return message_id


def _mime(message: OutgoingEmail, message_id: str) -> EmailMessage:
    mime = EmailMessage()
    mime["Message-ID"] = message_id
    mime["From"] = formataddr((message.from_name, message.from_email))
    mime["To"] = formataddr((message.to_name or "", message.to_email))
    if message.reply_to:
        mime["Reply-To"] = message.reply_to
    mime["Subject"] = message.subject
    mime["X-Csflow-Categories"] = ", ".join(message.categories)
    for key, value in sorted(message.custom_args.items()):
        mime[f"X-Csflow-{key.replace('_', '-').title()}"] = value
    mime.set_content(message.text)
    mime.add_alternative(message.html, subtype="html")
    for attachment in message.attachments:
        maintype, _, subtype = attachment.content_type.partition(";")[0].partition("/")
        mime.add_attachment(
            attachment.content.encode(),
            maintype=maintype or "application",
            subtype=subtype or "octet-stream",
            filename=attachment.filename,
        )
    return mime
