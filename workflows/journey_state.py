"""The customer journey's durable state: what it carries across continue-as-new, and what its
queries return.

Every deadline here is absolute (a datetime or a contract date) so a new run re-arms the same
timers instead of restarting relative ones.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field, ValidationError, model_validator

from domain.input_checks import ACCEPTED_EARLIER
from domain.models import AccountUpsert, ContactRole, ContractOutcomeKind, LifecycleStage
from domain.process_map import ProcessMap
from domain.segments import SegmentPlaybookConfig
from workflows.campaign import CampaignMessage
from workflows.customer_event import CustomerEvent
from workflows.playbooks.base import PlaybookSummary
from workflows.playbooks.usage_trend import UsageTrend
from workflows.process_map_state import AnchorReached
from workflows.work_log import SurveyRecord, TaskRecord, WorkLog

TIMELINE_LIMIT = 200
SEEN_EVENT_IDS_LIMIT = 500
HEALTH_HISTORY_LIMIT = 120
PLAYBOOKS_LIMIT = 100
CAMPAIGNS_LIMIT = 100


class StageVisit(BaseModel):
    stage: LifecycleStage
    entered_at: datetime


class TimelineEntry(BaseModel):
    at: datetime
    kind: str
    summary: str


class EscalationSummary(BaseModel):
    escalation_id: str
    source: str
    summary: str
    opened_at: datetime
    open: bool = True
    level: int = 0
    missed_slas: list[str] = Field(default_factory=list)
    resolved_at: datetime | None = None
    ticket_id: str | None = None


class RenewalSummary(BaseModel):
    contract_end: date
    started_at: datetime
    outcome: ContractOutcomeKind | None = None
    new_end_date: date | None = None
    responded: bool = False
    outreach_sent: int = 0
    escalated_to_manager: bool = False


class StageOutcome(BaseModel):
    """Requirements and onboarding results, kept as the summary needs them."""

    finished_at: datetime
    completed: bool
    reminders_sent: int = 0
    escalated: bool = False
    stalled: list[str] = Field(default_factory=list)


class HealthPoint(BaseModel):
    at: datetime
    score: int
    band: str
    segment: str | None = None
    reason: str


class UsageFacts(BaseModel):
    active_users: int = 0
    licensed_seats: int = 0
    feature_adoption: float = 0.0


class KeptEvent(BaseModel):
    """A customer event for a stage that has not started yet, delivered when it starts."""

    stage: str  # the stage it waits for: "requirements" or "onboarding"
    event: CustomerEvent
    kept_at: datetime


class JourneyState(BaseModel):
    stage: LifecycleStage = LifecycleStage.TRIAL
    stages: list[StageVisit] = Field(default_factory=list)
    started_at: datetime
    paid: bool = False
    requirements: StageOutcome | None = None
    onboarding: StageOutcome | None = None
    contract_end: date | None = None
    contract_value: float = 0.0
    auto_renew: bool = False
    renewal_starts_at: datetime | None = None
    next_nps_at: datetime | None = None
    nps_sent: int = 0
    cancel_requested: bool = False
    cancel_reason: str = ""
    pending: list[CustomerEvent] = Field(default_factory=list)
    seen_event_ids: list[str] = Field(default_factory=list)
    sequence: int = 0
    # Events the journey could not apply (each noted on the timeline, the CSM alerted).
    events_rejected: int = 0
    log: WorkLog = Field(default_factory=WorkLog)
    timeline: list[TimelineEntry] = Field(default_factory=list)
    escalations: list[EscalationSummary] = Field(default_factory=list)
    renewals: list[RenewalSummary] = Field(default_factory=list)
    health_score: int | None = None
    latest_nps: int | None = None
    latest_csat: int | None = None
    usage: UsageFacts = Field(default_factory=UsageFacts)
    bounced: list[str] = Field(default_factory=list)
    runs: int = 1
    # Playbooks (all defaulted: states carried from runs before playbooks existed decode).
    playbooks: list[PlaybookSummary] = Field(default_factory=list)
    usage_trend: UsageTrend = Field(default_factory=UsageTrend)
    milestones: list[str] = Field(default_factory=list)
    last_response_at: datetime | None = None
    replies: list[datetime] = Field(default_factory=list)
    # Silences since the journey began; the current one has a playbook once this is set.
    silence: int = 0
    silence_playbook_open: bool = False
    health_band: str | None = None
    segment_key: str | None = None
    health_history: list[HealthPoint] = Field(default_factory=list)
    health_recomputes: int = 0
    campaigns_seen: list[str] = Field(default_factory=list)
    campaign_pending: list[CampaignMessage] = Field(default_factory=list)
    # Events that arrived before their stage (e.g. milestones during requirements).
    kept_events: list[KeptEvent] = Field(default_factory=list)
    # The cross-functional process map: moments told to its workflow, milestones done.
    map_started: bool = False
    map_anchors: list[AnchorReached] = Field(default_factory=list)
    map_done: list[str] = Field(default_factory=list)


class JourneyInput(BaseModel):
    account: AccountUpsert
    config: SegmentPlaybookConfig
    # Email addresses for the escalation chain roles ("cs_manager", "vp_customer_success", ...);
    # "csm" is always the account's CSM owner.
    team: dict[str, str] = Field(default_factory=dict)
    # Continue-as-new after this many processed events in one run (also when the server
    # suggests it); small values let tests force it.
    continue_as_new_after_events: int = Field(default=1000, ge=1)
    # Owner of expansion-opportunity tasks (sales); None: the CSM.
    sales_owner: str | None = None
    # The cross-functional process map this journey runs by (None: none); carried by
    # continue-as-new, so edits of the map reach new journeys only.
    process_map: ProcessMap | None = None
    # Absent on the first run; carried by continue-as-new.
    state: JourneyState | None = None

    @model_validator(mode="before")
    @classmethod
    def _recorded_account(cls, data: Any) -> Any:
        """The account is re-read by the rules it was accepted under (domain.input_checks), so a
        journey recorded before a check existed still decodes its own input. New accounts are
        checked where they enter (AccountUpsert at the API) and by the journey's first run."""
        if isinstance(data, dict) and isinstance(data.get("account"), dict):
            try:
                account = AccountUpsert.model_validate(data["account"], context=ACCEPTED_EARLIER)
            except ValidationError:
                return data  # invalid by any rules: the field's own validation reports it
            data = {**data, "account": account}
        return data

    def has_reachable_contact(self) -> bool:
        return any(not c.opted_out for c in self.account.contacts)

    def contact_for(self, *roles: ContactRole) -> str:
        """The first reachable contact with one of `roles` (in order), else any reachable one."""
        reachable = [c for c in self.account.contacts if not c.opted_out]
        for role in roles:
            for contact in reachable:
                if contact.role == role:
                    return contact.id
        if not reachable:
            raise ValueError(f"account {self.account.id} has no reachable contact")
        return reachable[0].id

    def team_member(self, role: str) -> str:
        if role == "csm":
            return self.account.csm_owner
        return self.team.get(role, self.account.csm_owner)

    def escalation_chain(self) -> list[str]:
        chain = [self.team_member("csm")]
        for role in self.config.escalation.chain[1:]:
            if role in self.team:
                chain.append(self.team[role])
        return chain


