"""POST /v1/webhooks/sendgrid/inbound: customer replies via SendGrid Inbound Parse.

A message whose subject carries an unsubscribe token (`unsubscribe <token>`: the mailto of an
email's List-Unsubscribe, sent to `unsubscribe@<reply domain>`) opts its contact out instead, as
the one-click link does (starter.http.unsubscribe).

Only SendGrid may post (inbound_auth). The reply-to token in the recipient address (see
reply_address) names the account, found through the token index (reply_tokens) with one HMAC
per token and at most MAX_TOKENS_PER_MESSAGE tokens per message; the reply becomes an
`email_replied` customer event (the renewal stage, for one, waits for it). Inbound Parse retries
on any non-2xx for days, so mail that matches no account is acknowledged and dropped rather than
refused.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from email.parser import HeaderParser
from email.utils import parseaddr
from typing import Any, Literal

import structlog
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import col, select
from starlette.datastructures import FormData, UploadFile
from temporalio.client import Client

from crm.database import get_store
from crm.tables import ContactRow
from domain.addresses import normalize_email
from domain.input_checks import one_line
from domain.settings import Settings
from starter.http.api_responses import BODY_ERRORS, error, unavailable
from starter.http.dependencies import ReplyIndexDep, SettingsDep, TemporalDep
from starter.http.inbound_auth import require_inbound_credentials
from starter.http.journey_delivery import signal_running_journey
from starter.http.limits import TEMPORAL_RPC_TIMEOUT
from starter.http.openapi_docs import request_body
from starter.http.reply_tokens import ReplyTokenIndex, first_tokens
from starter.http.request_log import note_request
from starter.http.unsubscribe import find_subscriber, opt_out
from starter.http.validation_errors import field_error
from workflows.customer_event import CustomerEvent, CustomerEventType
from workflows.workflow_ids import journey_id

router = APIRouter(prefix="/v1/webhooks/sendgrid", tags=["webhooks"])
log = structlog.get_logger("csflow.api.inbound")

SNIPPET_CHARS = 2000
_TAG = re.compile(r"<[^>]+>")
# The subject of a List-Unsubscribe mailto (domain.unsubscribe), also under "Re:" and the like.
_UNSUBSCRIBE = re.compile(r"\bunsubscribe\s+([a-z2-7]{1,110}\.[a-z2-7]{24})\b", re.IGNORECASE)
# What free text in an event may not hold (domain.input_checks: tabs and line breaks only).
_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class InboundReceipt(BaseModel):
    status: Literal["delivered", "ignored"]
    reason: str | None = None
    account_id: str | None = None
    workflow_id: str | None = None


class InboundParseForm(BaseModel):
    """The multipart form Inbound Parse posts (the fields csflow reads; others are ignored)."""

    # Inbound Parse sends both; either names the recipients.
    model_config = ConfigDict(
        json_schema_extra={"anyOf": [{"required": ["to"]}, {"required": ["envelope"]}]}
    )

    to: str | None = Field(default=None, description="To header")
    envelope: str | None = Field(default=None, description='SMTP envelope, JSON: {"to": [...]}')
    cc: str | None = None
    from_: str | None = Field(default=None, alias="from", description="From header")
    subject: str | None = None
    text: str | None = Field(default=None, description="plain-text body")
    html: str | None = Field(default=None, description="HTML body, used without `text`")
    headers: str | None = Field(default=None, description="raw headers (Message-ID)")


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _snippet(text: str, html: str) -> str:
    body = text or _TAG.sub(" ", html)
    # Quoted history ("> ...") repeats our own email; the customer's words come first.
    lines = [line for line in body.splitlines() if not line.lstrip().startswith(">")]
    return _TEXT_CONTROL.sub(" ", "\n".join(lines)).strip()[:SNIPPET_CHARS]


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


def _match(index: ReplyTokenIndex, tokens: list[str], sender: str) -> tuple[str, str | None] | None:
    with get_store().session() as session:
        account_id = index.match(session, tokens)
        if account_id is None:
            return None
        contact = session.exec(
            select(ContactRow).where(
                col(ContactRow.account_id) == account_id,
                col(ContactRow.email) == normalize_email(sender),
            )
        ).first()
        return account_id, contact.id if contact else None


_RESPONSES = {
    **BODY_ERRORS,
    400: error("the body is not a multipart form that can be parsed"),
    401: error(
        "credentials missing or not accepted", WWW_Authenticate='Basic realm="csflow inbound"'
    ),
    503: unavailable(
        "Temporal or the CRM unreachable, or no inbound credential configured; Inbound Parse "
        "retries"
    ),
}
# Both inbound URLs (basic auth, or a secret path segment) take the same form, the same way.
_INBOUND_ROUTE: dict[str, Any] = {
    "response_model": InboundReceipt,
    "dependencies": [Depends(require_inbound_credentials)],
    "responses": _RESPONSES,
    "openapi_extra": request_body(
        "multipart/form-data", InboundParseForm, "the message, as Inbound Parse posts it"
    ),
}


@router.post("/inbound", summary="Inbound reply (basic auth)", **_INBOUND_ROUTE)
async def inbound_reply(
    request: Request, client: TemporalDep, index: ReplyIndexDep, settings: SettingsDep
) -> InboundReceipt:
    return await _receive(request, client, index, settings)


@router.post("/inbound/{secret}", summary="Inbound reply (secret path segment)", **_INBOUND_ROUTE)
async def inbound_reply_with_path_secret(
    request: Request, secret: str, client: TemporalDep, index: ReplyIndexDep, settings: SettingsDep
) -> InboundReceipt:
    return await _receive(request, client, index, settings)


async def _receive(
    request: Request, client: Client, index: ReplyTokenIndex | None, settings: Settings
) -> InboundReceipt:
    async with request.form(max_files=20, max_fields=50) as form:
        if any(isinstance(v, UploadFile) for k, v in form.multi_items() if k == "to"):
            raise field_error(("body", "to"), "must be a text field")
        to_field = _text(form, "to")
        if not to_field and not _text(form, "envelope"):
            raise field_error(("body", "to"), "Field required", kind="missing")
        sender = parseaddr(_text(form, "from"))[1]
        subject = one_line(_text(form, "subject"), 300)
        snippet = _snippet(_text(form, "text"), _text(form, "html"))
        event_id = _event_id(form)
        recipients = " ".join(
            [to_field, _text(form, "cc"), _envelope_recipients(_text(form, "envelope"))]
        )
    unsubscribe = _UNSUBSCRIBE.search(subject)
    if unsubscribe is not None:
        subscriber = await asyncio.to_thread(find_subscriber, unsubscribe.group(1), settings)
        if subscriber is not None:
            note_request(request, account_id=subscriber.account_id)
            # TemporalUnavailable: a 503, Inbound Parse posts again, the journey is told then.
            await opt_out(client, subscriber, via="by email")
            return InboundReceipt(
                status="delivered",
                reason="unsubscribed",
                account_id=subscriber.account_id,
                workflow_id=journey_id(subscriber.account_id),
            )
    if index is None:
        log.warning("inbound reply dropped: CSFLOW_REPLY_SECRET is not configured")
        return InboundReceipt(status="ignored", reason="reply matching is not configured")
    tokens = first_tokens(recipients)
    matched = await asyncio.to_thread(_match, index, tokens, sender) if tokens else None
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
    delivery = await signal_running_journey(client, event, timeout=TEMPORAL_RPC_TIMEOUT)
    if delivery is None:
        log.warning("reply for an account without a running journey", account_id=account_id)
        return InboundReceipt(
            status="ignored",
            reason="the account has no running journey",
            account_id=account_id,
            workflow_id=workflow_id,
        )
    return InboundReceipt(status="delivered", account_id=account_id, workflow_id=workflow_id)
