"""Customer-success models that cross the workflow boundary.

Everything here is a plain pydantic v2 model: workflows receive and send these through
`pydantic_data_converter`; the SQLModel tables in `crm/` stay on the activity side. Validators are
pure (no clock, no filesystem), so they behave identically inside the workflow sandbox.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal, TypeVar

from pydantic import ConfigDict, Field, field_validator, model_validator

from domain.addresses import checked_email
from domain.input_checks import FiniteNumbers, SaneDate, SingleLine, Text

# Syntactic IANA check only ("UTC", "Europe/Berlin", "America/Argentina/Buenos_Aires"): resolving
# the zone reads tz data from disk, which the workflow sandbox forbids; activities resolve it.
_TIMEZONE = re.compile(r"^(UTC|GMT|[A-Za-z_]+(?:/[A-Za-z0-9_+\-]+)+|Etc/[A-Za-z0-9+\-]+)$")
# A contract as stored or as a CRM sync sends it: its term must end after it starts.
_Term = TypeVar("_Term", "Contract", "ContractInput")


class LifecycleStage(StrEnum):
    TRIAL = "trial"
    REQUIREMENTS = "requirements"
    ONBOARDING = "onboarding"
    ADOPTION = "adoption"
    EXPANSION = "expansion"
    RENEWAL = "renewal"
    AT_RISK = "at_risk"
    CHURNED = "churned"


class Segment(StrEnum):
    ENTERPRISE = "enterprise"
    MID_MARKET = "mid_market"
    SMB = "smb"


# ARR band floors, in the account's billing currency (static segmentation).
ENTERPRISE_MIN_ARR = 100_000.0
MID_MARKET_MIN_ARR = 20_000.0


def segment_for_arr(arr: float) -> Segment:
    """Static segmentation by ARR band: >=100k enterprise, >=20k mid-market, else SMB."""
    if arr < 0:
        raise ValueError("arr must be >= 0")
    if arr >= ENTERPRISE_MIN_ARR:
        return Segment.ENTERPRISE
    if arr >= MID_MARKET_MIN_ARR:
        return Segment.MID_MARKET
    return Segment.SMB


class ContactRole(StrEnum):
    CHAMPION = "champion"
    DECISION_MAKER = "decision_maker"
    USER = "user"


class SurveyKind(StrEnum):
    NPS = "nps"
    CSAT = "csat"


class SurveyCategory(StrEnum):
    PROMOTER = "promoter"
    PASSIVE = "passive"
    DETRACTOR = "detractor"
    SATISFIED = "satisfied"
    NEUTRAL = "neutral"
    DISSATISFIED = "dissatisfied"


class TouchpointKind(StrEnum):
    EMAIL = "email"
    EMAIL_SUPPRESSED = "email_suppressed"
    EMAIL_DEFERRED = "email_deferred"
    SURVEY_SENT = "survey_sent"
    SURVEY_RESPONSE = "survey_response"
    CALL = "call"
    MEETING = "meeting"
    NOTE = "note"
    STAGE_CHANGE = "stage_change"
    TASK = "task"
    ALERT = "alert"
    REQUIREMENTS = "requirements"
    CONTRACT = "contract"
    HEALTH_SCORE = "health_score"
    ESCALATION = "escalation"
    HANDOFF = "handoff"


class TaskPriority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class TaskStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class ContractStatus(StrEnum):
    ACTIVE = "active"
    RENEWED = "renewed"
    AUTO_RENEWED = "auto_renewed"
    CHURNED = "churned"


class ContractOutcomeKind(StrEnum):
    RENEWED = "renewed"
    CHURNED = "churned"
    AUTO_RENEWED = "auto_renewed"


class EmailStatus(StrEnum):
    PENDING = "pending"  # ledger row written, provider not (yet) confirmed
    SENT = "sent"  # accepted by SendGrid
    OUTBOXED = "outboxed"  # written to the local outbox (no SendGrid key configured)
    SUPPRESSED = "suppressed"  # recipient opted out; nothing sent
    DEFERRED = "deferred"  # held by the contact governor until `not_before`; call again then
    REJECTED = "rejected"  # provider refused it permanently (4xx)


class AlertSeverity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class HealthBand(StrEnum):
    HEALTHY = "healthy"  # >= 70
    AT_RISK = "at_risk"  # 40..69
    CRITICAL = "critical"  # < 40


class SegmentationMode(StrEnum):
    STATIC = "static"  # segment = ARR tier only (enterprise / mid_market / smb)
    DYNAMIC = "dynamic"  # segment = ARR tier x health band x lifecycle phase


class DomainModel(FiniteNumbers):
    """Base for every boundary model: unknown fields are errors, so typos surface early, and
    numbers are finite (`Infinity`/`NaN` turn into `null` on the way through Temporal)."""

    model_config = ConfigDict(extra="forbid", use_enum_values=False)


def _check_timezone(value: str | None) -> str | None:
    if value is not None and not _TIMEZONE.match(value):
        raise ValueError(f"not an IANA timezone name: {value!r}")
    return value


def _check_term(contract: _Term) -> _Term:
    if contract.end_date <= contract.start_date:
        raise ValueError("end_date must be after start_date")
    return contract


# --- entities -------------------------------------------------------------------------------


class Account(DomainModel):
    id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    # ARR as float: it drives segmentation and reporting, not invoicing.
    arr: float = Field(ge=0)
    plan: str = Field(default="standard", min_length=1, max_length=64)
    segment: Segment
    lifecycle_stage: LifecycleStage = LifecycleStage.TRIAL
    csm_owner: str = Field(description="email address of the owning CSM")
    health_score: int | None = Field(default=None, ge=0, le=100)
    timezone: str = "UTC"
    # Segment key from the latest health computation (domain.segmentation); None until scored.
    segment_key: str | None = None

    _tz = field_validator("timezone")(_check_timezone)
    _owner = field_validator("csm_owner")(checked_email)


class Contact(DomainModel):
    id: str = Field(min_length=1, max_length=64)
    account_id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    email: str
    role: ContactRole = ContactRole.USER
    opted_out: bool = False
    timezone: str | None = None

    _email = field_validator("email")(checked_email)
    _tz = field_validator("timezone")(_check_timezone)


class Contract(DomainModel):
    id: int | None = None
    account_id: str
    start_date: date
    end_date: date
    value: float = Field(ge=0)
    auto_renew: bool = False
    status: ContractStatus = ContractStatus.ACTIVE

    _dates_ordered = model_validator(mode="after")(_check_term)


class Touchpoint(DomainModel):
    """One entry of an account's timeline."""

    id: int
    account_id: str
    kind: TouchpointKind
    summary: str
    occurred_at: datetime
    workflow_id: str | None = None
    step: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)


