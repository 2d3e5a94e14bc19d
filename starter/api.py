"""Typed client API: start journeys, send customer events, read status, list journeys."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, Field
from temporalio.api.failure.v1 import Failure
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleHandle,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowHistoryEventFilterType,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import FailureError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from workflows import search_attributes as sa
from workflows.campaign import (
    CampaignInput,
    CampaignResult,
    CampaignWorkflow,
    campaign_workflow_id,
)
from workflows.customer_event import CustomerEvent, EventAck
from workflows.escalation import EscalationAction, EscalationWorkflow
from workflows.journey import CustomerJourneyWorkflow
from workflows.journey_state import JourneyInput, JourneyStatus
from workflows.nightly_health import NightlyHealthInput, NightlyHealthWorkflow
from workflows.workflow_ids import journey_id

JOURNEY_PREFIX = journey_id("")

NIGHTLY_HEALTH_SCHEDULE_ID = "csflow-nightly-health"


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
    task_queue: str,
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
        # What the Web UI shows for the run; the journey sets its search attributes itself.
        static_summary=f"{input.account.name}: customer journey",
    )


async def send_event(client: Client, event: CustomerEvent) -> EventAck:
    """Deliver an event and wait until the journey processed it (unknown types are rejected)."""
    handle = client.get_workflow_handle_for(
        CustomerJourneyWorkflow.run, journey_id(event.account_id)
    )
    # By name: the typed form trips mypy on update methods that carry a validator.
    return await handle.execute_update("record_customer_event", event, result_type=EventAck)


async def journey_status(
    client: Client, account_id: str, *, rpc_timeout: timedelta | None = None
) -> JourneyStatus:
    """The journey's status (a query: the worker answers it from the journey's state)."""
    handle = client.get_workflow_handle_for(CustomerJourneyWorkflow.run, journey_id(account_id))
    return await handle.query(CustomerJourneyWorkflow.status, rpc_timeout=rpc_timeout)


class JourneyView(JourneyStatus):
    """A journey's status with how its workflow stands: running, completed, or why it ended
    otherwise (a failed journey's state is the one it failed in)."""

    workflow_id: str
    workflow_status: str = Field(
        description="Temporal's execution status: RUNNING, COMPLETED, FAILED, TERMINATED, "
        "CANCELED or TIMED_OUT"
    )
    failure: str | None = Field(
        default=None, description="why the journey ended, when it failed or was stopped"
    )
    closed_at: datetime | None = None


class JourneyUnanswered(Exception):
    """The journey exists but no worker answered its status query in time."""

    def __init__(self, workflow_id: str, workflow_status: str, failure: str | None) -> None:
        super().__init__(f"no worker answered the status query of {workflow_id}")
        self.workflow_id = workflow_id
        self.workflow_status = workflow_status
        self.failure = failure


# Query failures that mean "nobody answered in time" rather than "the server refused".
_UNANSWERED = {RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED}
# Statuses of a journey that did not end as a journey ends (churned, or continued as new).
_ENDED_OTHERWISE = {
    WorkflowExecutionStatus.FAILED,
    WorkflowExecutionStatus.TERMINATED,
    WorkflowExecutionStatus.CANCELED,
    WorkflowExecutionStatus.TIMED_OUT,
}


async def describe_journey(
    client: Client, account_id: str, *, rpc_timeout: timedelta
) -> JourneyView:
    """The journey's status (query) with its workflow's: for a journey that failed or was
    stopped, why (from its closing event). RPCError NOT_FOUND when the account has no journey;
    JourneyUnanswered when no worker answers the query within `rpc_timeout`."""
    workflow_id = journey_id(account_id)
    described = await client.get_workflow_handle(workflow_id).describe(rpc_timeout=rpc_timeout)
    status = described.status or WorkflowExecutionStatus.RUNNING
    run = client.get_workflow_handle_for(
        CustomerJourneyWorkflow.run, workflow_id, run_id=described.run_id
    )
    failure = await _why_it_ended(client, run, rpc_timeout) if status in _ENDED_OTHERWISE else None
    try:
        journey = await run.query(CustomerJourneyWorkflow.status, rpc_timeout=rpc_timeout)
    except RPCError as exc:
        if exc.status in _UNANSWERED:
            raise JourneyUnanswered(workflow_id, status.name, failure) from exc
        raise
    return JourneyView(
        **journey.model_dump(),
        workflow_id=workflow_id,
        workflow_status=status.name,
        failure=failure,
        closed_at=described.close_time,
    )


async def _why_it_ended(
    client: Client,
    run: WorkflowHandle[CustomerJourneyWorkflow, JourneyStatus],
    rpc_timeout: timedelta,
) -> str | None:
    """The failure message, termination reason or timeout from the run's closing event."""
    async for event in run.fetch_history_events(
        event_filter_type=WorkflowHistoryEventFilterType.CLOSE_EVENT,
        rpc_timeout=rpc_timeout,
    ):
        if event.HasField("workflow_execution_failed_event_attributes"):
            return await _failure_text(
                client, event.workflow_execution_failed_event_attributes.failure
            )
        if event.HasField("workflow_execution_terminated_event_attributes"):
            reason = event.workflow_execution_terminated_event_attributes.reason
            return f"terminated: {reason}" if reason else "terminated"
        if event.HasField("workflow_execution_timed_out_event_attributes"):
            return "timed out (its execution timeout passed)"
        if event.HasField("workflow_execution_canceled_event_attributes"):
            return "canceled"
    return None


async def _failure_text(client: Client, failure: Failure) -> str:
    """A failure and its causes on one line, decoded as the client decodes results."""
    error: BaseException | None = await client.data_converter.decode_failure(failure)
    parts: list[str] = []
    while error is not None and len(parts) < 5:
        message = error.message if isinstance(error, FailureError) else str(error)
        if message and message not in parts:
            parts.append(message)
        error = error.__cause__
    return ": ".join(parts) or "failed"


async def escalation_action(client: Client, escalation_id: str, action: EscalationAction) -> None:
    """Acknowledge, update or resolve an escalation (support-side actions)."""
    handle = client.get_workflow_handle_for(EscalationWorkflow.run, escalation_id)
    await handle.signal(EscalationWorkflow.action, action)


def quote_literal(value: str) -> str:
    """`value` as a string literal of Temporal's visibility query language."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def visibility_query(
    stage: str | None = None, csm: str | None = None, segment: str | None = None
) -> str:
    clauses = ["WorkflowType = 'CustomerJourneyWorkflow'"]
    for key, value in ((sa.LIFECYCLE_STAGE, stage), (sa.CSM_OWNER, csm)):
        if value is not None:
            clauses.append(f"{key.name} = {quote_literal(value)}")
    if segment is not None:
        # A tier also matches its dynamic segments (`smb` -> `smb-healthy-adoption`, ...).
        prefix = segment.replace("_", "-") + "-"
        clauses.append(
            f"({sa.SEGMENT.name} = {quote_literal(segment)} "
            f"OR {sa.SEGMENT.name} STARTS_WITH {quote_literal(prefix)})"
        )
    return " AND ".join(clauses)


def account_of_journey(workflow_id: str) -> str | None:
    """The account id in a journey's workflow id (`journey-<account id>`)."""
    return (
        workflow_id.removeprefix(JOURNEY_PREFIX) if workflow_id.startswith(JOURNEY_PREFIX) else None
    )


async def list_journeys(
    client: Client, stage: str | None = None, csm: str | None = None, segment: str | None = None
) -> list[JourneyListing]:
    listings = []
    async for execution in client.list_workflows(visibility_query(stage, csm, segment)):
        attrs = execution.typed_search_attributes
        listings.append(
            JourneyListing(
                workflow_id=execution.id,
                # A journey that failed before its first step has no search attributes yet.
                account_id=attrs.get(sa.CUSTOMER_ID) or account_of_journey(execution.id),
                stage=attrs.get(sa.LIFECYCLE_STAGE),
                csm_owner=attrs.get(sa.CSM_OWNER),
                segment=attrs.get(sa.SEGMENT),
                health_score=attrs.get(sa.HEALTH_SCORE),
                renewal_date=attrs.get(sa.RENEWAL_DATE),
                status=execution.status.name if execution.status else "UNKNOWN",
            )
        )
    return listings


async def start_campaign(
    client: Client, input: CampaignInput, *, task_queue: str
) -> WorkflowHandle[CampaignWorkflow, CampaignResult]:
    """Run a one-off campaign as `campaign-<id>`; the same id again returns the first run
    (reuse is rejected even after it finished, so a campaign cannot go out twice)."""
    workflow_id = campaign_workflow_id(input.campaign_id)
    try:
        return await client.start_workflow(
            CampaignWorkflow.run,
            input,
            id=workflow_id,
            task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
    except WorkflowAlreadyStartedError:
        return client.get_workflow_handle_for(CampaignWorkflow.run, workflow_id)


async def schedule_campaign(
    client: Client,
    input: CampaignInput,
    spec: ScheduleSpec,
    *,
    task_queue: str,
) -> ScheduleHandle:
    """A recurring campaign: a Temporal Schedule `campaign-<id>` whose every action is one
    campaign run (the server suffixes the workflow id with the nominal time, and journeys
    email once per run id). An existing schedule of that id is kept as it is."""
    schedule_id = campaign_workflow_id(input.campaign_id)
    schedule = Schedule(
        action=ScheduleActionStartWorkflow(
            CampaignWorkflow.run, input, id=schedule_id, task_queue=task_queue
        ),
        spec=spec,
        # A campaign still fanning out when the next one is due: skip, never stack them.
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )
    try:
        return await client.create_schedule(schedule_id, schedule)
    except ScheduleAlreadyRunningError:
        return client.get_schedule_handle(schedule_id)


async def ensure_nightly_health_schedule(
    client: Client,
    *,
    task_queue: str,
    hour_utc: int = 2,
    schedule_id: str = NIGHTLY_HEALTH_SCHEDULE_ID,
    every_days: int = 1,
) -> ScheduleHandle:
    """The schedule that runs NightlyHealthWorkflow every night (02:00 UTC by default; the demo
    thins it to every few nights); idempotent, so a deploy step can call it on every start."""
    days = list(range(1, 32, every_days)) if every_days > 1 else None
    schedule = Schedule(
        action=ScheduleActionStartWorkflow(
            NightlyHealthWorkflow.run,
            NightlyHealthInput(),
            id="nightly-health",
            task_queue=task_queue,
        ),
        spec=ScheduleSpec(
            calendars=[
                ScheduleCalendarSpec(
                    day_of_month=(
                        [ScheduleRange(d) for d in days] if days else [ScheduleRange(1, 31)]
                    ),
                    hour=[ScheduleRange(hour_utc)],
                    minute=[ScheduleRange(0)],
                    second=[ScheduleRange(0)],
                    comment="nightly health recompute",
                )
            ]
        ),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )
    try:
        return await client.create_schedule(schedule_id, schedule)
    except ScheduleAlreadyRunningError:
        return client.get_schedule_handle(schedule_id)
