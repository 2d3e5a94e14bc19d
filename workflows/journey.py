"""CustomerJourneyWorkflow: one per account (id `journey-<account id>`), for years.

What happens to a customer, in order (`_lifecycle`):
1. A trial or a payment starts the journey; nothing else happens until the payment.
2. Requirements gathering: why they bought, how they will use us, what they used before; the
   CSM introduces themselves (a child workflow, with reminders and a hand-over to the CSM).
3. Onboarding: kickoff, training or webinar, milestones up to go-live (a child workflow).
4. Adoption, for as long as the customer stays: an NPS survey every few months (with its
   follow-up playbook), health kept current, playbooks opened as things happen (tickets, usage
   swings, silence, champion changes, upgrades).
5. Renewal, a segment-dependent time before the contract ends (a child workflow): renewed,
   the journey goes back to adoption until the next end date; not renewed, it ends as churned.

Customer events arrive at any time (signal, or update to wait for the effect) and are applied in
order by `journey_events`; escalations run beside the stages. The journey continues-as-new at
quiet points, carrying its state and absolute deadlines.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

from pydantic import ValidationError
from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.crm import CrmActivities
    from domain.input_checks import describe_errors
    from domain.models import (
        AccountUpsert,
        ContactRole,
        ContractOutcomeKind,
        CsmTask,
        LifecycleStage,
        SurveyKind,
    )
    from workflows import search_attributes as sa
    from workflows.activity_calls import call
    from workflows.campaign import CampaignMessage
    from workflows.contract_dates import contract_end_at
    from workflows.customer_event import CustomerEvent, EventAck, InvalidCustomerEvent
    from workflows.journey_background import BackgroundWork
    from workflows.journey_context import JourneyContext, for_crm
    from workflows.journey_escalations import EscalationDesk
    from workflows.journey_events import EventHandlers
    from workflows.journey_health import HealthKeeper
    from workflows.journey_intake import EventIntake
    from workflows.journey_process_map import ProcessMapLink
    from workflows.journey_stages import Stage, StageRunner
    from workflows.journey_state import (
        JourneyInput,
        JourneyState,
        JourneyStatus,
        RenewalSummary,
        StageOutcome,
        StageVisit,
        TimelineEntry,
        status_of,
    )
    from workflows.nightly_health import HealthRecompute
    from workflows.onboarding import OnboardingResult
    from workflows.playbooks.base import PlaybookReport
    from workflows.playbooks.launcher import PlaybookLauncher
    from workflows.playbooks.nps_follow_up import NpsSent
    from workflows.playbooks.registry import policy_problems
    from workflows.playbooks.spec import JourneyMoment
    from workflows.process_map_state import MilestoneDone
    from workflows.requirements import RequirementsResult
    from workflows.work_log import TaskRecord


@workflow.defn
class CustomerJourneyWorkflow:
    @workflow.init
    def __init__(self, input: JourneyInput) -> None:
        # Everything exists before any handler runs: signal-with-start delivers its signal first.
        self._input = input
        self._state = input.state or JourneyState(started_at=workflow.now())
        journey = JourneyContext(input, self._state)
        self._journey = journey
        self._playbooks = PlaybookLauncher(journey)
        self._health = HealthKeeper(journey)
        self._process_map = ProcessMapLink(journey, self._idle)
        self._stages = StageRunner(journey, self._idle, self._process_map.gate)
        self._escalations = EscalationDesk(journey)
        self._intake = EventIntake(journey)
        self._background = BackgroundWork(journey, self._health, self._playbooks)
        self._events = EventHandlers(
            journey, self._stages, self._escalations, self._health, self._playbooks
        )
        self._finished = False

    # ---- what callers send and ask -----------------------------------------------------------

    @workflow.signal(name="customer_event")
    def customer_event(self, event: CustomerEvent) -> None:
        """Fire-and-forget form (and the signal of signal-with-start)."""
        try:
            event.parse()
        except InvalidCustomerEvent as exc:
            event.reject(str(exc))  # a signal cannot be refused: the event loop rejects it
        self._intake.enqueue(event)

    @workflow.update(name="record_customer_event")
    async def record_customer_event(self, event: CustomerEvent) -> EventAck:
        """Waits until the journey has processed the event, so callers can rely on its effects."""
        number = self._intake.enqueue(event)
        if number is None:
            return self._intake.duplicate_ack(event)
        return await self._intake.ack(number)

    @record_customer_event.validator
    def validate_customer_event(self, event: CustomerEvent) -> None:
        event.parse()  # InvalidCustomerEvent (a ValueError) carries the readable reason
        if event.account_id != self._input.account.id:
            raise InvalidCustomerEvent(
                f"event for account {event.account_id!r} sent to the journey of "
                f"{self._input.account.id!r}"
            )
        if self._finished:
            raise InvalidCustomerEvent("the journey has ended (the customer churned)")

    @workflow.signal(name="playbook_report")
    def playbook_report(self, message: PlaybookReport) -> None:
        """Progress and outcomes from the playbooks this journey opened."""
        self._playbooks.take_report(message)

    @workflow.signal(name="task_completed")
    def task_completed(self, task: CsmTask) -> None:
        """A CSM completed one of the journey's tasks: on the timeline (its workflows close their
        own tasks when the cause resolves)."""
        self._journey.note("task", f"task #{task.id} done: {task.title} ({task.outcome or '-'})")
        for record in self._state.log.tasks:
            if record.task_id == task.id:
                record.open = False

    @workflow.signal(name="milestone_done")
    def milestone_done(self, done: MilestoneDone) -> None:
        """A process-map milestone is done (a stage gated on it may go ahead)."""
        self._process_map.milestone_done(done)

    @workflow.signal(name="recompute_health")
    def recompute_health(self, request: HealthRecompute) -> None:
        self._background.health_request = request.reason

    @workflow.signal(name="campaign_message")
    def campaign_message(self, message: CampaignMessage) -> None:
        self._background.take_campaign(message)

    @workflow.query
    def status(self) -> JourneyStatus:
        return status_of(
            self._input,
            self._state,
            self._finished,
            waiting_for=self._journey.waiting_for,
            stage_workflow_id=self._stages.child_id,
        )

    @workflow.query
    def timeline(self) -> list[TimelineEntry]:
        return list(self._state.timeline)

    @workflow.query
    def open_tasks(self) -> list[TaskRecord]:
        return self._state.log.open_tasks()

    # ---- the customer's lifecycle ------------------------------------------------------------

    @workflow.run
    async def run(self, input: JourneyInput) -> JourneyStatus:
        state = self._state
        if input.state is None:
            _check_new_journey(input)
            await call(CrmActivities.upsert_account, for_crm(input.account))
            if input.account.contract is not None:
                self._journey.set_contract(input.account.contract)
            state.stages.append(StageVisit(stage=state.stage, entered_at=workflow.now()))
        else:
            state.runs += 1
        self._keep_search_attributes()

        events = asyncio.create_task(
            self._intake.run(self._events.apply, lambda: not self._background.busy)
        )
        background = asyncio.create_task(self._background.run(lambda: not self._intake.processing))
        process_map = asyncio.create_task(self._process_map.run())
        await self._lifecycle()
        await self._process_map.end()
        # Finish what callers already handed us; the validator refuses anything newer.
        await workflow.wait_condition(lambda: not state.pending and not self._intake.processing)
        self._finished = True
        await workflow.wait_condition(workflow.all_handlers_finished)
        events.cancel()
        background.cancel()
        process_map.cancel()
        return self.status()

    async def _lifecycle(self) -> None:
        state, stages = self._state, self._stages
        if not state.paid:
            await self._idle(lambda: state.paid)
        if state.requirements is None:
            await stages.enter(LifecycleStage.REQUIREMENTS, "payment received")
            state.requirements = _requirements_outcome(await stages.run(Stage.REQUIREMENTS))
        if state.onboarding is None:
            await stages.enter(LifecycleStage.ONBOARDING, "requirements gathered")
            state.onboarding = _onboarding_outcome(await stages.run(Stage.ONBOARDING))
            await stages.enter(LifecycleStage.ADOPTION, "onboarding finished")
            state.next_nps_at = workflow.now() + self._input.config.surveys.first_nps_after

        while state.stage != LifecycleStage.CHURNED:
            deadlines = [d for d in (state.renewal_starts_at, state.next_nps_at) if d is not None]
            await self._idle(lambda: False, until=min(deadlines) if deadlines else None)
            now = workflow.now()
            if state.next_nps_at is not None and state.next_nps_at <= now:
                await self._send_nps()
            if state.renewal_starts_at is not None and state.renewal_starts_at <= now:
                await self._renew()

    async def _send_nps(self) -> None:
        state = self._state
        await self._stages.await_reachable_contact("the NPS survey")
        assert state.next_nps_at is not None
        state.next_nps_at += self._input.config.surveys.nps_every
        if state.silence_playbook_open:
            # A customer gone silent gets no survey on top of the re-engagement (and the CSM's
            # outreach after it) until they act again; then the rounds resume.
            self._journey.note("survey", "NPS round skipped: the customer has gone silent")
            return
        state.nps_sent += 1
        try:
            survey = await self._journey.work().survey(
                SurveyKind.NPS,
                "relationship",
                self._input.config.surveys.survey_template,
                f"nps:{state.nps_sent}",
                to=self._input.contact_for(ContactRole.CHAMPION),
            )
        except ActivityError as exc:
            self._journey.note("survey_failed", f"NPS survey #{state.nps_sent}: {exc.cause or exc}")
            await self._journey.work().failed_step(
                f"NPS survey #{state.nps_sent} could not be created",
                reason=str(exc.cause or exc),
                step=f"nps:{state.nps_sent}:failed",
            )
            return
        self._journey.note("survey", f"NPS survey #{state.nps_sent} sent")
        sent = NpsSent(survey=survey, round=state.nps_sent)
        await self._playbooks.on(JourneyMoment.NPS_SENT, self._journey.trigger(payload=sent))
        self._journey.work_logged = True

    async def _renew(self) -> None:
        state, stages = self._state, self._stages
        assert state.contract_end is not None
        await stages.enter(
            LifecycleStage.RENEWAL, f"contract ends {state.contract_end.isoformat()}"
        )
        summary = RenewalSummary(contract_end=state.contract_end, started_at=workflow.now())
        state.renewals.append(summary)
        result = await stages.run(Stage.RENEWAL)
        if result is None:
            # The CSM takes over this renewal by hand; no automatic deadline remains.
            state.renewal_starts_at = None
            await stages.enter(LifecycleStage.ADOPTION, "renewal workflow failed")
            return
        summary.outcome = result.outcome
        summary.new_end_date = result.new_end_date
        summary.responded = result.responded
        summary.outreach_sent = result.outreach_sent
        summary.escalated_to_manager = result.escalated_to_manager
        self._journey.note("renewal", f"outcome {result.outcome.value}")
        if result.outcome == ContractOutcomeKind.CHURNED or result.new_end_date is None:
            state.renewal_starts_at = None
            state.next_nps_at = None
            await stages.enter(LifecycleStage.CHURNED, "contract not renewed")
            return
        self._journey.set_contract_end(result.new_end_date)
        state.cancel_requested, state.cancel_reason = False, ""
        await stages.enter(LifecycleStage.ADOPTION, f"contract {result.outcome.value}")

    # ---- waiting and continuing-as-new -------------------------------------------------------

    async def _idle(self, done: Callable[[], bool], until: datetime | None = None) -> None:
        """Wait for `done()` or the absolute `until`, continuing-as-new when it is time to."""
        while not done():
            timeout = None
            if until is not None:
                timeout = until - workflow.now()
                if timeout <= timedelta(0):
                    return
            try:
                await workflow.wait_condition(
                    lambda: done() or self._continue_as_new_due(), timeout=timeout
                )
            except TimeoutError:
                return
            if not done() and self._continue_as_new_due():
                await workflow.wait_condition(workflow.all_handlers_finished)
                if self._continue_as_new_due():  # else an event slipped in: process it first
                    self._journey.note("continue_as_new", f"run {self._state.runs} hands over")
                    workflow.continue_as_new(self._input.model_copy(update={"state": self._state}))

    def _continue_as_new_due(self) -> bool:
        wanted = (
            workflow.info().is_continue_as_new_suggested()
            or self._intake.this_run >= self._input.continue_as_new_after_events
        )
        quiet = (
            not self._state.pending
            and not self._intake.processing
            and self._stages.running is None
            and not self._escalations.any_running
            and not self._background.busy
            and not self._background.due
            and not self._process_map.busy
        )
        return wanted and quiet

    def _keep_search_attributes(self) -> None:
        account, state = self._input.account, self._state
        renewal = contract_end_at(state.contract_end) if state.contract_end else None
        workflow.upsert_search_attributes(
            sa.journey_attributes(
                account.id,
                account.csm_owner,
                self._journey.segment,
                state.stage.value,
                state.health_score,
                renewal,
            )
        )


def _check_new_journey(input: JourneyInput) -> None:
    """Refuse a first run whose input the edge would refuse (e.g. a JSON input the CLI read):
    a contract dated 0001-01-01 would otherwise stop the journey at its first step, a misspelt
    playbook setting at the first playbook."""
    problems = policy_problems(input.config.playbooks)
    try:
        AccountUpsert.model_validate(input.account.model_dump())
    except ValidationError as exc:
        problems.insert(0, f"account: {describe_errors(exc)}")
    if problems:
        raise ApplicationError(
            f"invalid journey input: {'; '.join(problems)}",
            type="InvalidInput",
            non_retryable=True,
        )


def _requirements_outcome(result: RequirementsResult | None) -> StageOutcome:
    if result is None:
        return StageOutcome(finished_at=workflow.now(), completed=False)
    return StageOutcome(
        finished_at=workflow.now(),
        completed=result.answered,
        reminders_sent=result.reminders_sent,
        escalated=result.escalated,
    )


def _onboarding_outcome(result: OnboardingResult | None) -> StageOutcome:
    if result is None:
        return StageOutcome(finished_at=workflow.now(), completed=False)
    return StageOutcome(
        finished_at=workflow.now(), completed=result.completed, stalled=result.stalled
    )