class CsmTask(DomainModel):
    id: int
    account_id: str
    owner: str
    title: str
    description: str = ""
    due_at: datetime | None = None
    priority: TaskPriority = TaskPriority.NORMAL
    status: TaskStatus = TaskStatus.OPEN
    outcome: str | None = None
    created_at: datetime
    completed_at: datetime | None = None
    workflow_id: str | None = None
    # Set on the `task_completed` signal only (not stored on the task): who completed it and
    # through what (CLI, HTTP API, console), for the audit trail of process-map handoffs.
    completed_by: str | None = None
    completed_via: str | None = None


class Survey(DomainModel):
    survey_id: int
    account_id: str
    contact_id: str
    kind: SurveyKind
    topic: str
    token: str
    link: str
    created_at: datetime
    workflow_id: str | None = None


class SurveyResponse(DomainModel):
    id: int
    survey_id: int
    token: str
    account_id: str
    contact_id: str
    kind: SurveyKind
    score: int
    comment: str = ""
    category: SurveyCategory
    responded_at: datetime


class EmailSend(DomainModel):
    """A row of the email ledger (one per idempotency key)."""

    idempotency_key: str
    account_id: str
    to_email: str
    contact_id: str | None = None
    template: str
    subject: str
    category: str
    status: EmailStatus
    provider: Literal["sendgrid", "outbox", "none"]
    message_id: str | None = None
    reason: str | None = None
    workflow_id: str | None = None
    step: str | None = None
    created_at: datetime
    sent_at: datetime | None = None
    not_before: datetime | None = None


