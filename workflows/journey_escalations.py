"""Escalations the journey opens for an account (urgent tickets, detractor scores): concurrent
child workflows that run their SLAs to the end, watched until they close."""

from __future__ import annotations

import asyncio
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ChildWorkflowError

with workflow.unsafe.imports_passed_through():
    from domain.models import ContactRole
    from workflows.customer_event import CustomerEvent, TicketResolvedPayload, TicketSeverity
    from workflows.escalation import (
        EscalationInput,
        EscalationResult,
        EscalationSource,
        EscalationWorkflow,
    )
    from workflows.journey_context import JourneyContext
    from workflows.journey_state import EscalationSummary


class EscalationDesk:
    def __init__(self, journey: JourneyContext) -> None:
        self._journey = journey
        self._running: dict[str, workflow.ChildWorkflowHandle[Any, Any]] = {}

    @property
    def any_running(self) -> bool:
        return bool(self._running)

    async def open(
        self,
        source: EscalationSource,
        escalation_id: str,
        summary: str,
        severity: TicketSeverity,
        ticket_id: str | None = None,
        follow_up_csat: bool = True,
    ) -> None:
        journey, state = self._journey, self._journey.state
        if any(e.escalation_id == escalation_id for e in state.escalations):
            return  # the same ticket or survey cannot open two escalations
        record = EscalationSummary(
            escalation_id=escalation_id,
            source=source.value,
            summary=summary,
            opened_at=workflow.now(),
            ticket_id=ticket_id,
        )
        handle = await workflow.start_child_workflow(
            EscalationWorkflow.run,
            EscalationInput(
                escalation_id=escalation_id,
                account_id=journey.account.id,
                contact_id=journey.input.contact_for(ContactRole.CHAMPION),
                source=source,
                severity=severity,
                summary=summary,
                chain=journey.input.escalation_chain(),
                config=journey.input.config,
                ticket_id=ticket_id,
                follow_up_csat=follow_up_csat,
            ),
            id=escalation_id,
            **journey.family(f"escalation: {summary}"),
            # An escalation runs its SLAs to the end even if the journey closes first.
            parent_close_policy=workflow.ParentClosePolicy.ABANDON,
        )
        # Recorded once it runs: whoever reads the journey can act on the escalation at once
        # (events are applied one at a time, so nothing opens the same one meanwhile).
        state.escalations.append(record)
        self._running[escalation_id] = handle
        journey.note("escalation", f"opened {escalation_id}: {summary}")
        asyncio.create_task(self._watch(record, handle))

    async def ticket_resolved(
        self, event: CustomerEvent, ticket: TicketResolvedPayload
    ) -> str | None:
        """Tell the escalation of this ticket, if one runs; its id."""
        for summary in self._journey.state.escalations:
            handle = self._running.get(summary.escalation_id)
            if summary.ticket_id == ticket.ticket_id and handle is not None:
                await handle.signal("customer_event", event)
                return summary.escalation_id
        return None

    async def _watch(
        self, record: EscalationSummary, handle: workflow.ChildWorkflowHandle[Any, Any]
    ) -> None:
        journey, escalation_id = self._journey, record.escalation_id
        try:
            result: EscalationResult = await handle
            journey.state.log.merge(result.log)
            journey.work_logged = True
            record.level = result.level
            record.missed_slas = [m.sla for m in result.missed_slas]
            record.resolved_at = result.resolved_at
            journey.note("escalation", f"closed {escalation_id} at level {result.level}")
        except ChildWorkflowError as exc:
            journey.note("escalation", f"{escalation_id} ended without resolution: {exc}")
        finally:
            record.open = False
            self._running.pop(escalation_id, None)
