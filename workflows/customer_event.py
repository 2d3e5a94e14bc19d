"""Customer events: what callers send to a journey (signal, signal-with-start or update).

`type` travels as a plain string on purpose: a caller from any SDK or the CLI can send an
unknown type and get a clear rejection from the journey's update validator, instead of an opaque
payload-decoding failure. `parse()` turns the event into its typed payload.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from domain.input_checks import (
    ACCEPTED_EARLIER,
    FiniteNumbers,
    SaneDate,
    SingleLine,
    Text,
    date_problem,
    describe_errors,
    single_line_problem,
)
from domain.models import ContactInput, ContractInput, RequirementsAnswers, SurveyKind


class CustomerEventType(StrEnum):
    TRIAL_STARTED = "trial_started"
    PAYMENT_RECEIVED = "payment_received"
    QUESTIONNAIRE_ANSWERED = "questionnaire_answered"
    SURVEY_ANSWERED = "survey_answered"
    EMAIL_REPLIED = "email_replied"
    EMAIL_BOUNCED = "email_bounced"
    TICKET_OPENED = "ticket_opened"
    TICKET_RESOLVED = "ticket_resolved"
    USAGE_REPORTED = "usage_reported"
    CONTACT_CHANGED = "contact_changed"
    CONTRACT_SIGNED = "contract_signed"
    CONTRACT_RENEWED = "contract_renewed"
    CONTRACT_CANCELLED = "contract_cancelled"
    PLAN_CHANGED = "plan_changed"
    EXTERNAL_ACTIVITY = "external_activity"


# What shows the customer is there (it ends a silence): answering us, and acting on their own
# (a ticket, using the product).
CUSTOMER_ACTIONS = frozenset(
    {
        CustomerEventType.EMAIL_REPLIED,
        CustomerEventType.QUESTIONNAIRE_ANSWERED,
        CustomerEventType.SURVEY_ANSWERED,
        CustomerEventType.TICKET_OPENED,
        CustomerEventType.USAGE_REPORTED,
    }
)


class InvalidCustomerEvent(ValueError):
    """A customer event the journey cannot accept; the message says why."""


class _Payload(FiniteNumbers):
    """Payload fields are checked like every input (domain.input_checks): finite numbers, sane
    dates, one-line names and subjects, free text without control characters."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class StartPayload(_Payload):
    """trial_started / payment_received: the contract, when one is known already."""

    contract: ContractInput | None = None
    amount: float | None = Field(default=None, ge=0)


class QuestionnairePayload(_Payload):
    reasons_for_purchase: Text = Field(min_length=1)
    intended_use: Text = Field(min_length=1)
    previous_tools: list[SingleLine] = Field(default_factory=list)
    success_criteria: list[SingleLine] = Field(default_factory=list)
    respondent_contact_id: SingleLine | None = None
    notes: Text = ""


# Score ranges per survey kind; the activity checks again against the stored survey.
SCORE_RANGES: dict[SurveyKind, tuple[int, int]] = {
    SurveyKind.NPS: (0, 10),
    SurveyKind.CSAT: (1, 5),
}


class SurveyAnsweredPayload(_Payload):
    token: SingleLine = Field(min_length=1)
    kind: SurveyKind
    score: int
    comment: Text = Field(default="", max_length=5000)

    @model_validator(mode="after")
    def _score_in_range(self) -> SurveyAnsweredPayload:
        low, high = SCORE_RANGES[self.kind]
        if not low <= self.score <= high:
            raise ValueError(
                f"score {self.score} is out of range for a {self.kind.value.upper()} survey "
                f"({low}-{high})"
            )
        return self


class EmailRepliedPayload(_Payload):
    contact_id: SingleLine | None = None
    subject: SingleLine = ""
    snippet: Text = Field(default="", max_length=2000)


class EmailBouncedPayload(_Payload):
    email: SingleLine = Field(min_length=1)
    contact_id: SingleLine | None = None
    reason: Text = ""


