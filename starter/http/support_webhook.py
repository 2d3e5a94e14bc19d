"""POST /v1/webhooks/support: ticket opened / updated / resolved from the support desk.

Signed with a shared secret over a timestamp and the raw body (support_signature,
`CSFLOW_SUPPORT_WEBHOOK_SECRET`); stale deliveries are refused by the timestamp, replays within
the window by the delivery id, remembered in the CRM together with the signal it caused (one
transaction: a delivery that fails with 503 is not remembered). Opened tickets become
`ticket_opened` events (the journey opens an escalation), updates count as the escalation's owed
status update, and resolutions become `ticket_resolved` events (the escalation closes and the
customer gets a CSAT survey).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

import structlog
from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError
from sqlalchemy.exc import IntegrityError
from temporalio.client import Client

from domain.input_checks import SaneDatetime, SingleLine, Text
from starter.http.api_responses import BODY_ERRORS, error, unavailable
from starter.http.crm_transaction import crm_transaction
from starter.http.dependencies import SettingsDep, TemporalDep
from starter.http.journey_delivery import signal_once, signal_running_journey
from starter.http.limits import SUPPORT_TIMESTAMP_TOLERANCE, TEMPORAL_RPC_TIMEOUT
from starter.http.openapi_docs import ONE_LINE, SANE_DATE, TEXT, request_body
from starter.http.request_keys import KeyConflict, claim, fingerprint
from starter.http.request_log import note_request
from starter.http.support_signature import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    verify_support_signature,
)
from starter.http.validation_errors import nested_errors
from starter.http.webhook_signatures import signature_checked, signature_errors
from workflows.customer_event import CustomerEvent, CustomerEventType, TicketSeverity
from workflows.escalation import EscalationAction, EscalationActionKind
from workflows.workflow_ids import journey_id

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])
log = structlog.get_logger("csflow.api.support")


class TicketAction(StrEnum):
    OPENED = "opened"
    UPDATED = "updated"
    RESOLVED = "resolved"


class SupportTicket(BaseModel):
    model_config = ConfigDict(extra="ignore")  # desks send far more than we use

    id: SingleLine = Field(min_length=1, max_length=64, json_schema_extra=ONE_LINE)
    subject: SingleLine = Field(min_length=1, max_length=300, json_schema_extra=ONE_LINE)
    severity: TicketSeverity = TicketSeverity.NORMAL


class SupportDelivery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    delivery_id: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,99}$",
        description="unique per webhook delivery; a re-delivery is processed once",
    )
    action: TicketAction
    account_id: SingleLine = Field(min_length=1, max_length=64, json_schema_extra=ONE_LINE)
    ticket: SupportTicket
    resolution: Text = Field(default="", max_length=2000, json_schema_extra=TEXT)
    note: Text = Field(default="", max_length=2000, json_schema_extra=TEXT)
    occurred_at: SaneDatetime | None = Field(default=None, json_schema_extra=SANE_DATE)


class SupportReceipt(BaseModel):
    status: Literal["delivered", "ignored", "duplicate"] = Field(
        description="duplicate: this delivery id was processed already; nothing was done again"
    )
    reason: str | None = None
    workflow_id: str | None = None


def escalation_id_for_ticket(account_id: str, ticket_id: str) -> str:
    # Must match the id the journey gives ticket escalations (workflows/journey.py).
    return f"escalation-{account_id}-ticket-{ticket_id}"


def _verify(request: Request, body: bytes, secret: SecretStr | None) -> None:
    if secret is None:
        raise HTTPException(403, "CSFLOW_SUPPORT_WEBHOOK_SECRET is not configured")
    with signature_checked(log, "support"):
        verify_support_signature(
            body, request.headers, secret.get_secret_value(), SUPPORT_TIMESTAMP_TOLERANCE
        )


@router.post(
    "/support",
    response_model=SupportReceipt,
    responses={
        **BODY_ERRORS,
        **signature_errors(SIGNATURE_HEADER, TIMESTAMP_HEADER),
        409: error("delivery_id was used before for a different delivery"),
        503: unavailable("Temporal or the CRM unreachable; re-deliver later"),
    },
    openapi_extra=request_body(
        "application/json",
        SupportDelivery,
        "a ticket event from the support desk, signed with X-Signature and X-Signature-Timestamp",
    ),
)
async def support_webhook(
    request: Request, settings: SettingsDep, client: TemporalDep
) -> SupportReceipt:
    body = await request.body()
    _verify(request, body, settings.support_webhook_secret)
    try:
        delivery = SupportDelivery.model_validate_json(body)
    except ValidationError as exc:
        raise nested_errors(("body",), exc) from None
    note_request(request, account_id=delivery.account_id)
    try:
        try:
            return await _once(request, client, delivery)
        except IntegrityError:
            # A concurrent copy recorded the delivery id first: look at what it recorded.
            return await _once(request, client, delivery)
    except KeyConflict:
        raise HTTPException(
            409, f"delivery_id {delivery.delivery_id!r} was used for a different delivery"
        ) from None


async def _once(request: Request, client: Client, delivery: SupportDelivery) -> SupportReceipt:
    """Deliver unless the delivery id was seen; remember it in the same transaction, so a
    delivery failing with 503 stays retryable."""
    key = f"support:{delivery.delivery_id}"
    digest = fingerprint(delivery.model_dump(mode="json"))
    # A delivery signed at t verifies from t - tolerance to t + tolerance.
    ttl = 2 * SUPPORT_TIMESTAMP_TOLERANCE
    async with crm_transaction() as tx:
        if not await tx.run(lambda session: claim(session, key, digest, ttl)):
            return SupportReceipt(
                status="duplicate",
                reason=f"delivery {delivery.delivery_id} was processed already",
            )
        return await _deliver(request, client, delivery)


async def _deliver(request: Request, client: Client, delivery: SupportDelivery) -> SupportReceipt:
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
            timeout=TEMPORAL_RPC_TIMEOUT,
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
    delivered = await signal_running_journey(client, event, timeout=TEMPORAL_RPC_TIMEOUT)
    if delivered is None:
        log.warning("support ticket for an account without a running journey")
        return SupportReceipt(status="ignored", reason="the account has no running journey")
    return SupportReceipt(status="delivered", workflow_id=workflow_id)
