"""POST /v1/webhooks/sendgrid/events: SendGrid's Event Webhook.

Every csflow email carries `custom_args` (account_id, workflow_id, step, idempotency_key), which
SendGrid copies onto each event: that is how an event finds its account, workflow and step.
Hard bounces and drops suppress the contact and tell the journey (`email_bounced`);
unsubscribes and spam reports opt the contact out and update the journey (`contact_changed`);
opens and clicks go on the account timeline. SendGrid retries a batch on any non-2xx, so a 503
is safe: everything already delivered is deduplicated by `sg_event_id`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Any

import structlog
from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from sqlmodel import Session
from temporalio.client import Client

from crm.database import get_store
from crm.tables import AccountRow
from crm.timeline import record_touchpoint
from domain.models import TouchpointKind
from starter.http.api_responses import BODY_ERRORS, unavailable
from starter.http.contact_suppression import find_contact, suppress
from starter.http.crm_transaction import crm_transaction
from starter.http.dependencies import SettingsDep, TemporalDep
from starter.http.journey_delivery import signal_running_journey
from starter.http.json_bounds import MAX_SAFE_INTEGER, check_json_bounds
from starter.http.limits import SENDGRID_TIMESTAMP_TOLERANCE, TEMPORAL_RPC_TIMEOUT
from starter.http.openapi_docs import request_body
from starter.http.request_log import note_request
from starter.http.sendgrid_signature import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    verify_sendgrid_signature,
)
from starter.http.validation_errors import field_error, nested_errors
from starter.http.webhook_signatures import signature_checked, signature_errors
from workflows.customer_event import CustomerEvent, CustomerEventType
from workflows.workflow_ids import journey_id

router = APIRouter(prefix="/v1/webhooks/sendgrid", tags=["webhooks"])
log = structlog.get_logger("csflow.api.sendgrid")

MAX_EVENTS_PER_BATCH = 1000
_OPT_OUTS = {"unsubscribe", "group_unsubscribe", "spamreport"}
_ENGAGEMENT = {"open", "click"}


class SendGridEvent(BaseModel):
    """One event of SendGrid's Event Webhook (fields csflow reads; others are kept as sent)."""

    # Extra keys allowed: SendGrid adds fields over time, and custom_args arrive top-level.
    model_config = ConfigDict(extra="allow")

    email: str = Field(min_length=3, max_length=254)
    event: str = Field(min_length=1, max_length=40)
    timestamp: int = Field(ge=0, le=MAX_SAFE_INTEGER)
    sg_event_id: str | None = Field(default=None, max_length=200)
    sg_message_id: str | None = None
    reason: str | None = None
    type: str | None = None  # bounce classification: "bounce" (hard) or "blocked" (soft)
    url: str | None = None
    account_id: str | None = Field(default=None, max_length=64)
    workflow_id: str | None = None
    step: str | None = None
    idempotency_key: str | None = None

    def dedupe_id(self) -> str:
        if self.sg_event_id:
            return f"sendgrid:{self.sg_event_id}"
        # Older payloads lack sg_event_id: the event's own content identifies it.
        digest = hashlib.sha256(self.model_dump_json().encode()).hexdigest()[:32]
        return f"sendgrid:{digest}"


_BATCH = TypeAdapter(list[SendGridEvent])


class EventsReceipt(BaseModel):
    received: int
    delivered: int = Field(default=0, description="events signalled to a journey")
    recorded: int = Field(default=0, description="events written to the CRM only")
    ignored: int = Field(default=0, description="events not about a csflow email, or informational")


def _parse(body: bytes) -> list[SendGridEvent]:
    try:
        raw: Any = json.loads(body)
    except ValueError as exc:
        raise field_error(("body",), f"invalid JSON: {exc}", kind="json_invalid") from None
    except RecursionError:
        raise field_error(("body",), "JSON nested too deeply", kind="json_invalid") from None
    if not isinstance(raw, list) or len(raw) > MAX_EVENTS_PER_BATCH:
        raise field_error(
            ("body",), f"expected a JSON array of at most {MAX_EVENTS_PER_BATCH} events"
        )
    check_json_bounds(raw)
    try:
        return _BATCH.validate_python(raw)
    except ValidationError as exc:
        raise nested_errors(("body",), exc) from None