class AccountSnapshot(DomainModel):
    account: Account
    contacts: list[Contact] = Field(default_factory=list)
    contract: Contract | None = None
    open_tasks: list[CsmTask] = Field(default_factory=list)

    def contacts_with_role(self, role: ContactRole) -> list[Contact]:
        return [c for c in self.contacts if c.role == role]

    @property
    def champion(self) -> Contact | None:
        """The first reachable champion, else any reachable contact (who CS emails go to)."""
        reachable = [c for c in self.contacts if not c.opted_out]
        for contact in reachable:
            if contact.role == ContactRole.CHAMPION:
                return contact
        return reachable[0] if reachable else None


# --- activity inputs / outputs (see docs/contracts.md) --------------------------------------


class AccountRef(DomainModel):
    account_id: str = Field(min_length=1)


class ContactInput(DomainModel):
    id: SingleLine = Field(min_length=1, max_length=64)
    # Becomes an email header (`To: name <address>`): one line, no control characters.
    name: SingleLine = Field(min_length=1, max_length=200)
    email: str
    role: ContactRole = ContactRole.USER
    opted_out: bool = False
    timezone: str | None = None

    _email = field_validator("email")(checked_email)
    _tz = field_validator("timezone")(_check_timezone)


class ContractInput(DomainModel):
    # Within domain.input_checks' range: "0001-01-01" (billing's "no date") is refused.
    start_date: SaneDate
    end_date: SaneDate
    value: float = Field(ge=0)
    auto_renew: bool = False

    _dates_ordered = model_validator(mode="after")(_check_term)


class AccountUpsert(DomainModel):
    """Create or update an account with its contacts (matched by id) and current contract."""

    id: SingleLine = Field(min_length=1, max_length=64)
    name: SingleLine = Field(min_length=1, max_length=200)
    arr: float = Field(ge=0)
    plan: SingleLine = Field(default="standard", min_length=1, max_length=64)
    segment: Segment | None = Field(default=None, description="derived from arr when omitted")
    lifecycle_stage: LifecycleStage | None = Field(
        default=None, description="kept as stored (trial for new accounts) when omitted"
    )
    csm_owner: str
    timezone: str = "UTC"
    contacts: list[ContactInput] = Field(default_factory=list)
    contract: ContractInput | None = None

    _tz = field_validator("timezone")(_check_timezone)
    _owner = field_validator("csm_owner")(checked_email)

    @property
    def effective_segment(self) -> Segment:
        return self.segment if self.segment is not None else segment_for_arr(self.arr)

    @model_validator(mode="after")
    def _unique_contacts(self) -> AccountUpsert:
        ids = [c.id for c in self.contacts]
        if len(ids) != len(set(ids)):
            raise ValueError("contacts: duplicate contact id")
        return self


class StageChange(DomainModel):
    account_id: str = Field(min_length=1)
    stage: LifecycleStage
    reason: str = ""
    workflow_id: str | None = None
    step: str | None = None


class TouchpointInput(DomainModel):
    account_id: str = Field(min_length=1)
    kind: TouchpointKind
    summary: str = Field(min_length=1, max_length=2000)
    workflow_id: str | None = None
    step: str | None = None
    # Workflows pass workflow.now(); None means "when the activity runs".
    occurred_at: datetime | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    # None: derived from the activity attempt (workflow run + activity id), stable across retries.
    idempotency_key: str | None = None


class TaskInput(DomainModel):
    account_id: str = Field(min_length=1)
    owner: str
    title: str = Field(min_length=1, max_length=300)
    description: str = ""
    due_at: datetime | None = None
    priority: TaskPriority = TaskPriority.NORMAL
    idempotency_key: str | None = None
    workflow_id: str | None = None
    step: str | None = None

    _owner = field_validator("owner")(checked_email)


# The outcome an escalation's tasks are closed with once it resolves (the account 360 reads the
# resolution from it).
ESCALATION_RESOLVED = "the escalation was resolved"


class TaskCompletion(DomainModel):
    task_id: int
    outcome: str = "done"
    status: TaskStatus = TaskStatus.DONE

    @field_validator("status")
    @classmethod
    def _closing(cls, value: TaskStatus) -> TaskStatus:
        if value == TaskStatus.OPEN:
            raise ValueError("a completion must close the task (done or cancelled)")
        return value


