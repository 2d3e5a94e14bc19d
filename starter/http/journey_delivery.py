"""Delivering customer events to journeys with server-side deduplication.

The SDK's `signal()` / `start_workflow(start_signal=...)` pick a random request id per call; the
intake needs a request id derived from the event id, so that a re-delivered webhook or a client
retry is dropped by Temporal itself (SignalWorkflowExecution and SignalWithStart dedupe by
request id). Those two calls are therefore made on the raw WorkflowService with the client's own
data converter. The journey additionally ignores event ids it has seen.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import timedelta

from temporalio.api.common.v1 import Payloads, WorkflowExecution, WorkflowType
from temporalio.api.enums.v1 import WorkflowIdConflictPolicy
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import (
    SignalWithStartWorkflowExecutionRequest,
    SignalWorkflowExecutionRequest,
)
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy

from starter.http.temporal_errors import (
    TemporalUnavailable,
    answers,
    is_not_found,
    is_transport_failure,
    is_unavailable,
)
from workflows.customer_event import CustomerEvent, EventAck
from workflows.journey import CustomerJourneyWorkflow
from workflows.journey_state import JourneyInput
from workflows.workflow_ids import journey_id

SIGNAL_NAME = "customer_event"
UPDATE_NAME = "record_customer_event"
# Fixed namespace for uuid5: the same (workflow, event id) always yields the same request id.
_REQUEST_IDS = uuid.UUID("6f0b7a52-3c1e-4d8a-9a57-2f4e8c1d9b30")
_PROBE_TIMEOUT = timedelta(seconds=2)


class EventRejected(Exception):
    """The journey's update validator refused the event; the message says why."""


class EventNotProcessedInTime(Exception):
    """The journey accepted the event but had not processed it when the caller stopped waiting."""


@dataclass(frozen=True)
class Delivery:
    workflow_id: str
    # True when this call started the journey (signal-with-start only).
    started: bool = False


async def _timed_out(
    client: Client, workflow_id: str, error: BaseException, rpc_timeout: timedelta
) -> Exception:
    """A deadline passed: is Temporal down (503) or the journey still busy (504)? One probe."""
    probe = min(rpc_timeout, _PROBE_TIMEOUT)
    if is_transport_failure(error) or not await answers(client, probe):
        return TemporalUnavailable(f"Temporal did not answer in time: {error!r}"[:300])
    return EventNotProcessedInTime(workflow_id)


def request_id_for(workflow_id: str, event_id: str) -> str:
    return str(uuid.uuid5(_REQUEST_IDS, f"{workflow_id}\n{event_id}"))


def _require_event_id(event: CustomerEvent) -> str:
    if not event.event_id:
        raise ValueError("event_id is required for deduplicated delivery")
    return event.event_id


def _update_id(event: CustomerEvent) -> str:
    return f"event:{_require_event_id(event)}"


async def _acknowledgement(
    client: Client,
    workflow_id: str,
    update: Awaitable[EventAck],
    rpc_timeout: timedelta,
    wait_timeout: timedelta,
) -> EventAck:
    """Wait up to `wait_timeout` for the journey's answer to `update`: EventRejected when its
    validator refuses the event, _timed_out's error when a deadline passes, TemporalUnavailable
    for an outage; any other failure (NOT_FOUND: no running journey) is raised as it came."""
    try:
        return await asyncio.wait_for(update, timeout=wait_timeout.total_seconds())
    except WorkflowUpdateFailedError as exc:
        raise EventRejected(str(exc.cause or exc)) from exc
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError) as exc:
        raise await _timed_out(client, workflow_id, exc, rpc_timeout) from exc
    except Exception as exc:
        if is_unavailable(exc):
            raise TemporalUnavailable(str(exc)) from exc
        raise


