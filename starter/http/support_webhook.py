"""POST /v1/webhooks/support: ticket opened / updated / resolved from the support desk.

Signed with a shared secret: `X-Signature: sha256=<hex HMAC-SHA256 of the raw body>`
(`CSFLOW_SUPPORT_WEBHOOK_SECRET`). Opened tickets become `ticket_opened` events (the journey
opens an escalation), updates count as the escalation's owed status update, and resolutions
become `ticket_resolved` events (the escalation closes and the customer gets a CSAT survey).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime
from enum import StrEnum

import structlog
from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from starter.http.journey_delivery import signal_once, signal_running_journey
from starter.http.request_log import note_request
from starter.http.settings import ApiSettings
from starter.http.validation_errors import nested_errors
from workflows.customer_event import CustomerEvent, CustomerEventType, TicketSeverity
from workflows.escalation import EscalationAction, EscalationActionKind
from workflows.journey import journey_id

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])
log = structlog.get_logger("csflow.api.support")

SIGNATURE_HEADER = "X-Signature"
_SIGNATURE = re.compile(r"^sha256=([0-9a-fA-F]{64})$")


class TicketAction(StrEnum):
    OPENED = "opened"
    UPDATED = "updated"
    RESOLVED = "resolved"


class SupportTicket(BaseModel):
    model_config = ConfigDict(extra="ignore")  # desks send far more than we use

    id: str = Field(min_length=1, max_length=64)
    subject: str = Field(min_length=1, max_length=300)
    severity: TicketSeverity = TicketSeverity.NORMAL


class SupportDelivery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    delivery_id: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,99}$",
        description="unique per webhook delivery; a re-delivery is processed once",
    )
    action: TicketAction
    account_id: str = Field(min_length=1, max_length=64)
    ticket: SupportTicket
    resolution: str = Field(default="", max_length=2000)
    note: str = Field(default="", max_length=2000)
    occurred_at: datetime | None = None


class SupportReceipt(BaseModel):
    status: str  # "delivered" or "ignored"
    reason: str | None = None
    workflow_id: str | None = None


def escalation_id_for_ticket(account_id: str, ticket_id: str) -> str:
    # Must match the id the journey gives ticket escalations (workflows/journey.py).
    return f"escalation-{account_id}-ticket-{ticket_id}"


def verify_support_signature(body: bytes, header: str | None, secret: str | None) -> None:
    if secret is None:
        raise HTTPException(403, "CSFLOW_SUPPORT_WEBHOOK_SECRET is not configured")
    if not header:
        raise HTTPException(401, f"missing {SIGNATURE_HEADER}: sha256=<hex>")
    match = _SIGNATURE.match(header.strip())
    if match is None:
        raise HTTPException(403, f"malformed {SIGNATURE_HEADER}; expected sha256=<64 hex>")
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, match.group(1).lower()):
        raise HTTPException(403, "signature does not match the body")


@router.post(
    "/support",
    response_model=SupportReceipt,
    responses={
        401: {"description": "signature header missing"},
        403: {"description": "signature invalid; nothing was processed"},
        503: {"description": "Temporal unreachable; re-deliver later"},
    },
)
async def support_webhook(request: Request) -> SupportReceipt:
    settings: ApiSettings = request.app.state.settings
    body = await request.body()
    secret = settings.support_webhook_secret
    verify_support_signature(
        body, request.headers.get(SIGNATURE_HEADER), secret.get_secret_value() if secret else None
    )
    try:
        delivery = SupportDelivery.model_validate_json(body)
    except ValidationError as exc:
        raise nested_errors(("body",), exc) from None
    note_request(request, account_id=delivery.account_id)
    client = request.app.state.temporal

    if delivery.action == TicketAction.UPDATED:
        escalation_id = escalation_id_for_ticket(delivery.account_id, delivery.ticket.id)
        note_request(request, workflow_id=escalation_id)
        action = EscalationAction(
            kind=EscalationActionKind.UPDATED, by="support", note=delivery.note[:500]
        )
        signalled = await signal_once(
            client,
            escalation_id,
            "action",
            action,
            dedupe_id=f"support:{delivery.delivery_id}",
            timeout=settings.temporal_rpc_timeout,
        )
        if not signalled:
            return SupportReceipt(status="ignored", reason="no open escalation for this ticket")
        return SupportReceipt(status="delivered", workflow_id=escalation_id)

    if delivery.action == TicketAction.OPENED:
        kind = CustomerEventType.TICKET_OPENED
        payload: dict[str, str] = {
            "ticket_id": delivery.ticket.id,
            "subject": delivery.ticket.subject,
            "severity": delivery.ticket.severity.value,
        }
    else:
        kind = CustomerEventType.TICKET_RESOLVED
        payload = {"ticket_id": delivery.ticket.id, "resolution": delivery.resolution}
    event = CustomerEvent(
        account_id=delivery.account_id,
        type=kind.value,
        payload=payload,
        event_id=f"support:{delivery.delivery_id}",
        occurred_at=delivery.occurred_at,
    )
    workflow_id = journey_id(delivery.account_id)
    note_request(request, workflow_id=workflow_id)
    delivered = await signal_running_journey(client, event, timeout=settings.temporal_rpc_timeout)
    if delivered is None:
        log.warning("support ticket for an account without a running journey")
        return SupportReceipt(status="ignored", reason="the account has no running journey")
    return SupportReceipt(status="delivered", workflow_id=workflow_id)