class RequirementsAnswers(DomainModel):
    account_id: str = Field(min_length=1)
    reasons_for_purchase: str = Field(min_length=1)
    intended_use: str = Field(min_length=1)
    previous_tools: list[str] = Field(default_factory=list)
    success_criteria: list[str] = Field(default_factory=list)
    stakeholders: list[str] = Field(default_factory=list)
    integrations: list[str] = Field(default_factory=list)
    target_go_live: date | None = None
    notes: str = ""
    respondent_contact_id: str | None = None
    workflow_id: str | None = None


class ContractOutcome(DomainModel):
    account_id: str = Field(min_length=1)
    outcome: ContractOutcomeKind
    new_end_date: date | None = None
    new_value: float | None = Field(default=None, ge=0)
    reason: str = ""
    workflow_id: str | None = None

    @model_validator(mode="after")
    def _renewal_has_term(self) -> ContractOutcome:
        if self.outcome != ContractOutcomeKind.CHURNED and self.new_end_date is None:
            raise ValueError("new_end_date is required when the contract renews")
        return self


class EmailAttachment(DomainModel):
    filename: str = Field(min_length=1, max_length=200)
    content_type: str = "application/octet-stream"
    # Text content (e.g. an .ics); binary attachments are out of scope.
    content: str


class EmailRequest(DomainModel):
    idempotency_key: str = Field(min_length=1, max_length=200)
    account_id: str = Field(min_length=1)
    to_contact_id: str | None = None
    # Not syntax-checked here: send_email raises the contract's InvalidEmailAddress instead.
    to_email: str | None = None
    template: str = Field(min_length=1)
    # None: the template's default subject (its first line, see activities/templates).
    subject: str | None = None
    context: dict[str, Any] = Field(default_factory=dict)
    category: str = "customer_success"
    workflow_id: str | None = None
    step: str | None = None
    attachments: list[EmailAttachment] = Field(default_factory=list)
    # The caller's clock (workflows pass workflow.now()): the contact governor judges quiet
    # hours and the frequency cap at this instant. None: the activity's own clock.
    now: datetime | None = None
    # A message that must reach the contact by then (a meeting invite, an SLA acknowledgement):
    # the governor never holds it past this time, it sends at once instead.
    deadline: datetime | None = None

    @field_validator("now")
    @classmethod
    def _now_aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        return value

    @model_validator(mode="after")
    def _one_recipient(self) -> EmailRequest:
        if (self.to_contact_id is None) == (self.to_email is None):
            raise ValueError("exactly one of to_contact_id or to_email is required")
        return self


class EmailReceipt(DomainModel):
    idempotency_key: str
    status: EmailStatus
    message_id: str | None = None
    reason: str | None = None
    to_email: str | None = None
    provider: Literal["sendgrid", "outbox", "none"] = "none"
    # Set when status is `deferred`: call send_email again (same key) at or after this instant.
    not_before: datetime | None = None


class SurveyRequest(DomainModel):
    account_id: str = Field(min_length=1)
    contact_id: str = Field(min_length=1)
    kind: SurveyKind
    topic: str = Field(default="relationship", min_length=1, max_length=200)
    workflow_id: str | None = None
    idempotency_key: str = Field(min_length=1, max_length=200)


class SurveyAnswer(DomainModel):
    token: SingleLine = Field(min_length=1)
    # Range depends on the survey kind (known only in the store): checked by the activity.
    score: int
    comment: Text = Field(default="", max_length=5000)


class CsmAlert(DomainModel):
    account_id: str = Field(min_length=1)
    owner: str
    subject: str = Field(min_length=1, max_length=300)
    message: str = ""
    severity: AlertSeverity = AlertSeverity.WARNING
    idempotency_key: str = Field(min_length=1, max_length=200)
    due_at: datetime | None = None
    workflow_id: str | None = None
    step: str | None = None

    _owner = field_validator("owner")(checked_email)


