"""CustomerJourneyWorkflow: one per account (id `journey-<account id>`), for years.

Started by signal-with-start (or update-with-start) from the first customer event: a trial or a
payment. It runs the lifecycle stages as child workflows (requirements, onboarding, renewal),
opens escalations (tickets, detractor scores) as concurrent children, forwards customer events to
whichever child they concern, keeps the typed search attributes current, and continues-as-new at
quiet points (no child running, nothing queued), carrying its state and absolute deadlines.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any, TypedDict

from pydantic import ValidationError
from temporalio import workflow
from temporalio.common import (
    SearchAttributeUpdate,
    TypedSearchAttributes,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    ChildWorkflowError,
    TemporalError,
    WorkflowAlreadyStartedError,
)

with workflow.unsafe.imports_passed_through():
    from domain.input_checks import ACCEPTED_EARLIER, clean_text, describe_errors, one_line
    from domain.models import (
        AccountSnapshot,
        AccountUpsert,
        AlertSeverity,
        ContactRole,
        ContractOutcomeKind,
        EmailStatus,
        HealthInputs,
        HealthScore,
        LifecycleStage,
        StageChange,
        SurveyAnswer,
        SurveyCategory,
        SurveyKind,
        SurveyResponse,
        TaskPriority,
        TouchpointInput,
        TouchpointKind,
    )
    from workflows import actions
    from workflows import search_attributes as sa
    from workflows.activity_calls import call
    from workflows.campaign import CampaignKind, CampaignMessage
    from workflows.contact_change import ContactChangeInput, ContactChangeWorkflow
    from workflows.contract_dates import contract_end_at, renewal_start
    from workflows.customer_event import (
        ContactChangedPayload,
        ContractRenewedPayload,
        ContractSignedPayload,
        CustomerEvent,
        CustomerEventType,
        EmailBouncedPayload,
        EventAck,
        InvalidCustomerEvent,
        PlanChange,
        PlanChangedPayload,
        StartPayload,
        SurveyAnsweredPayload,
        TicketOpenedPayload,
        TicketResolvedPayload,
        TicketSeverity,
        UsageReportedPayload,
    )
    from workflows.escalation import (
        EscalationInput,
        EscalationResult,
        EscalationSource,
        EscalationWorkflow,
    )
    from workflows.idempotency import step_key
    from workflows.journey_state import (
        CAMPAIGNS_LIMIT,
        HEALTH_HISTORY_LIMIT,
        PLAYBOOKS_LIMIT,
        SEEN_EVENT_IDS_LIMIT,
        TIMELINE_LIMIT,
        EscalationSummary,
        HealthPoint,
        JourneyInput,
        JourneyState,
        JourneyStatus,
        KeptEvent,
        RenewalSummary,
        StageOutcome,
        StageVisit,
        TimelineEntry,
    )
    from workflows.nightly_health import HealthRecompute
    from workflows.nps_outreach import NpsFollowUpInput, NpsFollowUpWorkflow
    from workflows.onboarding import OnboardingInput, OnboardingWorkflow
    from workflows.playbook import (
        PLAYBOOKS_PATCH,
        PlaybookContext,
        PlaybookReport,
        PlaybookSummary,
        PlaybookType,
        SurveyOutcome,
        playbook_id,
    )
    from workflows.renewal import RenewalInput, RenewalWorkflow
    from workflows.requirements import RequirementsGatheringWorkflow, RequirementsInput
    from workflows.support_follow_up import SupportFollowUpInput, SupportFollowUpWorkflow
    from workflows.unresponsive_customer import UnresponsiveCustomerWorkflow, UnresponsiveInput
    from workflows.upgrade_follow_up import UpgradeFollowUpInput, UpgradeFollowUpWorkflow
    from workflows.usage_fluctuation import UsageFluctuationInput, UsageFluctuationWorkflow
    from workflows.usage_trend import observe as observe_usage
    from workflows.work_log import TaskRecord

# An event the journey cannot apply (any exception, not only Temporal failures and invalid
# events) is rejected: noted on the timeline, the CSM alerted, the next event processed.
# Histories recorded before kept the old path, where such an exception stopped the event loop.
REJECT_EVENTS_PATCH = "journey-rejects-unappliable-events-v1"
# New input is checked as such (domain.input_checks: finite numbers, sane dates, no control
# characters): a signalled event that fails goes through the event loop to be rejected, and a
# first run whose account fails ends with a non-retryable InvalidInput. Histories recorded before
# judged their input by the rules of that time.
STRICT_INPUT_PATCH = "journey-strict-input-checks-v1"
# An event for a stage that has not started (a milestone during requirements, answers before the
# payment) is kept and delivered to the stage's child when it starts. Histories recorded before
# acknowledged such events without passing them on.
EARLY_EVENTS_PATCH = "journey-keeps-early-stage-events-v1"
# A stage that needs a contact waits, with one CSM task, while the account has no reachable
# contact (all opted out or removed) instead of failing its workflow task again and again.
# Histories recorded before never reached a stage without one.
CONTACT_WAIT_PATCH = "journey-waits-for-a-reachable-contact-v1"
# How many early events a journey keeps for a stage (the first of each kind counts).
KEPT_EVENTS_LIMIT = 20

# Which running stage child cares about which customer events.
_STAGE_EVENTS: dict[str, set[CustomerEventType]] = {
    "requirements": {CustomerEventType.QUESTIONNAIRE_ANSWERED},
    "onboarding": {CustomerEventType.USAGE_REPORTED},
    "renewal": {
        CustomerEventType.EMAIL_REPLIED,
        CustomerEventType.CONTRACT_RENEWED,
        CustomerEventType.CONTRACT_CANCELLED,
    },
}

# What counts as the customer answering a touch (ends a silence).
_RESPONSES = {
    CustomerEventType.EMAIL_REPLIED,
    CustomerEventType.QUESTIONNAIRE_ANSWERED,
    CustomerEventType.SURVEY_ANSWERED,
}
# Support tickets that also get an SLA escalation (the others: the support follow-up only).
_SLA_SEVERITIES = {TicketSeverity.HIGH, TicketSeverity.URGENT}

_STAGE_CHILD: dict[LifecycleStage, str] = {
    LifecycleStage.REQUIREMENTS: "requirements",
    LifecycleStage.ONBOARDING: "onboarding",
    LifecycleStage.RENEWAL: "renewal",
}


class _ChildLabels(TypedDict):
    search_attributes: TypedSearchAttributes
    static_summary: str


def journey_id(account_id: str) -> str:
    return f"journey-{account_id}"


@workflow.defn
class CustomerJourneyWorkflow:
    @workflow.init
    def __init__(self, input: JourneyInput) -> None:
        # State exists before any handler runs: signal-with-start delivers its signal first.
        self._input = input
        self._state = input.state or JourneyState(started_at=workflow.now())
        self._stage_child: workflow.ChildWorkflowHandle[Any, Any] | None = None
        self._stage_child_kind: str | None = None
        self._escalations: dict[str, workflow.ChildWorkflowHandle[Any, Any]] = {}
        self._processing = False
        self._processed = 0
        self._events_this_run = 0
        self._acks: dict[int, EventAck] = {}
        self._kept_for: str | None = None  # set by _process when it kept the current event
        self._finished = False
        # Work that signals ask for, done between customer events (see _background).
        self._health_request: str | None = None
        self._triggers_due = False
        self._background_busy = False

    # ---- handlers --------------------------------------------------------------------------

    @workflow.signal(name="customer_event")
    def customer_event(self, event: CustomerEvent) -> None:
        """Fire-and-forget form (and the signal of signal-with-start)."""
        try:
            event.parse()
        except InvalidCustomerEvent as exc:
            # A signal cannot be refused: the event loop rejects it (timeline, CSM alert).
            if workflow.patched(STRICT_INPUT_PATCH):
                event.reject(str(exc))
            else:
                try:
                    event.parse(accepted=True)  # the checks this history was recorded with
                except InvalidCustomerEvent as old:
                    workflow.logger.warning("rejected customer event: %s", old)
                    self._note("rejected_event", str(old))
                    return
        self._enqueue(event)

    @workflow.update(name="record_customer_event")
    async def record_customer_event(self, event: CustomerEvent) -> EventAck:
        """Waits until the journey has processed the event, so callers can rely on its effects."""
        sequence = self._enqueue(event)
        if sequence is None:
            return EventAck(
                account_id=event.account_id,
                event_type=event.event_type,
                sequence=self._st.sequence,
                duplicate=True,
                stage=self._st.stage.value,
            )
        await workflow.wait_condition(lambda: sequence in self._acks)
        return self._acks.pop(sequence)

    @record_customer_event.validator
    def validate_customer_event(self, event: CustomerEvent) -> None:
        event.parse()  # InvalidCustomerEvent (a ValueError) carries the readable reason
        if event.account_id != self._in.account.id:
            raise InvalidCustomerEvent(
                f"event for account {event.account_id!r} sent to the journey of "
                f"{self._input.account.id!r}"
            )
        if self._finished:
            raise InvalidCustomerEvent("the journey has ended (the customer churned)")

    @workflow.signal(name="playbook_report")
    def playbook_report(self, message: PlaybookReport) -> None:
        """Progress and outcomes from the playbooks this journey opened."""
        st = self._st
        known = {s.token for s in st.log.surveys}
        st.log.surveys.extend(s for s in message.surveys if s.token not in known)
        st.log.merge(message.log)
        record = next((p for p in st.playbooks if p.playbook_id == message.playbook_id), None)
        if message.finished:
            if record is not None:
                record.open = False
                record.outcome = message.outcome
                record.finished_at = workflow.now()
            self._note("playbook", f"{message.playbook_id} finished: {message.outcome}")
        # The log grew: the silence check may now fire.
        self._triggers_due = True

    @workflow.signal(name="recompute_health")
    def recompute_health(self, request: HealthRecompute) -> None:
        self._health_request = request.reason

    @workflow.signal(name="campaign_message")
    def campaign_message(self, message: CampaignMessage) -> None:
        st = self._st
        if message.campaign_run_id in st.campaigns_seen or any(
            m.campaign_run_id == message.campaign_run_id for m in st.campaign_pending
        ):
            return  # a re-delivered campaign signal: the email went (or goes) out once
        st.campaign_pending.append(message)

    @workflow.query
    def status(self) -> JourneyStatus:
        assert self._input is not None
        st = self._st
        account = self._input.account
        return JourneyStatus(
            account_id=account.id,
            account_name=account.name,
            segment=self._input.config.segment.value,
            csm_owner=account.csm_owner,
            stage=st.stage,
            stages=list(st.stages),
            contract_end=st.contract_end,
            renewal_starts_at=st.renewal_starts_at,
            next_nps_at=st.next_nps_at,
            health_score=st.health_score,
            emails_sent=len(st.log.emails),
            surveys=list(st.log.surveys),
            open_tasks=st.log.open_tasks(),
            tasks_created=len(st.log.tasks),
            alerts=len(st.log.alerts),
            escalations=list(st.escalations),
            renewals=list(st.renewals),
            requirements=st.requirements,
            onboarding=st.onboarding,
            events_processed=st.sequence,
            events_rejected=st.events_rejected,
            runs=st.runs,
            finished=self._finished,
            segment_key=st.segment_key,
            health_band=st.health_band,
            health_history=list(st.health_history),
            playbooks=list(st.playbooks),
            campaigns=list(st.campaigns_seen),
        )

    @workflow.query
    def timeline(self) -> list[TimelineEntry]:
        return list(self._st.timeline)

    @workflow.query
    def open_tasks(self) -> list[TaskRecord]:
        return self._st.log.open_tasks()

    # ---- main --------------------------------------------------------------------------------

    @workflow.run
    async def run(self, input: JourneyInput) -> JourneyStatus:
        first_run = input.state is None
        if not first_run:
            self._st.runs += 1
        if first_run:
            self._check_new_account(input.account)
            await call("upsert_account", _for_crm(input.account), AccountSnapshot)
            self._set_contract_from_upsert(input.account)
            self._st.stages.append(StageVisit(stage=self._st.stage, entered_at=workflow.now()))
        self._upsert_search_attributes()

        pump = asyncio.create_task(self._pump())
        background = asyncio.create_task(self._background())
        await self._lifecycle()
        # Finish what callers already handed us; the validator refuses anything newer.
        await workflow.wait_condition(lambda: not self._st.pending and not self._processing)
        self._finished = True
        await workflow.wait_condition(workflow.all_handlers_finished)
        pump.cancel()
        background.cancel()
        return self.status()

    @staticmethod
    def _check_new_account(account: AccountUpsert) -> None:
        """Refuse a first run whose account the edge would refuse (e.g. a JSON input the CLI
        read): a contract dated 0001-01-01 would otherwise stop the journey at its first step."""
        try:
            AccountUpsert.model_validate(account.model_dump())
        except ValidationError as exc:
            if workflow.patched(STRICT_INPUT_PATCH):
                raise ApplicationError(
                    f"invalid journey input: account: {describe_errors(exc)}",
                    type="InvalidInput",
                    non_retryable=True,
                ) from None

    @property
    def _st(self) -> JourneyState:
        assert self._state is not None
        return self._state

    @property
    def _in(self) -> JourneyInput:
        assert self._input is not None
        return self._input

    async def _lifecycle(self) -> None:
        st = self._st
        if not st.paid:
            await self._idle(lambda: st.paid)
        if st.requirements is None:
            await self._enter(LifecycleStage.REQUIREMENTS, "payment received")
            await self._run_requirements()
        if st.onboarding is None:
            await self._enter(LifecycleStage.ONBOARDING, "requirements gathered")
            await self._run_onboarding()
            await self._enter(LifecycleStage.ADOPTION, "onboarding finished")
            st.next_nps_at = workflow.now() + self._in.config.surveys.first_nps_after

        while st.stage != LifecycleStage.CHURNED:
            deadlines = [d for d in (st.renewal_starts_at, st.next_nps_at) if d is not None]
            await self._idle(lambda: False, until=min(deadlines) if deadlines else None)
            now = workflow.now()
            if st.next_nps_at is not None and st.next_nps_at <= now:
                await self._send_nps()
            if st.renewal_starts_at is not None and st.renewal_starts_at <= now:
                await self._run_renewal()

    async def _idle(self, done: Any, until: Any = None) -> None:
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
                await self._continue_as_new()

    def _continue_as_new_due(self) -> bool:
        wanted = (
            workflow.info().is_continue_as_new_suggested()
            or self._events_this_run >= self._in.continue_as_new_after_events
        )
        quiet = (
            not self._st.pending
            and not self._processing
            and self._stage_child is None
            and not self._escalations
            and not self._background_busy
            and self._health_request is None
            and not self._st.campaign_pending
            and not self._triggers_due
        )
        return wanted and quiet

    async def _continue_as_new(self) -> None:
        await workflow.wait_condition(workflow.all_handlers_finished)
        if not self._continue_as_new_due():
            return  # an event slipped in while handlers finished; process it first
        self._note("continue_as_new", f"run {self._st.runs} hands over")
        workflow.continue_as_new(self._in.model_copy(update={"state": self._st}))

    # ---- stages ------------------------------------------------------------------------------

    async def _enter(self, stage: LifecycleStage, reason: str) -> None:
        st = self._st
        if st.stage == stage:
            return
        st.stage = stage
        st.stages.append(StageVisit(stage=stage, entered_at=workflow.now()))
        self._note("stage", f"{stage.value}: {reason}")
        workflow.upsert_search_attributes([sa.LIFECYCLE_STAGE.value_set(stage.value)])
        await call(
            "set_lifecycle_stage",
            StageChange(
                account_id=self._in.account.id,
                stage=stage,
                reason=reason,
                workflow_id=workflow.info().workflow_id,
                step=f"stage:{stage.value}:{len(st.stages)}",
            ),
        )

    async def _run_requirements(self) -> None:
        await self._await_reachable_contact("requirements gathering")
        account = self._in.account
        handle = await workflow.start_child_workflow(
            RequirementsGatheringWorkflow.run,
            RequirementsInput(
                account_id=account.id,
                csm_owner=account.csm_owner,
                contact_id=self._in.contact_for(ContactRole.CHAMPION),
                config=self._in.config,
            ),
            id=f"requirements-{account.id}",
            **self._family("requirements gathering"),
        )
        await self._deliver_kept("requirements", handle)
        result = await self._await_stage_child("requirements", handle)
        if result is None:
            self._st.requirements = StageOutcome(finished_at=workflow.now(), completed=False)
            return
        self._st.log.merge(result.log)
        self._log_grew()
        self._st.requirements = StageOutcome(
            finished_at=workflow.now(),
            completed=result.answered,
            reminders_sent=result.reminders_sent,
            escalated=result.escalated,
        )

    async def _run_onboarding(self) -> None:
        await self._await_reachable_contact("onboarding")
        account = self._in.account
        handle = await workflow.start_child_workflow(
            OnboardingWorkflow.run,
            OnboardingInput(
                account_id=account.id,
                csm_owner=account.csm_owner,
                contact_id=self._in.contact_for(ContactRole.CHAMPION),
                config=self._in.config,
            ),
            id=f"onboarding-{account.id}",
            **self._family("onboarding"),
        )
        await self._deliver_kept("onboarding", handle)
        result = await self._await_stage_child("onboarding", handle)
        if result is None:
            self._st.onboarding = StageOutcome(finished_at=workflow.now(), completed=False)
            return
        self._st.log.merge(result.log)
        self._log_grew()
        self._st.onboarding = StageOutcome(
            finished_at=workflow.now(), completed=result.completed, stalled=result.stalled
        )

    async def _await_reachable_contact(self, what: str) -> None:
        """Hold `what` until the account has a contact csflow may write to, with one task for
        the CSM to add one (a `contact_changed` event brings it)."""
        if self._in.has_reachable_contact() or not workflow.patched(CONTACT_WAIT_PATCH):
            return
        account = self._in.account
        self._note("contact", f"{what} waits: no reachable contact")
        await actions.create_task(
            self._st.log,
            account_id=account.id,
            owner=account.csm_owner,
            title=f"Add a reachable contact for {account.name}",
            description=(
                f"Every contact of {account.name} has opted out or left, so {what} cannot start."
                " Add a contact who may be written to; the journey carries on by itself."
            ),
            step=f"no-contact:{what}:{len(self._st.log.tasks)}",
            priority=TaskPriority.HIGH,
        )
        await self._idle(self._in.has_reachable_contact)

    async def _run_renewal(self) -> None:
        st = self._st
        assert st.contract_end is not None
        await self._enter(LifecycleStage.RENEWAL, f"contract ends {st.contract_end.isoformat()}")
        await self._await_reachable_contact("the renewal")
        account = self._in.account
        summary = RenewalSummary(contract_end=st.contract_end, started_at=workflow.now())
        st.renewals.append(summary)
        handle = await workflow.start_child_workflow(
            RenewalWorkflow.run,
            RenewalInput(
                account_id=account.id,
                csm_owner=account.csm_owner,
                csm_manager=self._in.team_member("cs_manager"),
                decision_maker_contact_id=self._in.contact_for(
                    ContactRole.DECISION_MAKER, ContactRole.CHAMPION
                ),
                contract_end=st.contract_end,
                contract_value=st.contract_value,
                auto_renew=st.auto_renew,
                config=self._in.config,
                cancel_requested=st.cancel_requested,
            ),
            id=f"renewal-{account.id}-{st.contract_end.isoformat()}",
            **self._family(f"renewal of the contract ending {st.contract_end:%d %b %Y}"),
        )
        result = await self._await_stage_child("renewal", handle)
        if result is None:
            # The CSM takes over this renewal by hand; no automatic deadline remains.
            st.renewal_starts_at = None
            await self._enter(LifecycleStage.ADOPTION, "renewal workflow failed")
            return
        st.log.merge(result.log)
        self._log_grew()
        summary.outcome = result.outcome
        summary.new_end_date = result.new_end_date
        summary.responded = result.responded
        summary.outreach_sent = result.outreach_sent
        summary.escalated_to_manager = result.escalated_to_manager
        self._note("renewal", f"outcome {result.outcome.value}")
        if result.outcome == ContractOutcomeKind.CHURNED or result.new_end_date is None:
            st.renewal_starts_at = None
            st.next_nps_at = None
            await self._enter(LifecycleStage.CHURNED, "contract not renewed")
            return
        self._set_contract_end(result.new_end_date)
        st.cancel_requested = False
        await self._enter(LifecycleStage.ADOPTION, f"contract {result.outcome.value}")

    async def _await_stage_child(
        self, kind: str, handle: workflow.ChildWorkflowHandle[Any, Any]
    ) -> Any:
        self._stage_child, self._stage_child_kind = handle, kind
        try:
            return await handle
        except ChildWorkflowError as exc:
            # A failed stage must not end a years-long journey: note it and move on.
            self._note("stage_failed", f"{kind}: {exc.cause or exc}")
            return None
        finally:
            self._stage_child, self._stage_child_kind = None, None

    async def _send_nps(self) -> None:
        await self._await_reachable_contact("the NPS survey")
        st = self._st
        st.nps_sent += 1
        assert st.next_nps_at is not None
        st.next_nps_at = st.next_nps_at + self._in.config.surveys.nps_every
        try:
            survey = await actions.send_survey(
                st.log,
                account_id=self._in.account.id,
                contact_id=self._in.contact_for(ContactRole.CHAMPION),
                kind=SurveyKind.NPS,
                topic="relationship",
                template=self._in.config.surveys.survey_template,
                step=f"nps:{st.nps_sent}",
                owner=self._in.account.csm_owner,
            )
        except ActivityError as exc:
            if not workflow.patched(actions.PERMANENT_FAILURE_PATCH):
                raise  # recorded before: a survey the CRM refused failed the journey
            self._note("survey_failed", f"NPS survey #{st.nps_sent}: {exc.cause or exc}")
            await actions.failed_step_task(
                st.log,
                account_id=self._in.account.id,
                owner=self._in.account.csm_owner,
                title=f"NPS survey #{st.nps_sent} could not be created",
                reason=str(exc.cause or exc),
                step=f"nps:{st.nps_sent}:failed",
            )
            return
        self._note("survey", f"NPS survey #{st.nps_sent} sent")
        if self._playbooks_on():
            await self._open_playbook(
                PlaybookType.NPS,
                f"round-{st.nps_sent}",
                f"NPS round {st.nps_sent}: reminder, promoter ask, detractor escalation",
                NpsFollowUpWorkflow.run,
                NpsFollowUpInput(
                    context=self._playbook_context(),
                    survey_token=survey.token,
                    survey_link=survey.link,
                    round=st.nps_sent,
                ),
            )
            self._log_grew()

    # ---- events ------------------------------------------------------------------------------

    def _enqueue(self, event: CustomerEvent) -> int | None:
        """Queue an event; None when its event_id was seen before (a re-send)."""
        st = self._st
        if event.event_id is not None:
            if event.event_id in st.seen_event_ids:
                return None
            st.seen_event_ids = [*st.seen_event_ids, event.event_id][-SEEN_EVENT_IDS_LIMIT:]
        st.pending.append(event)
        return self._processed + len(st.pending)

    async def _pump(self) -> None:
        st = self._st
        while True:
            await workflow.wait_condition(lambda: bool(st.pending) and not self._background_busy)
            event = st.pending[0]
            self._processing = True
            forwarded: str | None = None
            rejected: str | None = None
            self._kept_for = None
            try:
                try:
                    forwarded = await self._process(event)
                except (TemporalError, InvalidCustomerEvent) as exc:
                    if workflow.patched(REJECT_EVENTS_PATCH):
                        rejected = await self._reject(event, exc)
                    else:
                        # One bad event must not stop the journey: note it and go on.
                        workflow.logger.warning("customer event %s failed: %s", event.type, exc)
                        self._note("event_failed", f"{event.type}: {exc}")
                except Exception as exc:
                    if not workflow.patched(REJECT_EVENTS_PATCH):
                        raise  # recorded before the patch: this stopped the event loop
                    rejected = await self._reject(event, exc)
            finally:
                st.pending.pop(0)
                self._processing = False
            st.sequence += 1
            self._events_this_run += 1
            self._processed += 1
            try:
                event_type = event.event_type
            except InvalidCustomerEvent:
                continue  # an unknown type arrives by signal only: no caller waits for an ack
            self._acks[self._processed] = EventAck(
                account_id=event.account_id,
                event_type=event_type,
                sequence=st.sequence,
                stage=st.stage.value,
                forwarded_to=forwarded,
                kept_for=self._kept_for,
                rejected=rejected,
            )
            # Signals have no waiter; keep only acks an update can still collect.
            for stale in [k for k in self._acks if k < self._processed - 1000]:
                del self._acks[stale]

    async def _reject(self, event: CustomerEvent, exc: BaseException) -> str:
        """Record an event the journey could not apply and tell the CSM, once per event."""
        st = self._st
        reason = _failure_reason(exc)
        workflow.logger.warning("customer event %s rejected: %s", event.type, reason)
        self._note("rejected_event", f"{one_line(event.type, 64)}: {reason}")
        st.events_rejected += 1
        account = self._in.account
        try:
            await actions.alert(
                st.log,
                account_id=account.id,
                owner=account.csm_owner,
                subject=f"Customer event not applied: {one_line(event.type, 64)}",
                message=(
                    f"The journey of {account.name} could not apply a {one_line(event.type, 64)} "
                    f"event{f' ({one_line(event.event_id, 128)})' if event.event_id else ''} "
                    f"and went on without it.\n\nReason: {reason}\n\n"
                    f"Event: {one_line(self._describe(event), 1500)}"
                ),
                # The event's own number: one alert per rejected event, across retries and runs.
                step=f"rejected-event:{st.sequence + 1}",
                severity=AlertSeverity.WARNING,
            )
        except TemporalError as alert_failure:
            workflow.logger.warning("rejection alert failed: %s", alert_failure)
            self._note("alert_failed", f"rejected {one_line(event.type, 64)}: {alert_failure}")
        return reason

    async def _process(self, event: CustomerEvent) -> str | None:
        st = self._st
        if event.rejection is not None:
            raise InvalidCustomerEvent(event.rejection)
        kind = event.event_type
        # Checked as new input when it arrived (validator, signal handler): re-read, not re-judged.
        payload = event.parse(accepted=True)
        self._note(kind.value, self._describe(event))
        if kind in (CustomerEventType.TRIAL_STARTED, CustomerEventType.PAYMENT_RECEIVED):
            assert isinstance(payload, StartPayload)
            if payload.contract is not None:
                self._set_contract(payload.contract)
            if kind == CustomerEventType.PAYMENT_RECEIVED:
                st.paid = True
        elif kind == CustomerEventType.CONTRACT_SIGNED:
            assert isinstance(payload, ContractSignedPayload)
            self._set_contract(payload.contract)
            st.paid = True
        elif kind == CustomerEventType.SURVEY_ANSWERED:
            assert isinstance(payload, SurveyAnsweredPayload)
            await self._record_survey(event, payload)
        elif kind == CustomerEventType.TICKET_OPENED and self._playbooks_on():
            assert isinstance(payload, TicketOpenedPayload)
            await self._ticket_playbook(event, payload)
        elif kind == CustomerEventType.TICKET_OPENED:
            assert isinstance(payload, TicketOpenedPayload)
            await self._open_escalation(
                EscalationSource.TICKET,
                f"escalation-{event.account_id}-ticket-{payload.ticket_id}",
                payload.subject,
                payload.severity,
                ticket_id=payload.ticket_id,
            )
        elif kind == CustomerEventType.TICKET_RESOLVED:
            assert isinstance(payload, TicketResolvedPayload)
            if self._playbooks_on():
                await self._forward(
                    PlaybookType.SUPPORT, "customer_event", event, situation=payload.ticket_id
                )
            for summary in st.escalations:
                handle = self._escalations.get(summary.escalation_id)
                if summary.ticket_id == payload.ticket_id and handle is not None:
                    await handle.signal("customer_event", event)
                    return summary.escalation_id
        elif kind == CustomerEventType.USAGE_REPORTED:
            assert isinstance(payload, UsageReportedPayload)
            st.usage.active_users = payload.active_users
            st.usage.licensed_seats = payload.licensed_seats
            st.usage.feature_adoption = payload.feature_adoption
            await self._refresh_health()
            if self._playbooks_on():
                await self._usage_playbooks(payload)
        elif kind == CustomerEventType.EMAIL_BOUNCED:
            assert isinstance(payload, EmailBouncedPayload)
            st.bounced.append(payload.email)
            await actions.create_task(
                st.log,
                account_id=event.account_id,
                owner=self._in.account.csm_owner,
                title=f"Email to {payload.email} bounced: find a working contact",
                step=f"bounce:{st.sequence + 1}",
                priority=TaskPriority.HIGH,
            )
        elif kind == CustomerEventType.CONTACT_CHANGED:
            assert isinstance(payload, ContactChangedPayload)
            if self._playbooks_on():
                await self._contact_playbook(payload)
            else:
                await self._change_contact(payload)
        elif kind == CustomerEventType.PLAN_CHANGED:
            # New event type: only journeys that run playbook code ever see it.
            assert isinstance(payload, PlanChangedPayload)
            await self._plan_changed(payload)
        elif kind == CustomerEventType.CONTRACT_RENEWED and self._stage_child_kind != "renewal":
            assert isinstance(payload, ContractRenewedPayload)
            self._set_contract_end(payload.new_end_date)
        elif kind == CustomerEventType.CONTRACT_CANCELLED and self._stage_child_kind != "renewal":
            st.cancel_requested = True
        if self._playbooks_on():
            if kind in _RESPONSES:
                await self._responded(event)
            self._log_grew()

        ahead = self._stage_ahead(kind, payload)
        if ahead is not None and workflow.patched(EARLY_EVENTS_PATCH):
            self._keep(ahead, event)
            return None
        stage_kind = _STAGE_CHILD.get(st.stage)
        if stage_kind is not None and kind in _STAGE_EVENTS[stage_kind]:
            # The stage is entered just before its child starts: hand the event over once it has.
            await workflow.wait_condition(
                lambda: (
                    self._stage_child_kind == stage_kind or _STAGE_CHILD.get(st.stage) != stage_kind
                )
            )
        if self._stage_child is not None and self._stage_child_kind is not None:
            if kind in _STAGE_EVENTS[self._stage_child_kind]:
                await self._stage_child.signal("customer_event", event)
                return self._stage_child.id
        if kind == CustomerEventType.EMAIL_REPLIED:
            await call(
                "append_touchpoint",
                TouchpointInput(
                    account_id=event.account_id,
                    kind=TouchpointKind.NOTE,
                    summary=self._describe(event),
                    workflow_id=workflow.info().workflow_id,
                    step=f"event:{st.sequence + 1}",
                    occurred_at=event.occurred_at or workflow.now(),
                    idempotency_key=step_key(workflow.info().workflow_id, "event", st.sequence + 1),
                ),
            )
        return None

    def _stage_ahead(self, kind: CustomerEventType, payload: Any) -> str | None:
        """The stage child this event is for when that stage has not started yet, else None."""
        st = self._st
        if (
            kind == CustomerEventType.QUESTIONNAIRE_ANSWERED
            and st.requirements is None
            and st.stage == LifecycleStage.TRIAL
        ):
            return "requirements"
        if (
            kind == CustomerEventType.USAGE_REPORTED
            and isinstance(payload, UsageReportedPayload)
            and payload.milestone is not None
            and st.onboarding is None
            and st.stage in (LifecycleStage.TRIAL, LifecycleStage.REQUIREMENTS)
        ):
            return "onboarding"
        return None

    def _keep(self, stage: str, event: CustomerEvent) -> None:
        """Hold `event` for `stage`; only its first event of a kind (a milestone: of a value)."""
        st = self._st
        self._kept_for = stage
        same = [k for k in st.kept_events if k.stage == stage and _same_kind(k.event, event)]
        if same or len([k for k in st.kept_events if k.stage == stage]) >= KEPT_EVENTS_LIMIT:
            self._note("kept_event", f"{self._describe(event)}: already kept for {stage}")
            return
        st.kept_events.append(KeptEvent(stage=stage, event=event, kept_at=workflow.now()))
        self._note("kept_event", f"{self._describe(event)}: kept until {stage} starts")

    async def _deliver_kept(
        self, stage: str, handle: workflow.ChildWorkflowHandle[Any, Any]
    ) -> None:
        """Hand the events kept for `stage` to its child, which has just started."""
        st = self._st
        kept = [k for k in st.kept_events if k.stage == stage]
        if not kept or not workflow.patched(EARLY_EVENTS_PATCH):
            return
        st.kept_events = [k for k in st.kept_events if k.stage != stage]
        for item in kept:
            try:
                await handle.signal("customer_event", item.event)
            except TemporalError as exc:
                self._note("kept_event", f"{item.event.type} not delivered to {stage}: {exc}")
                continue
            self._note(
                "kept_event",
                f"{self._describe(item.event)} (kept since {item.kept_at:%Y-%m-%d %H:%M}) "
                f"delivered to {stage}",
            )

    async def _record_survey(self, event: CustomerEvent, payload: SurveyAnsweredPayload) -> None:
        st = self._st
        answer = SurveyAnswer.model_validate(
            # Cleaned: an answer accepted before the checks existed still reaches the activity.
            {
                "token": payload.token,
                "score": payload.score,
                "comment": clean_text(payload.comment),
            },
            context=ACCEPTED_EARLIER,
        )
        response = await call("record_survey_response", answer, SurveyResponse)
        for record in st.log.surveys:
            if record.token == payload.token:
                record.score = response.score
                record.category = response.category.value
        if response.kind == SurveyKind.NPS:
            st.latest_nps = response.score
        else:
            st.latest_csat = response.score
        await self._refresh_health()
        if self._playbooks_on():
            outcome = SurveyOutcome(
                token=response.token,
                kind=response.kind,
                score=response.score,
                category=response.category,
            )
            for kind in (PlaybookType.SUPPORT, PlaybookType.NPS):
                await self._forward(kind, "survey_outcome", outcome)
        if response.category == SurveyCategory.DETRACTOR:
            await self._open_escalation(
                EscalationSource.DETRACTOR,
                f"escalation-{event.account_id}-nps-{response.survey_id}",
                f"NPS detractor: scored {response.score}"
                + (f" ({response.comment})" if response.comment else ""),
                TicketSeverity.HIGH,
            )

    async def _open_escalation(
        self,
        source: EscalationSource,
        escalation_id: str,
        summary: str,
        severity: TicketSeverity,
        ticket_id: str | None = None,
        follow_up_csat: bool = True,
    ) -> None:
        st = self._st
        if any(e.escalation_id == escalation_id for e in st.escalations):
            return  # the same ticket or survey cannot open two escalations
        account = self._in.account
        record = EscalationSummary(
            escalation_id=escalation_id,
            source=source.value,
            summary=summary,
            opened_at=workflow.now(),
            ticket_id=ticket_id,
        )
        st.escalations.append(record)
        handle = await workflow.start_child_workflow(
            EscalationWorkflow.run,
            EscalationInput(
                escalation_id=escalation_id,
                account_id=account.id,
                contact_id=self._in.contact_for(ContactRole.CHAMPION),
                source=source,
                severity=severity,
                summary=summary,
                chain=self._in.escalation_chain(),
                config=self._in.config,
                ticket_id=ticket_id,
                follow_up_csat=follow_up_csat,
            ),
            id=escalation_id,
            **self._family(f"escalation: {summary}"),
            # An escalation runs its SLAs to the end even if the journey closes first.
            parent_close_policy=workflow.ParentClosePolicy.ABANDON,
        )
        self._escalations[escalation_id] = handle
        self._note("escalation", f"opened {escalation_id}: {summary}")

        async def watch() -> None:
            try:
                result: EscalationResult = await handle
                st.log.merge(result.log)
                self._log_grew()
                record.level = result.level
                record.missed_slas = [m.sla for m in result.missed_slas]
                record.resolved_at = result.resolved_at
                self._note("escalation", f"closed {escalation_id} at level {result.level}")
            except ChildWorkflowError as exc:
                self._note("escalation", f"{escalation_id} ended without resolution: {exc}")
            finally:
                record.open = False
                self._escalations.pop(escalation_id, None)

        asyncio.create_task(watch())

    async def _refresh_health(self, reason: str = "event") -> None:
        st = self._st
        now = workflow.now()
        days_to_renewal = None
        if st.contract_end is not None:
            days_to_renewal = (contract_end_at(st.contract_end) - now).days
        workflow_id = workflow.info().workflow_id
        if reason == "event":
            key = step_key(workflow_id, "health", st.sequence + 1)
        else:
            # Recomputes between events need keys of their own.
            st.health_recomputes += 1
            key = step_key(workflow_id, f"health:{reason}", st.health_recomputes)
        recent = now - timedelta(days=90)
        health = await call(
            "compute_health_score",
            HealthInputs(
                account_id=self._in.account.id,
                licensed_seats=st.usage.licensed_seats,
                active_users=st.usage.active_users,
                feature_adoption=st.usage.feature_adoption,
                open_escalations=len([e for e in st.escalations if e.open]),
                latest_nps=st.latest_nps,
                latest_csat=st.latest_csat,
                days_to_renewal=days_to_renewal,
                auto_renew=st.auto_renew,
                outreach_sent_90d=len([e for e in st.log.emails if e.at >= recent]) or None,
                outreach_replied_90d=len([r for r in st.replies if r >= recent]) or None,
                lifecycle_stage=st.stage,
                now=now,
                workflow_id=workflow_id,
                idempotency_key=key,
            ),
            HealthScore,
        )
        st.health_score = health.score
        updates: list[SearchAttributeUpdate[Any]] = [sa.HEALTH_SCORE.value_set(health.score)]
        if self._playbooks_on():
            st.health_band = health.band.value
            if health.segment is not None:
                if health.segment != st.segment_key:
                    self._note("segment", f"{st.segment_key or '-'} -> {health.segment}")
                st.segment_key = health.segment
                updates.append(sa.SEGMENT.value_set(health.segment))
            st.health_history.append(
                HealthPoint(
                    at=now,
                    score=health.score,
                    band=health.band.value,
                    segment=st.segment_key,
                    reason=reason,
                )
            )
            del st.health_history[:-HEALTH_HISTORY_LIMIT]
        workflow.upsert_search_attributes(updates)

    async def _change_contact(self, payload: ContactChangedPayload) -> None:
        account = self._in.account
        contacts = [c for c in account.contacts if c.id != payload.contact.id]
        contacts.append(payload.contact)
        updated = account.model_copy(update={"contacts": contacts})
        await call("upsert_account", _for_crm(updated), AccountSnapshot)
        self._in.account = updated

    # ---- playbooks ---------------------------------------------------------------------------

    def _playbooks_on(self) -> bool:
        # Memoised per run: a journey replaying a pre-playbook history stays on the old path.
        return workflow.patched(PLAYBOOKS_PATCH)

    def _log_grew(self) -> None:
        if self._playbooks_on():
            self._triggers_due = True

    def _playbook_context(self, contact_id: str | None = None) -> PlaybookContext:
        return PlaybookContext(
            account_id=self._in.account.id,
            journey_id=workflow.info().workflow_id,
            csm_owner=self._in.account.csm_owner,
            contact_id=(
                contact_id if contact_id is not None else self._in.contact_for(ContactRole.CHAMPION)
            ),
            task_priority=self._in.config.csm_task_priority,
            policy=self._in.playbook_policy(),
        )

    async def _open_playbook(
        self, kind: PlaybookType, situation: str, summary: str, run: Any, arg: Any
    ) -> bool:
        """Start the playbook for this situation unless one was opened for it before."""
        st = self._st
        pid = playbook_id(kind, self._in.account.id, situation)
        if any(p.playbook_id == pid for p in st.playbooks):
            self._note("playbook", f"{pid} already opened; not again")
            return False
        record = PlaybookSummary(
            playbook_id=pid,
            kind=kind,
            situation=situation,
            summary=summary,
            opened_at=workflow.now(),
        )
        st.playbooks.append(record)
        closed = [p for p in st.playbooks if not p.open]
        if len(st.playbooks) > PLAYBOOKS_LIMIT and closed:
            st.playbooks.remove(closed[0])
        try:
            await workflow.start_child_workflow(
                run,
                arg,
                id=pid,
                **self._family(f"{kind.value} playbook: {summary}"),
                # The server remembers every situation, beyond the records kept here.
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                # A playbook finishes its sequence even if the journey continues-as-new or ends.
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
            )
        except WorkflowAlreadyStartedError:
            record.open = False
            record.outcome = "already opened earlier"
            self._note("playbook", f"{pid} already exists; not again")
            return False
        self._note("playbook", f"opened {pid}: {summary}")
        return True

    async def _forward(
        self, kind: PlaybookType, signal: str, arg: Any, situation: str | None = None
    ) -> None:
        for record in [p for p in self._st.playbooks if p.kind == kind and p.open]:
            if situation is not None and record.situation != situation:
                continue
            try:
                await workflow.get_external_workflow_handle(record.playbook_id).signal(signal, arg)
            except TemporalError as exc:
                # It finished just now; its final report is on the way.
                workflow.logger.info("playbook %s gone: %s", record.playbook_id, exc)

    async def _ticket_playbook(self, event: CustomerEvent, payload: TicketOpenedPayload) -> None:
        account = self._in.account
        if payload.severity in _SLA_SEVERITIES:
            await self._open_escalation(
                EscalationSource.TICKET,
                f"escalation-{event.account_id}-ticket-{payload.ticket_id}",
                payload.subject,
                payload.severity,
                ticket_id=payload.ticket_id,
                follow_up_csat=False,
            )
        await self._open_playbook(
            PlaybookType.SUPPORT,
            payload.ticket_id,
            f"ticket {payload.ticket_id} ({payload.severity.value}): {payload.subject}",
            SupportFollowUpWorkflow.run,
            SupportFollowUpInput(
                context=self._playbook_context(),
                ticket_id=payload.ticket_id,
                subject=payload.subject,
                severity=payload.severity,
                config=self._in.config,
                chain=self._in.escalation_chain() or [account.csm_owner],
            ),
        )

    async def _usage_playbooks(self, payload: UsageReportedPayload) -> None:
        st = self._st
        if payload.milestone is not None and payload.milestone.value not in st.milestones:
            st.milestones.append(payload.milestone.value)
            # Reaching a milestone is the customer acting on what we sent.
            st.last_response_at = workflow.now()
        signal = observe_usage(
            st.usage_trend, workflow.now(), payload.active_users, self._in.playbook_policy()
        )
        if signal is None:
            return
        change = (signal.current - signal.baseline) / signal.baseline if signal.baseline else 0
        await self._open_playbook(
            PlaybookType.USAGE,
            signal.situation,
            f"usage {signal.shift.value} {change:+.0%} "
            f"({signal.current} vs {signal.baseline:.0f} active users)",
            UsageFluctuationWorkflow.run,
            UsageFluctuationInput(
                context=self._playbook_context(),
                shift=signal.shift,
                baseline=signal.baseline,
                current=signal.current,
                sales_owner=self._in.sales_owner,
            ),
        )

    async def _responded(self, event: CustomerEvent) -> None:
        st = self._st
        now = workflow.now()
        st.last_response_at = now
        if event.event_type == CustomerEventType.EMAIL_REPLIED:
            st.replies = [r for r in st.replies if r >= now - timedelta(days=90)] + [now]
        if st.silence_playbook_open:
            st.silence_playbook_open = False
            await self._forward(PlaybookType.UNRESPONSIVE, "customer_event", event)

    async def _check_silence(self) -> None:
        """Open the re-engagement playbook after N touches in a row went unanswered."""
        st = self._st
        if st.silence_playbook_open or st.stage == LifecycleStage.CHURNED:
            return
        since = st.last_response_at or st.started_at
        touches = [
            e
            for e in st.log.emails
            if e.at > since and e.status in (EmailStatus.SENT, EmailStatus.OUTBOXED)
        ]
        needed = self._in.playbook_policy().unresponsive_after_touches
        if len(touches) < needed:
            return
        st.silence += 1
        st.silence_playbook_open = True
        await self._open_playbook(
            PlaybookType.UNRESPONSIVE,
            f"silence-{st.silence}",
            f"no response to {len(touches)} touches since {since:%Y-%m-%d}",
            UnresponsiveCustomerWorkflow.run,
            UnresponsiveInput(
                context=self._playbook_context(),
                unanswered_touches=len(touches),
                milestones=list(st.milestones),
            ),
        )

    async def _contact_playbook(self, payload: ContactChangedPayload) -> None:
        before = self._in.account.contacts
        champion = next(
            (c for c in before if c.role == ContactRole.CHAMPION and not c.opted_out), None
        )
        contact = payload.contact
        if payload.left:
            contact = contact.model_copy(update={"opted_out": True})
            payload = payload.model_copy(update={"contact": contact})
        await self._change_contact(payload)
        if champion is None:
            return
        left = champion.id == contact.id and (
            payload.left or contact.opted_out or contact.role != ContactRole.CHAMPION
        )
        replaced = champion.id != contact.id and contact.role == ContactRole.CHAMPION
        if not (left or replaced):
            return
        reachable = [c for c in self._in.account.contacts if not c.opted_out]
        new = (
            contact
            if replaced
            else next((c for c in reachable if c.role == ContactRole.DECISION_MAKER), None)
        )
        await self._open_playbook(
            PlaybookType.CONTACT,
            f"{champion.id}-{new.id if new else 'none'}",
            f"champion {champion.name} {'replaced' if replaced else 'left'}"
            + (f"; new contact {new.name}" if new else ""),
            ContactChangeWorkflow.run,
            ContactChangeInput(
                context=self._playbook_context(contact_id=new.id if new else ""),
                previous_champion=champion.name,
                new_contact_name=new.name if new else None,
                champion_left=not replaced,
            ),
        )

    async def _plan_changed(self, payload: PlanChangedPayload) -> None:
        account = self._in.account
        previous = payload.previous_plan or account.plan
        updated = account.model_copy(update={"plan": payload.plan})
        await call("upsert_account", _for_crm(updated), AccountSnapshot)
        self._in.account = updated
        if payload.change == PlanChange.DOWNGRADE:
            await actions.alert(
                self._st.log,
                account_id=account.id,
                owner=account.csm_owner,
                subject=f"Plan downgraded: {previous} -> {payload.plan}",
                step=f"downgrade:{self._st.sequence + 1}",
                severity=AlertSeverity.WARNING,
            )
            return
        await self._open_playbook(
            PlaybookType.UPGRADE,
            payload.plan,
            f"{payload.change.value}: {previous} -> {payload.plan}",
            UpgradeFollowUpWorkflow.run,
            UpgradeFollowUpInput(
                context=self._playbook_context(),
                plan=payload.plan,
                previous_plan=previous,
                new_features=list(payload.new_features),
            ),
        )

    # ---- background work (signals that need activities) --------------------------------------

    async def _background(self) -> None:
        """Health recomputes, campaign emails and the silence check, between customer events."""
        st = self._st
        while True:
            await workflow.wait_condition(
                lambda: (
                    (
                        self._health_request is not None
                        or bool(st.campaign_pending)
                        or self._triggers_due
                    )
                    and not self._processing
                )
            )
            self._background_busy = True
            try:
                if self._health_request is not None:
                    reason, self._health_request = self._health_request, None
                    await self._refresh_health(reason)
                while st.campaign_pending:
                    await self._campaign(st.campaign_pending[0])
                    st.campaign_pending.pop(0)
                if self._triggers_due:
                    self._triggers_due = False
                    await self._check_silence()
            except TemporalError as exc:
                workflow.logger.warning("background work failed: %s", exc)
                self._note("background_failed", str(exc))
                st.campaign_pending.clear()
            except Exception as exc:
                if not workflow.patched(REJECT_EVENTS_PATCH):
                    raise  # recorded before the patch: this stopped the background loop
                workflow.logger.warning("background work failed: %s", exc)
                self._note("background_failed", _failure_reason(exc))
                st.campaign_pending.clear()
            finally:
                self._background_busy = False

    async def _campaign(self, message: CampaignMessage) -> None:
        st = self._st
        st.campaigns_seen = [*st.campaigns_seen, message.campaign_run_id][-CAMPAIGNS_LIMIT:]
        if st.stage == LifecycleStage.CHURNED:
            return
        templates = self._in.playbook_policy().templates
        context = dict(message.context)
        if message.kind == CampaignKind.RENEWAL_OUTREACH:
            contact = self._in.contact_for(ContactRole.DECISION_MAKER, ContactRole.CHAMPION)
            template = message.template or templates.renewal_campaign
            if st.contract_end is not None:
                context.setdefault("renewal_date", st.contract_end.isoformat())
                days = (contract_end_at(st.contract_end) - workflow.now()).days
                context.setdefault("days_left", max(0, days))
        else:
            contact = self._in.contact_for(ContactRole.CHAMPION)
            template = message.template or templates.feature_release
        await actions.send_email(
            st.log,
            account_id=self._in.account.id,
            contact_id=contact,
            template=template,
            step=f"campaign:{message.campaign_run_id}",
            context=context,
            category="campaign",
            owner=self._in.account.csm_owner,
        )
        self._note("campaign", f"{message.kind.value} {message.campaign_run_id}")
        self._log_grew()

    # ---- contract and bookkeeping ------------------------------------------------------------

    def _set_contract_from_upsert(self, account: AccountUpsert) -> None:
        if account.contract is not None:
            self._set_contract(account.contract)

    def _set_contract(self, contract: Any) -> None:
        # The end date first: a contract the journey cannot schedule changes nothing.
        self._set_contract_end(contract.end_date)
        self._st.contract_value = contract.value
        self._st.auto_renew = contract.auto_renew

    def _set_contract_end(self, end: Any) -> None:
        st = self._st
        # Computed before any state changes, so a date it cannot handle leaves the state intact.
        starts_at = renewal_start(end, self._in.config.renewal.lead_time)
        ends_at = contract_end_at(end)
        st.contract_end = end
        st.renewal_starts_at = starts_at
        workflow.upsert_search_attributes([sa.RENEWAL_DATE.value_set(ends_at)])

    def _upsert_search_attributes(self) -> None:
        account = self._in.account
        st = self._st
        updates: list[SearchAttributeUpdate[Any]] = [
            sa.CUSTOMER_ID.value_set(account.id),
            sa.LIFECYCLE_STAGE.value_set(st.stage.value),
            sa.CSM_OWNER.value_set(account.csm_owner),
            sa.SEGMENT.value_set(st.segment_key or self._in.config.segment.value),
        ]
        if st.health_score is not None:
            updates.append(sa.HEALTH_SCORE.value_set(st.health_score))
        if st.contract_end is not None:
            updates.append(sa.RENEWAL_DATE.value_set(contract_end_at(st.contract_end)))
        workflow.upsert_search_attributes(updates)

    def _family(self, what: str) -> _ChildLabels:
        """Search attributes and Web UI summary of a workflow started for this account."""
        account = self._in.account
        return {
            "search_attributes": sa.account_family(
                account.id,
                account.csm_owner,
                self._st.segment_key or self._in.config.segment.value,
                self._st.stage.value,
            ),
            "static_summary": f"{account.name}: {what}"[:200],
        }

    def _note(self, kind: str, summary: str) -> None:
        st = self._st
        st.timeline.append(TimelineEntry(at=workflow.now(), kind=kind, summary=summary))
        if len(st.timeline) > TIMELINE_LIMIT:
            del st.timeline[: len(st.timeline) - TIMELINE_LIMIT]

    @staticmethod
    def _describe(event: CustomerEvent) -> str:
        details = ", ".join(f"{k}={v}" for k, v in sorted(event.payload.items()))
        return f"{event.type}" + (f" ({details})" if details else "")


def _failure_reason(exc: BaseException) -> str:
    """One line saying why: the activity's or child's own failure, else the exception."""
    cause = getattr(exc, "cause", None)
    if isinstance(exc, TemporalError) and cause is not None:
        exc = cause
    if isinstance(exc, (TemporalError, InvalidCustomerEvent)):
        text = str(exc)
    else:
        text = f"{type(exc).__name__}: {exc}"
    return one_line(text, 500)


def _same_kind(kept: CustomerEvent, new: CustomerEvent) -> bool:
    """Two events the stage treats as one: answers to the questionnaire, or the same milestone."""
    if kept.type != new.type:
        return False
    if kept.event_type != CustomerEventType.USAGE_REPORTED:
        return True
    return kept.payload.get("milestone") == new.payload.get("milestone")


def _for_crm(account: AccountUpsert) -> AccountUpsert:
    """The account as the CRM activity accepts it: names and plan one clean line each (an account
    recorded before the input checks existed may hold control characters in them)."""
    contacts = [
        c.model_copy(update={"name": one_line(c.name, 200) or c.id}) for c in account.contacts
    ]
    return account.model_copy(
        update={
            "name": one_line(account.name, 200) or account.id,
            "plan": one_line(account.plan, 64) or "standard",
            "contacts": contacts,
        }
    )
