"""Starting a real escalation in a test: a high-severity ticket escalation on an account, whose
activities open its acknowledgement task in the CRM for the first person of its chain."""

from __future__ import annotations

import uuid

from temporalio.client import Client, WorkflowHandle

from domain.models import Segment
from domain.segments import default_config
from workflows.customer_event import TicketSeverity
from workflows.escalation import (
    EscalationInput,
    EscalationResult,
    EscalationSource,
    EscalationWorkflow,
)


async def start_ticket_escalation(
    client: Client,
    account_id: str,
    *,
    summary: str,
    chain: list[str],
    task_queue: str,
    segment: Segment = Segment.SMB,
    ticket_id: str = "T-1",
) -> WorkflowHandle[EscalationWorkflow, EscalationResult]:
    """A new escalation (its id `escalation-<random>`) of a high-severity ticket on
    `account_id`, whose champion contact is `<account_id>-champion`."""
    escalation_id = f"escalation-{uuid.uuid4().hex[:10]}"
    return await client.start_workflow(
        EscalationWorkflow.run,
        EscalationInput(
            escalation_id=escalation_id,
            account_id=account_id,
            contact_id=f"{account_id}-champion",
            source=EscalationSource.TICKET,
            severity=TicketSeverity.HIGH,
            summary=summary,
            chain=chain,
            config=default_config(segment),
            ticket_id=ticket_id,
        ),
        id=escalation_id,
        task_queue=task_queue,
    )
