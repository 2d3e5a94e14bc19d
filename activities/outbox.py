"""Local outbox: with no SendGrid key, each email becomes an `.eml` file (demos, development).

A file is named `<send time, UTC>-<account>-<template>-<key hash>.eml`
(`20271103T161838Z-acme-renewal_outreach-1a2b3c4d.eml`), so a listing reads in the order the
emails went out. The name is derived from the message's send time and idempotency key, so a
retried delivery overwrites its file rather than adding one (a copy under an older send time is
replaced too).
"""

from __future__ import annotations

import hashlib
import os
import re
from datetime import UTC
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import Literal

from activities.delivery import MessageRefused, OutgoingEmail

_UNREADABLE = re.compile(r"[^a-z0-9_]+")


def _readable(text: str) -> str:
    return _UNREADABLE.sub("-", text.lower()).strip("-")[:40] or "email"


def outbox_filename(message: OutgoingEmail) -> str:
    digest = hashlib.sha256(message.idempotency_key.encode()).hexdigest()[:8]
    stamp = message.sent_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ") if message.sent_at else ""
    account = _readable(message.custom_args.get("account_id", ""))
    return f"{stamp or 'unsent'}-{account}-{_readable(message.template)}-{digest}.eml"


class OutboxProvider:
    name: Literal["sendgrid", "outbox"] = "outbox"

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def deliver(self, message: OutgoingEmail) -> str:
        message_id = message.message_id
        try:
            data = bytes(_mime(message, message_id))
        except (ValueError, TypeError) as err:
            # The email package refuses header values with line breaks (header injection).
            raise MessageRefused(f"outbox refused the message: {err}") from err
        self.directory.mkdir(parents=True, exist_ok=True)
        name = outbox_filename(message)
        target = self.directory / name
        # Write-then-rename: a crash never leaves a half-written message behind.
        partial = target.with_suffix(".eml.partial")
        partial.write_bytes(data)
        os.replace(partial, target)
        # The same message written before under another send time: one file per message.
        same_message = name.partition("-")[2]
        for earlier in self.directory.glob(f"*-{same_message}"):
            if earlier.name != name:
                earlier.unlink(missing_ok=True)
        return message_id


def _mime(message: OutgoingEmail, message_id: str) -> EmailMessage:
    mime = EmailMessage()
    mime["Message-ID"] = message_id
    if message.sent_at is not None:
        mime["Date"] = format_datetime(message.sent_at.astimezone(UTC))
    mime["From"] = formataddr((message.from_name, message.from_email))
    mime["To"] = formataddr((message.to_name or "", message.to_email))
    if message.reply_to:
        mime["Reply-To"] = message.reply_to
    mime["Subject"] = message.subject
    for name, value in message.headers.items():
        mime[name] = value
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
