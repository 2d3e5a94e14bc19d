"""POST /v1/events: customer events from backend systems (billing, product analytics, CRM).

Delivered by signal-with-start, so an event for an account with no running journey starts one,
or by update-with-start with `?wait=true` to get the journey's acknowledgement. The event id is
the idempotency key: posting the same event twice reaches the journey once.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from temporalio.client import Client

from domain.models import AccountUpsert
from starter.http.account_journeys import journey_input, known_account
from starter.http.bearer_auth import require_api_token
from starter.http.journey_delivery import (
    EventNotProcessedInTime,
    EventRejected,
    record_on_running_journey,
    record_with_start,
    signal_running_journey,
    signal_with_start,
)
from starter.http.request_log import note_request
from starter.http.settings import ApiSettings
from starter.http.validation_errors import field_error, nested_errors
from workflows.customer_event import (
    PAYLOAD_MODELS,
    CustomerEvent,
    CustomerEventType,
    EventAck,
)
from workflows.journey import journey_id
from workflows.journey_state import JourneyInput

router = APIRouter(prefix="/v1", tags=["customer events"])

# Ids travel into Temporal request ids, logs and dedupe lists: keep them plain.
EVENT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@/+\-]{0,127}$"


class EventIntake(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event_id: str = Field(
        pattern=EVENT_ID_PATTERN,
        description="the sender's unique id for this event; re-posting it is harmless",
    )
    account_id: str = Field(min_length=1, max_length=64)
    type: CustomerEventType
    payload: dict[str, Any] = Field(default_factory=dict)
    occurred_at: datetime | None = None
    account: AccountUpsert | None = Field(
        default=None,
        description="the account, needed only to start a journey for an account csflow does "
        "not know yet",
    )
    team: dict[str, str] = Field(
        default_factory=dict, description="escalation chain emails by role (e.g. cs_manager)"
    )


class EventAccepted(BaseModel):
    status: str = "accepted"
    event_id: str
    account_id: str
    workflow_id: str
    started: bool = Field(description="true when this event started the journey")


class EventProcessed(BaseModel):
    status: str = "processed"
    event_id: str
    account_id: str
    workflow_id: str
    ack: EventAck


def _check(intake: EventIntake) -> CustomerEvent:
    try:
        PAYLOAD_MODELS[intake.type].model_validate(intake.payload)
    except ValidationError as exc:
        raise nested_errors(("body", "payload"), exc) from None
    if intake.account is not None and intake.account.id != intake.account_id:
        raise field_error(
            ("body", "account", "id"),
            f"account.id {intake.account.id!r} does not match account_id {intake.account_id!r}",
        )
    return CustomerEvent(
        account_id=intake.account_id,
        type=intake.type.value,
        payload=intake.payload,
        event_id=intake.event_id,
        occurred_at=intake.occurred_at,
    )


async def _start_input(intake: EventIntake) -> JourneyInput | None:
    if intake.account is not None:
        return journey_input(intake.account, intake.team)
    known = await asyncio.to_thread(known_account, intake.account_id)
    return journey_input(known, intake.team) if known is not None else None


def _unknown_account(account_id: str) -> Exception:
    return field_error(
        ("body", "account"),
        f"account {account_id!r} has no running journey and is not in the CRM: include "
        "`account` to start its journey",
        kind="missing",
    )


@router.post(
    "/events",
    status_code=202,
    response_model=EventAccepted | EventProcessed,
    dependencies=[Depends(require_api_token)],
    responses={
        200: {"model": EventProcessed, "description": "processed (with ?wait=true)"},
        401: {"description": "missing or malformed bearer token"},
        403: {"description": "token not accepted"},
        409: {"description": "the journey refused the event"},
        503: {"description": "Temporal unreachable; retry after Retry-After seconds"},
        504: {"description": "not processed in time; re-post the same event_id to collect"},
    },
)
async def post_event(
    intake: EventIntake,
    request: Request,
    response: Response,
    wait: bool = Query(False, description="wait until the journey has processed the event"),
) -> EventAccepted | EventProcessed:
    settings: ApiSettings = request.app.state.settings
    client: Client = request.app.state.temporal
    workflow_id = journey_id(intake.account_id)
    note_request(request, account_id=intake.account_id, workflow_id=workflow_id)
    event = _check(intake)
    start = await _start_input(intake)
    try:
        if wait:
            if start is not None:
                ack = await record_with_start(
                    client,
                    event,
                    start,
                    task_queue=settings.task_queue,
                    rpc_timeout=settings.temporal_rpc_timeout,
                    wait_timeout=settings.event_wait_timeout,
                )
            else:
                found = await record_on_running_journey(
                    client,
                    event,
                    rpc_timeout=settings.temporal_rpc_timeout,
                    wait_timeout=settings.event_wait_timeout,
                )
                if found is None:
                    raise _unknown_account(intake.account_id)
                ack = found
            response.status_code = 200
            return EventProcessed(
                event_id=intake.event_id,
                account_id=intake.account_id,
                workflow_id=workflow_id,
                ack=ack,
            )
        if start is not None:
            delivery = await signal_with_start(
                client,
                event,
                start,
                task_queue=settings.task_queue,
                timeout=settings.temporal_rpc_timeout,
            )
        else:
            signalled = await signal_running_journey(
                client, event, timeout=settings.temporal_rpc_timeout
            )
            if signalled is None:
                raise _unknown_account(intake.account_id)
            delivery = signalled
    except EventRejected as exc:
        raise HTTPException(409, f"the journey refused the event: {exc}") from exc
    except EventNotProcessedInTime as exc:
        raise HTTPException(
            504,
            "the journey accepted the event but has not processed it yet; re-post the same "
            "event_id to collect the acknowledgement",
        ) from exc
    return EventAccepted(
        event_id=intake.event_id,
        account_id=intake.account_id,
        workflow_id=delivery.workflow_id,
        started=delivery.started,
    )