class TicketSeverity(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class TicketOpenedPayload(_Payload):
    ticket_id: SingleLine = Field(min_length=1, max_length=64)
    subject: SingleLine = Field(min_length=1, max_length=300)
    severity: TicketSeverity = TicketSeverity.NORMAL


class TicketResolvedPayload(_Payload):
    ticket_id: SingleLine = Field(min_length=1, max_length=64)
    resolution: Text = ""


class Milestone(StrEnum):
    FIRST_LOGIN = "first_login"
    FIRST_KEY_ACTION = "first_key_action"


class UsageReportedPayload(_Payload):
    active_users: int = Field(default=0, ge=0)
    licensed_seats: int = Field(default=0, ge=0)
    feature_adoption: float = Field(default=0.0, ge=0.0, le=1.0)
    milestone: Milestone | None = None


class ContactChangedPayload(_Payload):
    contact: ContactInput
    # The contact left the company (their record stays, unreachable from now on).
    left: bool = False


class PlanChange(StrEnum):
    UPGRADE = "upgrade"
    EXPANSION = "expansion"
    DOWNGRADE = "downgrade"


class PlanChangedPayload(_Payload):
    plan: SingleLine = Field(min_length=1, max_length=64)
    previous_plan: SingleLine | None = Field(default=None, max_length=64)
    change: PlanChange = PlanChange.UPGRADE
    new_features: list[SingleLine] = Field(default_factory=list, max_length=50)


class ContractSignedPayload(_Payload):
    contract: ContractInput


class ContractRenewedPayload(_Payload):
    new_end_date: SaneDate
    new_value: float | None = Field(default=None, ge=0)


class ContractCancelledPayload(_Payload):
    reason: Text = ""


class ExternalChannel(StrEnum):
    REVIEW_SITE = "review_site"  # G2, Capterra, TrustRadius...
    COMMUNITY = "community"  # our community forum, Slack groups, Reddit
    SOCIAL = "social"  # LinkedIn, X, Mastodon...
    NEWS = "news"  # press, blogs, podcasts
    OTHER = "other"


class Sentiment(StrEnum):
    POSITIVE = "positive"
    NEUTRAL = "neutral"
    NEGATIVE = "negative"


class ExternalActivityPayload(_Payload):
    """Something the customer said in public about us: a review, a post, a mention."""

    channel: ExternalChannel
    url: SingleLine = Field(min_length=1, max_length=2000)
    sentiment: Sentiment
    author: SingleLine = Field(default="", max_length=200)
    text: Text = Field(default="", max_length=5000)
    # The conversation the mention belongs to (a review, a thread); by default its address
    # without query and fragment, so repeated mentions of one thread are one situation.
    thread: SingleLine | None = Field(default=None, min_length=1, max_length=200)
    # The author, when they are one of the account's contacts.
    contact_id: SingleLine | None = None

    @model_validator(mode="after")
    def _web_address(self) -> ExternalActivityPayload:
        scheme, _, rest = self.url.partition("://")
        if scheme.lower() not in ("http", "https") or not rest.strip("/"):
            raise ValueError(f"url must be an http(s) address, not {self.url[:80]!r}")
        return self

    def thread_key(self) -> str:
        if self.thread is not None:
            return self.thread
        address = self.url.split("#", 1)[0].split("?", 1)[0].rstrip("/")
        return address.partition("://")[2].lower()


PAYLOAD_MODELS: dict[CustomerEventType, type[_Payload]] = {
    CustomerEventType.TRIAL_STARTED: StartPayload,
    CustomerEventType.PAYMENT_RECEIVED: StartPayload,
    CustomerEventType.QUESTIONNAIRE_ANSWERED: QuestionnairePayload,
    CustomerEventType.SURVEY_ANSWERED: SurveyAnsweredPayload,
    CustomerEventType.EMAIL_REPLIED: EmailRepliedPayload,
    CustomerEventType.EMAIL_BOUNCED: EmailBouncedPayload,
    CustomerEventType.TICKET_OPENED: TicketOpenedPayload,
    CustomerEventType.TICKET_RESOLVED: TicketResolvedPayload,
    CustomerEventType.USAGE_REPORTED: UsageReportedPayload,
    CustomerEventType.CONTACT_CHANGED: ContactChangedPayload,
    CustomerEventType.CONTRACT_SIGNED: ContractSignedPayload,
    CustomerEventType.CONTRACT_RENEWED: ContractRenewedPayload,
    CustomerEventType.CONTRACT_CANCELLED: ContractCancelledPayload,
    CustomerEventType.PLAN_CHANGED: PlanChangedPayload,
    CustomerEventType.EXTERNAL_ACTIVITY: ExternalActivityPayload,
}


class CustomerEvent(BaseModel):
    """Something a customer did (or that happened to their account)."""

    model_config = ConfigDict(extra="forbid")

    account_id: str = Field(min_length=1, max_length=64)
    type: str = Field(description="a CustomerEventType value")
    payload: dict[str, Any] = Field(default_factory=dict)
    # Callers set it to make re-sends harmless: the journey ignores an id it has seen.
    event_id: str | None = Field(default=None, max_length=128)
    occurred_at: datetime | None = None
    # Set by a journey on a signalled event it refuses: the event loop then rejects it like any
    # event it cannot apply. Never serialized (journeys continue-as-new with no event pending).
    _rejection: str | None = PrivateAttr(default=None)

    def reject(self, reason: str) -> None:
        self._rejection = reason

    @property
    def rejection(self) -> str | None:
        return self._rejection

    @property
    def event_type(self) -> CustomerEventType:
        try:
            return CustomerEventType(self.type)
        except ValueError:
            known = ", ".join(t.value for t in CustomerEventType)
            raise InvalidCustomerEvent(
                f"unknown customer event type {self.type!r}; expected one of: {known}"
            ) from None

    def parse(self, *, accepted: bool = False) -> _Payload:
        """The typed payload; raises InvalidCustomerEvent with a readable reason.

        By default the event is checked as new input (domain.input_checks). `accepted=True`
        re-reads an event a journey accepted already, under the rules it was accepted by: what
        journeys and their children do with the events they process and forward, so a history
        recorded before a check existed replays the way it ran."""
        model = PAYLOAD_MODELS[self.event_type]
        if not accepted:
            self._check_envelope()
        try:
            return model.model_validate(
                self.payload, context=ACCEPTED_EARLIER if accepted else None
            )
        except ValidationError as exc:
            raise InvalidCustomerEvent(
                f"invalid {self.type} payload: {describe_errors(exc, 'payload')}"
            ) from None

    def _check_envelope(self) -> None:
        problems = [
            ("account_id", single_line_problem(self.account_id)),
            ("event_id", single_line_problem(self.event_id) if self.event_id else None),
            ("occurred_at", date_problem(self.occurred_at) if self.occurred_at else None),
        ]
        for name, problem in problems:
            if problem is not None:
                raise InvalidCustomerEvent(f"invalid {self.type} event: {name}: {problem}")

    def requirements_answers(self, workflow_id: str | None) -> RequirementsAnswers:
        payload = self.parse(accepted=True)
        if not isinstance(payload, QuestionnairePayload):
            raise InvalidCustomerEvent(f"{self.type} does not carry questionnaire answers")
        return RequirementsAnswers(
            account_id=self.account_id, workflow_id=workflow_id, **payload.model_dump()
        )


class EventAck(BaseModel):
    """What `record_customer_event` returns once the journey has processed the event."""

    account_id: str
    event_type: CustomerEventType
    sequence: int
    duplicate: bool = False
    stage: str
    forwarded_to: str | None = None
    # The stage the event waits for when it arrived before that stage started (delivered then).
    kept_for: str | None = None
    # Why the journey could not apply the event (it went on with the next one); None: applied.
    rejected: str | None = None
