"""Typed client API: start journeys, send customer events, read status, list journeys."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy

from workflows import search_attributes as sa
from workflows.customer_event import CustomerEvent, EventAck
from workflows.escalation import EscalationAction, EscalationWorkflow
from workflows.journey import CustomerJourneyWorkflow, journey_id
from workflows.journey_state import JourneyInput, JourneyStatus

DEFAULT_TASK_QUEUE = "csflow"


class JourneyListing(BaseModel):
    workflow_id: str
    account_id: str | None
    stage: str | None
    csm_owner: str | None
    segment: str | None
    health_score: int | None
    renewal_date: datetime | None
    status: str


async def start_journey(
    client: Client,
    input: JourneyInput,
    first_event: CustomerEvent,
    *,
    task_queue: str = DEFAULT_TASK_QUEUE,
) -> WorkflowHandle[CustomerJourneyWorkflow, JourneyStatus]:
    """Signal-with-start: starts `journey-<id>` unless it runs already, then delivers the event."""
    if first_event.account_id != input.account.id:
        raise ValueError("the first event belongs to another account")
    return await client.start_workflow(
        CustomerJourneyWorkflow.run,
        input,
        id=journey_id(input.account.id),
        task_queue=task_queue,
        start_signal="customer_event",
        start_signal_args=[first_event],
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )


async def send_event(client: Client, event: CustomerEvent) -> EventAck:
    """Deliver an event and wait until the journey processed it (unknown types are rejected)."""
    handle = client.get_workflow_handle_for(
        CustomerJourneyWorkflow.run, journey_id(event.account_id)
    )
    # By name: the typed form trips mypy on update methods that carry a validator.
    return await handle.execute_update("record_customer_event", event, result_type=EventAck)


async def journey_status(client: Client, account_id: str) -> JourneyStatus:
    handle = client.get_workflow_handle_for(CustomerJourneyWorkflow.run, journey_id(account_id))
    return await handle.query(CustomerJourneyWorkflow.status)


async def escalation_action(client: Client, escalation_id: str, action: EscalationAction) -> None:
    """Acknowledge, update or resolve an escalation (support-side actions)."""
    handle = client.get_workflow_handle_for(EscalationWorkflow.run, escalation_id)
    await handle.signal(EscalationWorkflow.action, action)


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def visibility_query(
    stage: str | None = None, csm: str | None = None, segment: str | None = None
) -> str:
    clauses = ["WorkflowType = 'CustomerJourneyWorkflow'"]
    for key, value in ((sa.LIFECYCLE_STAGE, stage), (sa.CSM_OWNER, csm), (sa.SEGMENT, segment)):
        if value is not None:
            clauses.append(f"{key.name} = {_quote(value)}")
    return " AND ".join(clauses)


async def list_journeys(
    client: Client, stage: str | None = None, csm: str | None = None, segment: str | None = None
) -> list[JourneyListing]:
    listings = []
    async for execution in client.list_workflows(visibility_query(stage, csm, segment)):
        attrs = execution.typed_search_attributes
        listings.append(
            JourneyListing(
                workflow_id=execution.id,
                account_id=attrs.get(sa.CUSTOMER_ID),
                stage=attrs.get(sa.LIFECYCLE_STAGE),
                csm_owner=attrs.get(sa.CSM_OWNER),
                segment=attrs.get(sa.SEGMENT),
                health_score=attrs.get(sa.HEALTH_SCORE),
                renewal_date=attrs.get(sa.RENEWAL_DATE),
                status=execution.status.name if execution.status else "UNKNOWN",
            )
        )
    return listings
