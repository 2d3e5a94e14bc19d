"""The journey's stages as child workflows: requirements gathering, onboarding, renewal.

Every stage starts through `StageRunner.run`: it waits for a reachable contact, starts the
stage's child with the account's labels, hands it the events that arrived early, and returns
the child's result (None when the child failed: a failed stage must not end a years-long
journey). Customer events for a running stage go to its child (`hand_over`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Any, NamedTuple

from pydantic import BaseModel
from temporalio import workflow
from temporalio.exceptions import ChildWorkflowError, TemporalError

with workflow.unsafe.imports_passed_through():
    from activities.crm import CrmActivities
    from domain.models import ContactRole, LifecycleStage, StageChange, TaskPriority
    from domain.process_map import GatedStage
    from workflows import search_attributes as sa
    from workflows.activity_calls import call
    from workflows.customer_event import CustomerEvent, CustomerEventType, UsageReportedPayload
    from workflows.journey_context import JourneyContext
    from workflows.journey_state import KeptEvent, StageVisit
    from workflows.onboarding import OnboardingInput, OnboardingWorkflow
    from workflows.renewal import RenewalInput, RenewalWorkflow
    from workflows.requirements import RequirementsGatheringWorkflow, RequirementsInput

# How many early events a journey keeps for a stage (the first of each kind counts).
KEPT_EVENTS_LIMIT = 20


class Stage(StrEnum):
    """The lifecycle stages that run as a child workflow."""

    REQUIREMENTS = "requirements"
    ONBOARDING = "onboarding"
    RENEWAL = "renewal"


# The customer events each stage's child takes while it runs.
STAGE_EVENTS: dict[Stage, frozenset[CustomerEventType]] = {
    Stage.REQUIREMENTS: frozenset({CustomerEventType.QUESTIONNAIRE_ANSWERED}),
    Stage.ONBOARDING: frozenset({CustomerEventType.USAGE_REPORTED}),
    Stage.RENEWAL: frozenset(
        {
            CustomerEventType.EMAIL_REPLIED,
            CustomerEventType.CONTRACT_RENEWED,
            CustomerEventType.CONTRACT_CANCELLED,
        }
    ),
}
_OF_LIFECYCLE = {LifecycleStage(stage.value): stage for stage in Stage}
# The stages that start right after the payment: their workflow and its input.
_FIRST_STAGES: dict[Stage, tuple[Any, type[RequirementsInput] | type[OnboardingInput]]] = {
    Stage.REQUIREMENTS: (RequirementsGatheringWorkflow.run, RequirementsInput),
    Stage.ONBOARDING: (OnboardingWorkflow.run, OnboardingInput),
}
# What each stage is called in people's words (CSM tasks, Web UI rows).
_TITLE = {
    Stage.REQUIREMENTS: "requirements gathering",
    Stage.ONBOARDING: "onboarding",
    Stage.RENEWAL: "the renewal",
}


class Handover(NamedTuple):
    """Where an event went: the workflow it was handed to, or the stage it waits for."""

    handed_to: str | None = None
    kept_for: str | None = None


class StageRunner:
    def __init__(
        self,
        journey: JourneyContext,
        idle: Callable[[Callable[[], bool]], Awaitable[None]],
        gate: Callable[[GatedStage], Awaitable[None]],
    ) -> None:
        self._journey = journey
        self._idle = idle  # the journey's wait, which continues-as-new when due
        self._gate = gate  # the process map's hold on a stage, until its handoffs are done
        self.running: Stage | None = None
        # A stage entered whose child has not started yet: it waits for a contact or a gate.
        self.held: Stage | None = None
        self._child: workflow.ChildWorkflowHandle[Any, Any] | None = None

    @property
    def child_id(self) -> str | None:
        """The workflow id of the stage running now, if one is."""
        return self._child.id if self._child is not None else None

    async def enter(self, stage: LifecycleStage, reason: str) -> None:
        """Move the account to `stage`: timeline, search attribute and CRM."""
        journey, state = self._journey, self._journey.state
        if state.stage == stage:
            return
        state.stage = stage
        state.stages.append(StageVisit(stage=stage, entered_at=workflow.now()))
        journey.note("stage", f"{stage.value}: {reason}")
        workflow.upsert_search_attributes([sa.LIFECYCLE_STAGE.value_set(stage.value)])
        await call(
            CrmActivities.set_lifecycle_stage,
            StageChange(
                account_id=journey.account.id,
                stage=stage,
                reason=reason,
                workflow_id=workflow.info().workflow_id,
                step=f"stage:{stage.value}:{len(state.stages)}",
            ),
        )

    async def run(self, stage: Stage) -> Any:
        """Run `stage`'s child to its end: its result, or None when it failed."""
        self.held = stage
        try:
            await self.await_reachable_contact(_TITLE[stage])
            await self._gate(GatedStage(stage.value))
        finally:
            self.held = None
        state = self._journey.state
        what = _TITLE[stage]
        if stage == Stage.RENEWAL:
            assert state.contract_end is not None  # a renewal is scheduled from the end date
            what = f"renewal of the contract ending {state.contract_end:%d %b %Y}"
        run, arg, child_id = self._child_of(stage)
        handle = await workflow.start_child_workflow(
            run, arg, id=child_id, **self._journey.family(what)
        )
        await self._deliver_kept(stage, handle)
        self.running, self._child = stage, handle
        try:
            result = await handle
            # What the stage did (emails, tasks) joins the journey's log.
            self._journey.state.log.merge(result.log)
            self._journey.work_logged = True
            return result
        except ChildWorkflowError as exc:
            self._journey.note("stage_failed", f"{stage.value}: {exc.cause or exc}")
            return None
        finally:
            self.running, self._child = None, None

    def _child_of(self, stage: Stage) -> tuple[Any, BaseModel, str]:
        """The child workflow of `stage`, its input and its id."""
        journey = self._journey.input
        account, state = journey.account, self._journey.state
        if stage != Stage.RENEWAL:
            run, model = _FIRST_STAGES[stage]
            arg = model(
                account_id=account.id,
                csm_owner=account.csm_owner,
                contact_id=journey.contact_for(ContactRole.CHAMPION),
                config=journey.config,
            )
            return run, arg, f"{stage.value}-{account.id}"
        assert state.contract_end is not None  # a renewal is scheduled from the end date
        renewal = RenewalInput(
            account_id=account.id,
            csm_owner=account.csm_owner,
            csm_manager=journey.team_member("cs_manager"),
            decision_maker_contact_id=journey.contact_for(
                ContactRole.DECISION_MAKER, ContactRole.CHAMPION
            ),
            contract_end=state.contract_end,
            contract_value=state.contract_value,
            auto_renew=state.auto_renew,
            config=journey.config,
            cancel_requested=state.cancel_requested,
            cancel_reason=state.cancel_reason,
        )
        return (
            RenewalWorkflow.run,
            renewal,
            f"renewal-{account.id}-{state.contract_end.isoformat()}",
        )

    async def await_reachable_contact(self, what: str) -> None:
        """Hold `what` until the account has a contact csflow may write to, with one task for
        the CSM to add one (a `contact_changed` event brings it)."""
        journey = self._journey.input
        if journey.has_reachable_contact():
            return
        account, log = journey.account, self._journey.state.log
        self._journey.note("contact", f"{what} waits: no reachable contact")
        await self._journey.work().task(
            f"Add a reachable contact for {account.name}",
            f"no-contact:{what}:{len(log.tasks)}",
            description=(
                f"Every contact of {account.name} has opted out or left, so {what} cannot "
                "start. Add a contact who may be written to; the journey carries on by itself."
            ),
            priority=TaskPriority.HIGH,
        )
        with self._journey.waiting(f"a contact who may be written to before {what} starts"):
            await self._idle(journey.has_reachable_contact)
        await self._journey.work().close("no-contact:*", outcome="a reachable contact was added")

    async def hand_over(self, event: CustomerEvent, payload: object) -> Handover:
        """Give the event to the stage it is for: the running child, or keep it for a stage
        that has not started yet."""
        kind = event.event_type
        ahead = self._stage_ahead(kind, payload)
        if ahead is not None:
            self._keep(ahead, event)
            return Handover(kept_for=ahead.value)
        current = _OF_LIFECYCLE.get(self._journey.state.stage)
        if current is not None and kind in STAGE_EVENTS[current]:
            # The stage is entered just before its child starts: hand over once it has, or keep
            # the event while the stage is held (no contact yet, a handoff not done).
            await workflow.wait_condition(
                lambda: (
                    self.running == current
                    or self.held == current
                    or _OF_LIFECYCLE.get(self._journey.state.stage) != current
                )
            )
            if self.held == current:
                self._keep(current, event)
                return Handover(kept_for=current.value)
        if self._child is not None and self.running is not None:
            if kind in STAGE_EVENTS[self.running]:
                await self._child.signal("customer_event", event)
                return Handover(handed_to=self._child.id)
        return Handover()

    def _stage_ahead(self, kind: CustomerEventType, payload: object) -> Stage | None:
        """The stage this event is for when that stage has not started yet, else None."""
        state = self._journey.state
        if (
            kind == CustomerEventType.QUESTIONNAIRE_ANSWERED
            and state.requirements is None
            and state.stage == LifecycleStage.TRIAL
        ):
            return Stage.REQUIREMENTS
        if (
            isinstance(payload, UsageReportedPayload)
            and payload.milestone is not None
            and state.onboarding is None
            and state.stage in (LifecycleStage.TRIAL, LifecycleStage.REQUIREMENTS)
        ):
            return Stage.ONBOARDING
        return None

    def _keep(self, stage: Stage, event: CustomerEvent) -> None:
        """Hold `event` for `stage`; only its first event of a kind (a milestone: of a value)."""
        journey, state = self._journey, self._journey.state
        kept = [k for k in state.kept_events if k.stage == stage.value]
        if any(_same_kind(k.event, event) for k in kept) or len(kept) >= KEPT_EVENTS_LIMIT:
            journey.note("kept_event", f"{journey.describe(event)}: already kept for {stage}")
            return
        state.kept_events.append(KeptEvent(stage=stage.value, event=event, kept_at=workflow.now()))
        journey.note("kept_event", f"{journey.describe(event)}: kept until {stage} starts")

    async def _deliver_kept(
        self, stage: Stage, handle: workflow.ChildWorkflowHandle[Any, Any]
    ) -> None:
        """Hand the events kept for `stage` to its child, which has just started."""
        journey, state = self._journey, self._journey.state
        kept = [k for k in state.kept_events if k.stage == stage.value]
        state.kept_events = [k for k in state.kept_events if k.stage != stage.value]
        for item in kept:
            try:
                await handle.signal("customer_event", item.event)
            except TemporalError as exc:
                journey.note("kept_event", f"{item.event.type} not delivered to {stage}: {exc}")
                continue
            journey.note(
                "kept_event",
                f"{journey.describe(item.event)} (kept since {item.kept_at:%Y-%m-%d %H:%M}) "
                f"delivered to {stage}",
            )


def _same_kind(kept: CustomerEvent, new: CustomerEvent) -> bool:
    """Two events the stage treats as one: answers to the questionnaire, or the same milestone."""
    if kept.type != new.type:
        return False
    if kept.event_type != CustomerEventType.USAGE_REPORTED:
        return True
    return kept.payload.get("milestone") == new.payload.get("milestone")