@router.post(
    "/events",
    response_model=EventsReceipt,
    responses={
        **BODY_ERRORS,
        **signature_errors(SIGNATURE_HEADER, TIMESTAMP_HEADER),
        503: unavailable("Temporal or the CRM unreachable; SendGrid retries the batch"),
    },
    openapi_extra=request_body(
        "application/json",
        list[SendGridEvent],
        "a batch of SendGrid events, signed: ECDSA P-256 over the timestamp header and the "
        "raw body",
    ),
)
async def sendgrid_events(
    request: Request, settings: SettingsDep, client: TemporalDep
) -> EventsReceipt:
    body = await request.body()
    with signature_checked(log, "sendgrid"):
        verify_sendgrid_signature(
            body,
            request.headers,
            settings.sendgrid_webhook_public_key,
            SENDGRID_TIMESTAMP_TOLERANCE,
        )

    events = _parse(body)
    receipt = EventsReceipt(received=len(events))
    accounts = {e.account_id for e in events if e.account_id}
    if len(accounts) == 1:
        note_request(request, account_id=next(iter(accounts)))
    for event in events:
        outcome = await _handle(client, event)
        if outcome == "delivered":
            receipt.delivered += 1
        elif outcome == "recorded":
            receipt.recorded += 1
        else:
            receipt.ignored += 1
    return receipt


async def _handle(client: Client, event: SendGridEvent) -> str:
    bound = log.bind(
        sendgrid_event=event.event,
        account_id=event.account_id,
        workflow_id=event.workflow_id,
        step=event.step,
        sg_event_id=event.sg_event_id,
    )
    if not event.account_id:
        bound.info("sendgrid event without csflow custom_args ignored")
        return "ignored"
    hard_bounce = event.event == "bounce" and event.type != "blocked"
    if hard_bounce or event.event == "dropped":
        return await _suppress_and_signal(client, event, CustomerEventType.EMAIL_BOUNCED)
    if event.event in _OPT_OUTS:
        return await _suppress_and_signal(client, event, CustomerEventType.CONTACT_CHANGED)
    if event.event in _ENGAGEMENT:
        await asyncio.to_thread(_record_engagement, event)
        bound.info("sendgrid engagement recorded")
        return "recorded"
    bound.info("sendgrid event acknowledged")  # delivered, processed, deferred, blocked
    return "ignored"


def _describe(event: SendGridEvent) -> str:
    what = {"dropped": "dropped by SendGrid", "spamreport": "marked as spam"}.get(
        event.event, event.event.replace("_", " ")
    )
    where = f" (step {event.step} of {event.workflow_id})" if event.step else ""
    reason = f": {event.reason}" if event.reason else ""
    return f"{what}{reason}{where}"[:500]


async def _suppress_and_signal(
    client: Client, event: SendGridEvent, kind: CustomerEventType
) -> str:
    assert event.account_id is not None
    why = _describe(event)
    async with crm_transaction() as tx:

        def mark(session: Session) -> dict[str, Any] | None:
            assert event.account_id is not None
            contact = find_contact(session, event.account_id, event.email, event.idempotency_key)
            if contact is None:
                return None
            updated = suppress(
                session,
                contact,
                why=why,
                idempotency_key=event.dedupe_id(),
                workflow_id=event.workflow_id,
                step=event.step,
            )
            return {"contact_id": contact.id, "contact": updated.model_dump(mode="json")}

        marked = await tx.run(mark)
        if kind == CustomerEventType.EMAIL_BOUNCED:
            payload: dict[str, Any] = {"email": event.email, "reason": why}
            if marked is not None:
                payload["contact_id"] = marked["contact_id"]
        elif marked is not None:
            payload = {"contact": marked["contact"]}
        else:
            log.info("opt-out for an address that is not a contact", account_id=event.account_id)
            return "ignored"
        customer_event = CustomerEvent(
            account_id=event.account_id,
            type=kind.value,
            payload=payload,
            event_id=event.dedupe_id(),
        )
        # Raises TemporalUnavailable: the opt-out rolls back and SendGrid retries the batch.
        delivery = await signal_running_journey(
            client, customer_event, timeout=TEMPORAL_RPC_TIMEOUT
        )
    if delivery is None:
        log.warning(
            "no running journey for a sendgrid event; CRM updated only",
            account_id=event.account_id,
            workflow_id=journey_id(event.account_id),
        )
        return "recorded"
    return "delivered"


def _record_engagement(event: SendGridEvent) -> None:
    assert event.account_id is not None
    with get_store().session() as session:
        contact = find_contact(session, event.account_id, event.email, event.idempotency_key)
        if contact is None and not _account_exists(session, event.account_id):
            return
        verb = "opened" if event.event == "open" else "clicked a link in"
        record_touchpoint(
            session,
            account_id=event.account_id,
            kind=TouchpointKind.NOTE,
            summary=f"{event.email} {verb} an email"
            + (f" (step {event.step})" if event.step else ""),
            idempotency_key=event.dedupe_id(),
            workflow_id=event.workflow_id,
            step=event.step,
            details={"event": event.event, "url": event.url, "contact_id": contact and contact.id},
        )


def _account_exists(session: Session, account_id: str) -> bool:
    return session.get(AccountRow, account_id) is not None
