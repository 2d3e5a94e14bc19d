"""The journey's side of the cross-functional process map.

The journey starts the account's ProcessMapWorkflow when the payment arrives, with the map the
journey itself started with (so a later edit of the map reaches new journeys only), tells it
the moments its milestones count from (payment, each stage's start, the contract's end), and
holds a stage that a milestone gates until that milestone is done, or, once the milestone is
`gate_grace_days` past due, escalates to its function's lead and goes ahead: a late handoff
must not stop a customer's onboarding for good.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import partial

from temporalio import workflow
from temporalio.exceptions import ActivityError, TemporalError

with workflow.unsafe.imports_passed_through():
    from activities.process_map_start import ProcessMapStarter
    from domain.models import AlertSeverity, LifecycleStage
    from domain.process_map import Anchor, GatedStage, Milestone
    from workflows.activity_calls import call
    from workflows.contract_dates import contract_end_at
    from workflows.journey_context import JourneyContext
    from workflows.process_map_state import (
        AnchorReached,
        MilestoneDone,
        ProcessMapInput,
        ProcessMapStart,
    )

# The stages whose start is an anchor of the map.
_STAGE_ANCHORS = {
    LifecycleStage.REQUIREMENTS: Anchor.REQUIREMENTS_STARTED,
    LifecycleStage.ONBOARDING: Anchor.ONBOARDING_STARTED,
    LifecycleStage.ADOPTION: Anchor.ADOPTION_STARTED,
    LifecycleStage.RENEWAL: Anchor.RENEWAL_STARTED,
}
_STAGE_WORDS = {
    GatedStage.REQUIREMENTS: "Requirements gathering",
    GatedStage.ONBOARDING: "Onboarding",
    GatedStage.RENEWAL: "The renewal",
}

Idle = Callable[[Callable[[], bool], datetime | None], Awaitable[None]]


def process_map_id(account_id: str) -> str:
    return f"process-map-{account_id}"


class ProcessMapLink:
    def __init__(self, journey: JourneyContext, idle: Idle) -> None:
        self._journey = journey
        self._idle = idle  # the journey's wait, which continues-as-new when due

    @property
    def busy(self) -> bool:
        """Moments not yet told to the map workflow (the journey must not hand over before)."""
        return bool(self._unsent())

    def milestone_done(self, done: MilestoneDone) -> None:
        self._journey.state.map_done.append(f"{done.milestone_id}:{done.cycle}")

    async def run(self) -> None:
        """Tell the map workflow each new moment of the journey, starting it on the first."""
        if self._journey.input.process_map is None:
            return
        while True:
            await workflow.wait_condition(lambda: self.busy)
            await self._send(self._unsent())

    async def end(self) -> None:
        """The customer has left: the map workflow closes the handoffs still open."""
        if self._journey.state.map_started:
            await self._signal("journey_ended", None)

    async def gate(self, stage: GatedStage) -> None:
        """Hold `stage` until the milestones it waits for are done, or escalate and go on."""
        process_map = self._journey.input.process_map
        if process_map is None:
            return
        await workflow.wait_condition(lambda: not self.busy)
        for milestone in process_map.gates_of(stage):
            if self._done(milestone):
                continue
            function = process_map.function(milestone.function)
            what = _STAGE_WORDS[stage]
            self._journey.note(
                "process_map", f"{what} waits for {milestone.title} ({function.name})"
            )
            deadline = self._gate_deadline(milestone, process_map.gate_grace_days)
            with self._journey.waiting(
                f"{milestone.title} from {function.name} before {what.lower()} starts"
                f" (goes ahead without it on {deadline:%d %b %Y})"
            ):
                await self._idle(partial(self._done, milestone), deadline)
            if self._done(milestone):
                self._journey.note("process_map", f"{milestone.title} done: {what} goes ahead")
                continue
            self._journey.note(
                "process_map", f"{what} goes ahead without {milestone.title}: escalated"
            )
            await self._journey.work().alert(
                f"{what} for {self._journey.account.name} started without {milestone.title}",
                f"process-map:gate:{stage.value}:{milestone.id}",
                message=(
                    f"{what} waited for {function.name}'s '{milestone.title}' until "
                    f"{deadline:%d %b %Y}, {process_map.gate_grace_days} days past its due date, "
                    f"and has gone ahead without it. Done when: {milestone.done_when}"
                ),
                severity=AlertSeverity.CRITICAL,
                owner=function.lead,
            )

    # ---- what the map workflow has been told -------------------------------------------------

    def _unsent(self) -> list[AnchorReached]:
        state = self._journey.state
        if self._journey.input.process_map is None or not state.paid:
            return []
        wanted = []
        if not any(a.anchor == Anchor.PAYMENT_RECEIVED for a in state.map_anchors):
            wanted.append(AnchorReached(anchor=Anchor.PAYMENT_RECEIVED, at=workflow.now()))
        for visit in state.stages:
            anchor = _STAGE_ANCHORS.get(visit.stage)
            if anchor is not None:
                wanted.append(AnchorReached(anchor=anchor, at=visit.entered_at))
        if state.contract_end is not None:
            ends = [a for a in state.map_anchors if a.anchor == Anchor.CONTRACT_END]
            end_at = contract_end_at(state.contract_end)
            if not ends or ends[-1].at != end_at:
                wanted.append(AnchorReached(anchor=Anchor.CONTRACT_END, at=end_at))
        return [a for a in wanted if a not in state.map_anchors]

    async def _send(self, moments: list[AnchorReached]) -> None:
        journey, state = self._journey, self._journey.state
        process_map = journey.input.process_map
        assert process_map is not None
        if not state.map_started:
            account = journey.account
            start = ProcessMapStart(
                workflow_id=process_map_id(account.id),
                input=ProcessMapInput(
                    account_id=account.id,
                    account_name=account.name,
                    csm_owner=account.csm_owner,
                    journey_id=workflow.info().workflow_id,
                    process_map=process_map,
                    anchors=moments,
                ),
                summary=f"{account.name}: cross-functional process map"[:200],
                segment=journey.segment,
                stage=state.stage.value,
            )
            try:
                await call(ProcessMapStarter.start_process_map, start)
                journey.note("process_map", f"process map {process_map.label} started")
            except ActivityError as exc:
                journey.note("process_map", f"process map not started: {exc.cause or exc}")
            state.map_started = True
        else:
            for moment in moments:
                await self._signal("anchor_reached", moment)
        state.map_anchors.extend(moments)

    async def _signal(self, name: str, arg: AnchorReached | None) -> None:
        handle = workflow.get_external_workflow_handle(process_map_id(self._journey.account.id))
        try:
            await (handle.signal(name) if arg is None else handle.signal(name, arg))
        except TemporalError as exc:
            self._journey.note("process_map", f"process map not told ({name}): {exc}")

    def _done(self, milestone: Milestone) -> bool:
        return any(key.startswith(f"{milestone.id}:") for key in self._journey.state.map_done)

    def _gate_deadline(self, milestone: Milestone, grace_days: int) -> datetime:
        moments = [
            a.at for a in self._journey.state.map_anchors if a.anchor == milestone.starts.anchor
        ]
        anchor_at = moments[0] if moments else workflow.now()
        starts = anchor_at + timedelta(days=milestone.starts.offset_days)
        return starts + milestone.due_within + timedelta(days=grace_days)