class JourneyStatus(BaseModel):
    account_id: str
    account_name: str
    segment: str
    csm_owner: str
    stage: LifecycleStage
    stages: list[StageVisit]
    contract_end: date | None
    renewal_starts_at: datetime | None
    next_nps_at: datetime | None
    health_score: int | None
    emails_sent: int
    surveys: list[SurveyRecord]
    open_tasks: list[TaskRecord]
    tasks_created: int
    alerts: int
    escalations: list[EscalationSummary]
    renewals: list[RenewalSummary]
    requirements: StageOutcome | None
    onboarding: StageOutcome | None
    events_processed: int
    events_rejected: int = 0
    runs: int
    finished: bool
    segment_key: str | None = None
    health_band: str | None = None
    health_history: list[HealthPoint] = Field(default_factory=list)
    playbooks: list[PlaybookSummary] = Field(default_factory=list)
    campaigns: list[str] = Field(default_factory=list)
    # What the next stage waits for before it starts (a handoff, a reachable contact).
    waiting_for: str | None = None
    # The running stage's workflow: its emails and tasks join the totals above when it ends.
    stage_workflow_id: str | None = None


def status_of(
    input: JourneyInput,
    state: JourneyState,
    finished: bool,
    *,
    waiting_for: str | None = None,
    stage_workflow_id: str | None = None,
) -> JourneyStatus:
    account = input.account
    return JourneyStatus(
        account_id=account.id,
        account_name=account.name,
        segment=input.config.segment.value,
        csm_owner=account.csm_owner,
        stage=state.stage,
        stages=list(state.stages),
        contract_end=state.contract_end,
        renewal_starts_at=state.renewal_starts_at,
        next_nps_at=state.next_nps_at,
        health_score=state.health_score,
        emails_sent=len(state.log.emails),
        surveys=list(state.log.surveys),
        open_tasks=state.log.open_tasks(),
        tasks_created=len(state.log.tasks),
        alerts=len(state.log.alerts),
        escalations=list(state.escalations),
        renewals=list(state.renewals),
        requirements=state.requirements,
        onboarding=state.onboarding,
        events_processed=state.sequence,
        events_rejected=state.events_rejected,
        runs=state.runs,
        finished=finished,
        segment_key=state.segment_key,
        health_band=state.health_band,
        health_history=list(state.health_history),
        playbooks=list(state.playbooks),
        campaigns=list(state.campaigns_seen),
        waiting_for=waiting_for,
        stage_workflow_id=stage_workflow_id,
    )
