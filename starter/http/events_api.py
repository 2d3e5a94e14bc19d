"""POST /v1/events: customer events from backend systems (billing, product analytics, CRM).

Delivered by signal-with-start, so an event for an account with no running journey starts one,
or by update-with-start with `?wait=true` to get the journey's acknowledgement. The event id is
the idempotency key: posting the same event twice reaches the journey once, and a different
event under a used id is refused with 409 (request_keys) rather than dropped in silence.
"""

from __future__ import annotations

import asyncio

import structlog
from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from pydantic import ValidationError
from temporalio.client import Client

from starter.http.account_journeys import journey_input, known_account
from starter.http.api_responses import BODY_ERRORS, error
from starter.http.bearer_auth import require_api_token
from starter.http.dependencies import SettingsDep, TemporalDep
from starter.http.event_models import (
    DOCUMENTED_EVENT,
    EventAccepted,
    EventIntake,
    EventProcessed,
)
from starter.http.journey_delivery import (
    EventNotProcessedInTime,
    EventRejected,
    record_on_running_journey,
    record_with_start,
    signal_running_journey,
    signal_with_start,
)
from starter.http.json_bounds import check_json_bounds
from starter.http.limits import EVENT_KEY_RETENTION, EVENT_WAIT_TIMEOUT, TEMPORAL_RPC_TIMEOUT
from starter.http.openapi_docs import request_body
from starter.http.request_keys import KeyConflict, claim_key, fingerprint, release_key
from starter.http.request_log import note_request
from starter.http.validation_errors import field_error, nested_errors
from workflows.customer_event import PAYLOAD_MODELS, CustomerEvent
from workflows.journey_state import JourneyInput
from workflows.workflow_ids import journey_id

router = APIRouter(prefix="/v1", tags=["customer events"])
log = structlog.get_logger("csflow.api.events")


def _check(intake: EventIntake) -> tuple[CustomerEvent, str]:
    """The event to deliver and the fingerprint of what it says."""
    check_json_bounds(intake.model_dump(), ("body",))
    try:
        typed = PAYLOAD_MODELS[intake.type].model_validate(intake.payload)
    except ValidationError as exc:
        raise nested_errors(("body", "payload"), exc) from None
    if intake.account is not None and intake.account.id != intake.account_id:
        raise field_error(
            ("body", "account", "id"),
            f"account.id {intake.account.id!r} does not match account_id {intake.account_id!r}",
        )
    event = CustomerEvent(
        account_id=intake.account_id,
        type=intake.type.value,
        payload=intake.payload,
        event_id=intake.event_id,
        occurred_at=intake.occurred_at,
    )
    # The typed payload, so defaults spelled out or left out make no difference.
    digest = fingerprint(
        {
            "type": intake.type.value,
            "payload": typed.model_dump(mode="json"),
            "occurred_at": intake.occurred_at.isoformat() if intake.occurred_at else None,
        }
    )
    return event, digest


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
        **BODY_ERRORS,
        400: error("the body is not JSON FastAPI can read (not UTF-8, or nested too deeply)"),
        200: {"model": EventProcessed, "description": "processed (with ?wait=true)"},
        202: {"model": EventAccepted, "description": "accepted: the journey has the event"},
        401: error("missing or malformed bearer token", WWW_Authenticate='Bearer realm="csflow"'),
        403: error("token not accepted"),
        409: error("event_id already used for a different event, or the journey refused the event"),
        504: error("accepted but not processed in time; re-post the same event_id to collect"),
    },
    openapi_extra=request_body(
        "application/json",
        DOCUMENTED_EVENT,
        "the event; `payload` follows the schema of its `type`",
    ),
)
async def post_event(
    intake: EventIntake,
    request: Request,
    response: Response,
    settings: SettingsDep,
    client: TemporalDep,
    wait: bool = Query(False, description="wait until the journey has processed the event"),
) -> EventAccepted | EventProcessed:
    note_request(request, account_id=intake.account_id, workflow_id=journey_id(intake.account_id))
    event, digest = _check(intake)
    start = await _start_input(intake)
    key = f"event:{intake.account_id}:{intake.event_id}"
    try:
        claimed = await claim_key(key, digest, EVENT_KEY_RETENTION)
    except KeyConflict:
        raise HTTPException(
            409,
            f"event_id {intake.event_id!r} was used before for a different event of account "
            f"{intake.account_id!r}; give this event an id of its own",
        ) from None
    try:
        result = await _deliver(client, settings.task_queue, intake, event, start, wait)
    except EventNotProcessedInTime as exc:
        # The journey has the event: the key stays, so re-posting it collects the ack.
        raise HTTPException(
            504,
            "the journey accepted the event but has not processed it yet; re-post the same "
            "event_id to collect the acknowledgement",
        ) from exc
    except Exception:
        # Not delivered (503, 409 refused, 422 unknown account): the id is free to use again.
        if claimed:
            await _forget(key)
        raise
    if isinstance(result, EventProcessed):
        response.status_code = 200
    return result


async def _forget(key: str) -> None:
    try:
        await release_key(key)
    except Exception as exc:  # the request's own failure is what the caller needs to see
        log.warning("event key not released", key=key, error=str(exc)[:200])


async def _deliver(
    client: Client,
    task_queue: str,
    intake: EventIntake,
    event: CustomerEvent,
    start: JourneyInput | None,
    wait: bool,
) -> EventAccepted | EventProcessed:
    try:
        if wait:
            if start is not None:
                ack = await record_with_start(
                    client,
                    event,
                    start,
                    task_queue=task_queue,
                    rpc_timeout=TEMPORAL_RPC_TIMEOUT,
                    wait_timeout=EVENT_WAIT_TIMEOUT,
                )
            else:
                found = await record_on_running_journey(
                    client,
                    event,
                    rpc_timeout=TEMPORAL_RPC_TIMEOUT,
                    wait_timeout=EVENT_WAIT_TIMEOUT,
                )
                if found is None:
                    raise _unknown_account(intake.account_id)
                ack = found
            return EventProcessed(
                event_id=intake.event_id,
                account_id=intake.account_id,
                workflow_id=journey_id(intake.account_id),
                ack=ack,
            )
        if start is not None:
            delivery = await signal_with_start(
                client,
                event,
                start,
                task_queue=task_queue,
                timeout=TEMPORAL_RPC_TIMEOUT,
            )
        else:
            signalled = await signal_running_journey(client, event, timeout=TEMPORAL_RPC_TIMEOUT)
            if signalled is None:
                raise _unknown_account(intake.account_id)
            delivery = signalled
    except EventRejected as exc:
        raise HTTPException(409, f"the journey refused the event: {exc}") from exc
    return EventAccepted(
        event_id=intake.event_id,
        account_id=intake.account_id,
        workflow_id=delivery.workflow_id,
        started=delivery.started,
    )
