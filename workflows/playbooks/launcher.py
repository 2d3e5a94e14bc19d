"""The journey's side of the playbooks: open the ones a trigger calls for, pass events and
survey answers on to the open ones, and take their reports."""

from __future__ import annotations

from typing import Any

from temporalio import workflow
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import TemporalError, WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from workflows.customer_event import CustomerEvent, CustomerEventType
    from workflows.journey_context import JourneyContext
    from workflows.journey_state import PLAYBOOKS_LIMIT
    from workflows.playbooks import base
    from workflows.playbooks.registry import PLAYBOOKS
    from workflows.playbooks.spec import JourneyMoment, Opening, PlaybookSpec, Trigger


class PlaybookLauncher:
    def __init__(self, journey: JourneyContext) -> None:
        self._journey = journey

    async def on(self, what: CustomerEventType | JourneyMoment, trigger: Trigger) -> None:
        """Open every playbook that `what` triggers and whose condition holds."""
        for spec in PLAYBOOKS:
            if what not in spec.triggers:
                continue
            policy = spec.policy_for(self._journey.input)
            if not policy.enabled:
                continue
            opening = spec.opens(trigger, policy)
            if opening is not None:
                await self.open(spec, opening)

    async def open(self, spec: PlaybookSpec[Any], opening: Opening) -> bool:
        """Start the playbook for this situation unless one was opened for it before."""
        journey = self._journey
        playbooks = journey.state.playbooks
        pid = base.playbook_id(spec.name, journey.account.id, opening.situation)
        if any(p.playbook_id == pid for p in playbooks):
            journey.note("playbook", f"{pid} already opened; not again")
            return False
        record = base.PlaybookSummary(
            playbook_id=pid,
            kind=spec.name,
            situation=opening.situation,
            summary=opening.summary,
            opened_at=workflow.now(),
        )
        playbooks.append(record)
        closed = [p for p in playbooks if not p.open]
        if len(playbooks) > PLAYBOOKS_LIMIT and closed:
            playbooks.remove(closed[0])
        try:
            await workflow.start_child_workflow(
                spec.workflow.run,
                opening.input,
                id=pid,
                **journey.family(f"{spec.title}: {opening.summary}"),
                # The server remembers every situation, beyond the records kept here.
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                # A playbook finishes its sequence even if the journey continues-as-new or ends.
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
            )
        except WorkflowAlreadyStartedError:
            record.open = False
            record.outcome = "already opened earlier"
            journey.note("playbook", f"{pid} already exists; not again")
            return False
        journey.note("playbook", f"opened {pid}: {opening.summary}")
        return True

    async def forward(self, event: CustomerEvent, payload: object) -> None:
        """Pass a customer event on to the open playbooks that take it."""
        for spec in PLAYBOOKS:
            if event.event_type in spec.receives.events:
                await self._signal(spec, "customer_event", event, payload)

    async def survey_outcome(self, outcome: base.SurveyOutcome) -> None:
        for spec in PLAYBOOKS:
            if spec.receives.survey_outcomes:
                await self._signal(spec, "survey_outcome", outcome, None)

    def take_report(self, message: base.PlaybookReport) -> None:
        """A playbook's progress (its surveys, its work) or its outcome."""
        journey = self._journey
        state = journey.state
        known = {s.token for s in state.log.surveys}
        state.log.surveys.extend(s for s in message.surveys if s.token not in known)
        state.log.merge(message.log)
        record = next((p for p in state.playbooks if p.playbook_id == message.playbook_id), None)
        if message.finished:
            if record is not None:
                record.open = False
                record.outcome = message.outcome
                record.finished_at = workflow.now()
            journey.note("playbook", f"{message.playbook_id} finished: {message.outcome}")
        journey.work_logged = True

    async def _signal(
        self, spec: PlaybookSpec[Any], signal: str, arg: Any, event_payload: object | None
    ) -> None:
        open_ones = [p for p in self._journey.state.playbooks if p.kind == spec.name and p.open]
        for record in open_ones:
            wants = spec.receives.wants
            if event_payload is not None and not wants(record.situation, event_payload):
                continue
            try:
                await workflow.get_external_workflow_handle(record.playbook_id).signal(signal, arg)
            except TemporalError as exc:
                # It finished just now; its final report is on the way.
                workflow.logger.info("playbook %s gone: %s", record.playbook_id, exc)