async def signal_once(
    client: Client,
    workflow_id: str,
    signal_name: str,
    arg: object,
    *,
    dedupe_id: str,
    timeout: timedelta,
) -> bool:
    """Signal a running workflow, deduplicated by `dedupe_id`; False when it is not running."""
    request = SignalWorkflowExecutionRequest(
        namespace=client.namespace,
        workflow_execution=WorkflowExecution(workflow_id=workflow_id),
        signal_name=signal_name,
        identity=client.identity,
        request_id=request_id_for(workflow_id, dedupe_id),
    )
    try:
        request.input.CopyFrom(Payloads(payloads=await client.data_converter.encode([arg])))
        await client.workflow_service.signal_workflow_execution(
            request, retry=False, timeout=timeout
        )
    except Exception as exc:
        if is_not_found(exc):
            return False
        if is_unavailable(exc):
            raise TemporalUnavailable(str(exc)) from exc
        raise
    return True


async def signal_running_journey(
    client: Client, event: CustomerEvent, *, timeout: timedelta
) -> Delivery | None:
    """Signal the account's journey; None when it is not running (nothing is started)."""
    workflow_id = journey_id(event.account_id)
    delivered = await signal_once(
        client,
        workflow_id,
        SIGNAL_NAME,
        event,
        dedupe_id=_require_event_id(event),
        timeout=timeout,
    )
    return Delivery(workflow_id=workflow_id) if delivered else None


async def signal_with_start(
    client: Client,
    event: CustomerEvent,
    journey: JourneyInput,
    *,
    task_queue: str,
    timeout: timedelta,
) -> Delivery:
    """Deliver the event, starting the account's journey with `journey` if none is running."""
    if journey.account.id != event.account_id:
        raise ValueError("the journey input belongs to another account")
    workflow_id = journey_id(event.account_id)
    converter = client.data_converter
    request = SignalWithStartWorkflowExecutionRequest(
        namespace=client.namespace,
        workflow_id=workflow_id,
        workflow_type=WorkflowType(name=CustomerJourneyWorkflow.__name__),
        task_queue=TaskQueue(name=task_queue),
        identity=client.identity,
        request_id=request_id_for(workflow_id, _require_event_id(event)),
        workflow_id_conflict_policy=WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
        signal_name=SIGNAL_NAME,
    )
    try:
        request.input.CopyFrom(Payloads(payloads=await converter.encode([journey])))
        request.signal_input.CopyFrom(Payloads(payloads=await converter.encode([event])))
        response = await client.workflow_service.signal_with_start_workflow_execution(
            request, retry=False, timeout=timeout
        )
    except Exception as exc:
        if is_unavailable(exc):
            raise TemporalUnavailable(str(exc)) from exc
        raise
    return Delivery(workflow_id=workflow_id, started=response.started)


async def record_with_start(
    client: Client,
    event: CustomerEvent,
    journey: JourneyInput,
    *,
    task_queue: str,
    rpc_timeout: timedelta,
    wait_timeout: timedelta,
) -> EventAck:
    """Update-with-start: returns once the journey has processed the event.

    The update id is derived from the event id, so asking again after a timeout returns the
    same acknowledgement instead of processing the event twice.
    """
    workflow_id = journey_id(event.account_id)
    start = WithStartWorkflowOperation(
        CustomerJourneyWorkflow.run,
        journey,
        id=workflow_id,
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
    update = client.execute_update_with_start_workflow(
        UPDATE_NAME,
        event,
        start_workflow_operation=start,
        id=_update_id(event),
        result_type=EventAck,
        rpc_timeout=rpc_timeout,
    )
    return await _acknowledgement(client, workflow_id, update, rpc_timeout, wait_timeout)


async def record_on_running_journey(
    client: Client,
    event: CustomerEvent,
    *,
    rpc_timeout: timedelta,
    wait_timeout: timedelta,
) -> EventAck | None:
    """Update the running journey and wait for its acknowledgement; None if none is running."""
    workflow_id = journey_id(event.account_id)
    update = client.get_workflow_handle(workflow_id).execute_update(
        UPDATE_NAME, event, id=_update_id(event), result_type=EventAck, rpc_timeout=rpc_timeout
    )
    try:
        return await _acknowledgement(client, workflow_id, update, rpc_timeout, wait_timeout)
    except Exception as exc:
        if is_not_found(exc):
            return None
        raise