class KickoffInvite(DomainModel):
    account_id: str = Field(min_length=1)
    contact_id: str = Field(min_length=1)
    starts_at: datetime
    duration_minutes: int = Field(default=60, gt=0, le=8 * 60)
    idempotency_key: str = Field(min_length=1, max_length=200)
    title: str = "Kickoff call"
    agenda: str = ""
    meeting_url: str | None = None
    # None: the account's CSM owner organises the meeting.
    organizer_email: str | None = None
    workflow_id: str | None = None
    step: str | None = None
    # Passed through to the governed email (see EmailRequest.now).
    now: datetime | None = None
    # The invite must arrive by then (default: a day before the meeting); see EmailRequest.
    deadline: datetime | None = None

    @field_validator("starts_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("starts_at must be timezone-aware")
        return value


class HealthInputs(DomainModel):
    """Facts about an account at one point in time; every field maps to a score component."""

    account_id: str = Field(min_length=1)
    # usage
    licensed_seats: int = Field(default=0, ge=0)
    active_users: int = Field(default=0, ge=0)
    # share of the key features in use, 0..1
    feature_adoption: float = Field(default=0.0, ge=0.0, le=1.0)
    # Activity against the account's own baseline (e.g. its trailing 90-day monthly average).
    logins_30d: int | None = Field(default=None, ge=0)
    baseline_logins_30d: float | None = Field(default=None, ge=0)
    key_actions_30d: int | None = Field(default=None, ge=0)
    baseline_key_actions_30d: float | None = Field(default=None, ge=0)
    # support
    open_tickets: int = Field(default=0, ge=0)
    urgent_tickets: int = Field(default=0, ge=0)
    open_escalations: int = Field(default=0, ge=0)
    # survey
    latest_nps: int | None = Field(default=None, ge=0, le=10)
    latest_csat: int | None = Field(default=None, ge=1, le=5)
    # engagement
    days_since_last_touchpoint: int | None = Field(default=None, ge=0)
    champion_engaged: bool = True
    # Outreach emails sent in the last 90 days and how many got a reply.
    outreach_sent_90d: int | None = Field(default=None, ge=0)
    outreach_replied_90d: int | None = Field(default=None, ge=0)
    # contract
    days_to_renewal: int | None = None
    auto_renew: bool = False
    payment_overdue: bool = False
    # Stage used for segmentation; None: the account's stored lifecycle stage.
    lifecycle_stage: LifecycleStage | None = None
    # When these facts were true (workflows pass workflow.now()); None: the activity's clock.
    now: datetime | None = None
    workflow_id: str | None = None
    idempotency_key: str | None = None

    @model_validator(mode="after")
    def _replies_within_sent(self) -> HealthInputs:
        if (
            self.outreach_sent_90d is not None
            and self.outreach_replied_90d is not None
            and self.outreach_replied_90d > self.outreach_sent_90d
        ):
            raise ValueError("outreach_replied_90d cannot exceed outreach_sent_90d")
        if self.now is not None and self.now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        return self


class HealthComponent(DomainModel):
    name: Literal["usage", "support", "survey", "engagement", "contract"]
    weight: float
    value: float = Field(ge=0.0, le=1.0, description="0 (bad) .. 1 (good)")
    points: float = Field(description="weight * value * 100, this component's share of the score")
    explanation: str


class HealthScore(DomainModel):
    account_id: str
    score: int = Field(ge=0, le=100)
    band: HealthBand
    components: list[HealthComponent]
    computed_at: datetime
    # Segment key after this computation: the journey upserts it as the `Segment` attribute.
    segment: str | None = None
    tier: Segment | None = None
    segmentation: SegmentationMode | None = None
    previous_score: int | None = None
    previous_band: HealthBand | None = None


class SegmentAssignment(DomainModel):
    """Where an account sits: ARR tier, health band and lifecycle phase, and the key for it."""

    key: str
    mode: SegmentationMode
    tier: Segment
    band: Literal["healthy", "at-risk", "critical", "unscored"]
    phase: Literal["onboarding", "adoption", "renewal", "churned"]


class ComponentChange(DomainModel):
    name: str
    points_before: float
    points_now: float
    delta: float


class InputChange(DomainModel):
    field: str
    before: Any = None
    now: Any = None


class HealthChanges(DomainModel):
    """What moved between the previous score and the latest one."""

    previous_score: int
    previous_band: HealthBand
    previous_computed_at: datetime
    score_delta: int
    components: list[ComponentChange]
    inputs: list[InputChange]


class HealthExplanation(DomainModel):
    """Answer to "why is this account red?": the latest score, its parts and what changed."""

    account_id: str
    account_name: str
    score: int
    band: HealthBand
    segment: str | None = None
    computed_at: datetime
    healthy_from: int
    at_risk_from: int
    components: list[HealthComponent]
    inputs: dict[str, Any] = Field(default_factory=dict)
    changes: HealthChanges | None = None
