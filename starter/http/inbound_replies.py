"""POST /v1/webhooks/sendgrid/inbound: customer replies via SendGrid Inbound Parse.

The reply-to token in the recipient address (see reply_address) names the account; the reply
becomes an `email_replied` customer event (the renewal stage, for one, waits for it). Inbound
Parse retries on any non-2xx for days, so mail that matches no account is acknowledged and
dropped rather than refused.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from email.parser import HeaderParser
from email.utils import parseaddr
from typing import Any

import structlog
from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlmodel import col, select
from starlette.datastructures import FormData, UploadFile

from crm.database import get_store
from crm.tables import AccountRow, ContactRow
from domain.addresses import normalize_email
from domain.reply_address import account_for, tokens_in
from starter.http.journey_delivery import signal_running_journey
from starter.http.request_log import note_request
from starter.http.settings import ApiSettings
from starter.http.validation_errors import field_error
from workflows.customer_event import CustomerEvent, CustomerEventType
from workflows.journey import journey_id

router = APIRouter(prefix="/v1/webhooks/sendgrid", tags=["webhooks"])
log = structlog.get_logger("csflow.api.inbound")

SNIPPET_CHARS = 2000
_TAG = re.compile(r"<[^>]+>")


class InboundReceipt(BaseModel):
    status: str  # "delivered" or "ignored"
    reason: str | None = None
    account_id: str | None = None
    workflow_id: str | None = None


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _snippet(text: str, html: str) -> str:
    body = text or _TAG.sub(" ", html)
    # Quoted history ("> ...") repeats our own email; the customer's words come first.
    lines = [line for line in body.splitlines() if not line.lstrip().startswith(">")]
    return "\n".join(lines).strip()[:SNIPPET_CHARS]


def _envelope_recipients(raw: str) -> str:
    try:
        envelope: Any = json.loads(raw) if raw else {}
    except (ValueError, RecursionError):
        return ""
    recipients = envelope.get("to", []) if isinstance(envelope, dict) else []
    return " ".join(r for r in recipients if isinstance(r, str))


def _event_id(form: FormData) -> str:
    headers = HeaderParser().parsestr(_text(form, "headers"))
    message_id = (headers.get("Message-ID") or "").strip()
    basis = message_id or "\n".join(_text(form, name) for name in ("from", "to", "subject", "text"))
    return "inbound:" + hashlib.sha256(basis.encode()).hexdigest()[:40]


def _match(tokens: list[str], secret: str, sender: str) -> tuple[str, str | None] | None:
    with get_store().session() as session:
        account_ids = session.exec(select(AccountRow.id)).all()
        for token in tokens:
            account_id = account_for(token, secret, account_ids)
            if account_id is None:
                continue
            contact = session.exec(
                select(ContactRow).where(
                    col(ContactRow.account_id) == account_id,
                    col(ContactRow.email) == normalize_email(sender),
                )
            ).first()
            return account_id, contact.id if contact else None
    return None


@router.post("/inbound", response_model=InboundReceipt)
async def inbound_reply(request: Request) -> InboundReceipt:
    settings: ApiSettings = request.app.state.settings
    async with request.form(max_files=20, max_fields=50) as form:
        if any(isinstance(v, UploadFile) for k, v in form.multi_items() if k == "to"):
            raise field_error(("body", "to"), "must be a text field")
        to_field = _text(form, "to")
        if not to_field and not _text(form, "envelope"):
            raise field_error(("body", "to"), "Field required", kind="missing")
        sender = parseaddr(_text(form, "from"))[1]
        subject = _text(form, "subject")[:300]
        snippet = _snippet(_text(form, "text"), _text(form, "html"))
        event_id = _event_id(form)
        recipients = " ".join(
            [to_field, _text(form, "cc"), _envelope_recipients(_text(form, "envelope"))]
        )
    if settings.reply_secret is None:
        log.warning("inbound reply dropped: CSFLOW_REPLY_SECRET is not configured")
        return InboundReceipt(status="ignored", reason="reply matching is not configured")
    tokens = tokens_in(recipients)
    matched = (
        await asyncio.to_thread(_match, tokens, settings.reply_secret.get_secret_value(), sender)
        if tokens
        else None
    )
    if matched is None:
        log.info("inbound mail without a known reply token", recipients=recipients[:200])
        return InboundReceipt(status="ignored", reason="no reply token for a known account")
    account_id, contact_id = matched
    workflow_id = journey_id(account_id)
    note_request(request, account_id=account_id, workflow_id=workflow_id)
    event = CustomerEvent(
        account_id=account_id,
        type=CustomerEventType.EMAIL_REPLIED.value,
        payload={"contact_id": contact_id, "subject": subject, "snippet": snippet},
        event_id=event_id,
    )
    delivery = await signal_running_journey(
        request.app.state.temporal, event, timeout=settings.temporal_rpc_timeout
    )
    if delivery is None:
        log.warning("reply for an account without a running journey", account_id=account_id)
        return InboundReceipt(
            status="ignored",
            reason="the account has no running journey",
            account_id=account_id,
            workflow_id=workflow_id,
        )
    return InboundReceipt(status="delivered", account_id=account_id, workflow_id=workflow_id)
