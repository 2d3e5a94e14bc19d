"""Per-segment playbook configuration: how fast, how often and with which templates each
customer-success motion runs for enterprise, mid-market and SMB accounts.

Durations are `timedelta`s so workflows can pass them straight to `workflow.sleep` / timers.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain.contact_policy import ContactPolicy
from domain.models import Segment, TaskPriority, segment_for_arr

__all__ = [
    "ContactPolicy",
    "EscalationPolicy",
    "OnboardingPlan",
    "RenewalPlan",
    "RequirementsPlan",
    "SegmentPlaybookConfig",
    "SurveyCadence",
    "default_config",
    "segment_for_arr",
]


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RequirementsPlan(_Config):
    """Requirements questionnaire: remind the champion, then hand over to the CSM."""

    reminder_after: list[timedelta] = Field(
        default_factory=lambda: [timedelta(days=3), timedelta(days=7)]
    )
    escalate_after: timedelta = timedelta(days=10)
    questionnaire_template: str = "requirements_questionnaire"
    reminder_template: str = "requirements_reminder"

    @model_validator(mode="after")
    def _ordered(self) -> RequirementsPlan:
        if self.reminder_after != sorted(self.reminder_after):
            raise ValueError("reminder_after must be in increasing order")
        if any(r <= timedelta(0) or r >= self.escalate_after for r in self.reminder_after):
            raise ValueError("every reminder must fall after day 0 and before escalate_after")
        return self


class OnboardingPlan(_Config):
    stages: list[str] = Field(
        default_factory=lambda: ["kickoff", "technical_setup", "training", "go_live"],
        min_length=1,
    )
    # A stage with no progress for this long is "stalled" and the CSM gets an alert.
    stall_threshold: timedelta = timedelta(days=14)
    kickoff_within: timedelta = timedelta(days=5)
    kickoff_duration_minutes: int = Field(default=60, gt=0)
    webinar_instead_of_training: bool = False
    introduction_template: str = "csm_introduction"
    kickoff_template: str = "kickoff_invite"
    training_template: str = "training_material"
    webinar_template: str = "webinar_invitation"
    complete_template: str = "onboarding_complete"

    @model_validator(mode="after")
    def _unique_stages(self) -> OnboardingPlan:
        if len(set(self.stages)) != len(self.stages):
            raise ValueError("stages must be unique")
        return self


class RenewalPlan(_Config):
    # Outreach starts this long before the contract end date.
    lead_time: timedelta
    reminder_cadence: timedelta
    # If nothing is decided this long before the end date, a CS manager is pulled in.
    manager_escalation_before_end: timedelta
    outreach_template: str = "renewal_outreach"
    reminder_template: str = "renewal_reminder"

    @model_validator(mode="after")
    def _fits(self) -> RenewalPlan:
        if self.manager_escalation_before_end >= self.lead_time:
            raise ValueError("manager_escalation_before_end must be shorter than lead_time")
        if self.reminder_cadence <= timedelta(0):
            raise ValueError("reminder_cadence must be positive")
        return self


class EscalationPolicy(_Config):
    """SLA timers for a customer escalation; each breach moves one step up the chain."""

    ack_within: timedelta
    update_every: timedelta
    resolve_within: timedelta
    chain: list[str] = Field(
        default_factory=lambda: ["csm", "cs_manager", "vp_customer_success"], min_length=1
    )
    # To the customer: a person acknowledging their issue (staff get the alert).
    notice_template: str = "escalation_acknowledgement"

    @model_validator(mode="after")
    def _ordered(self) -> EscalationPolicy:
        if not self.ack_within < self.resolve_within:
            raise ValueError("ack_within must be shorter than resolve_within")
        return self


class SurveyCadence(_Config):
    nps_every: timedelta
    # No NPS in the first weeks of a relationship: there is nothing to rate yet.
    first_nps_after: timedelta = timedelta(days=30)
    csat_after_onboarding: bool = True
    survey_template: str = "survey_invitation"


class SegmentPlaybookConfig(_Config):
    segment: Segment
    requirements: RequirementsPlan = Field(default_factory=RequirementsPlan)
    onboarding: OnboardingPlan = Field(default_factory=OnboardingPlan)
    renewal: RenewalPlan
    escalation: EscalationPolicy
    surveys: SurveyCadence
    # Priority of the CSM tasks the playbooks open for accounts in this segment.
    csm_task_priority: TaskPriority = TaskPriority.NORMAL
    # Per playbook (by its registry name, workflows/playbooks/registry.py), the settings that
    # differ from its shipped policy, e.g. {"usage": {"drop_threshold": 0.2}} or
    # {"upgrade": {"enabled": False}}. The journey checks them when it starts.
    playbooks: dict[str, dict[str, Any]] = Field(default_factory=dict)
    # Quiet hours and frequency cap for automated email to this segment's contacts.
    contact_policy: ContactPolicy = Field(default_factory=ContactPolicy)


def default_config(segment: Segment) -> SegmentPlaybookConfig:
    """The shipped playbook timings for `segment`."""
    match segment:
        case Segment.ENTERPRISE:
            return SegmentPlaybookConfig(
                segment=segment,
                onboarding=OnboardingPlan(
                    stages=["kickoff", "technical_setup", "integration", "training", "go_live"],
                    stall_threshold=timedelta(days=21),
                    kickoff_duration_minutes=90,
                ),
                renewal=RenewalPlan(
                    lead_time=timedelta(days=120),
                    reminder_cadence=timedelta(days=14),
                    manager_escalation_before_end=timedelta(days=45),
                ),
                escalation=EscalationPolicy(
                    ack_within=timedelta(hours=1),
                    update_every=timedelta(hours=4),
                    resolve_within=timedelta(days=2),
                    chain=["csm", "cs_manager", "vp_customer_success", "cro"],
                ),
                surveys=SurveyCadence(nps_every=timedelta(days=90)),
            )
        case Segment.MID_MARKET:
            return SegmentPlaybookConfig(
                segment=segment,
                renewal=RenewalPlan(
                    lead_time=timedelta(days=60),
                    reminder_cadence=timedelta(days=10),
                    manager_escalation_before_end=timedelta(days=21),
                ),
                escalation=EscalationPolicy(
                    ack_within=timedelta(hours=4),
                    update_every=timedelta(hours=12),
                    resolve_within=timedelta(days=5),
                ),
                surveys=SurveyCadence(nps_every=timedelta(days=120)),
            )
        case Segment.SMB:
            return SegmentPlaybookConfig(
                segment=segment,
                onboarding=OnboardingPlan(
                    stages=["kickoff", "training", "go_live"],
                    stall_threshold=timedelta(days=10),
                    kickoff_duration_minutes=30,
                    webinar_instead_of_training=True,
                ),
                renewal=RenewalPlan(
                    lead_time=timedelta(days=30),
                    reminder_cadence=timedelta(days=7),
                    manager_escalation_before_end=timedelta(days=7),
                ),
                escalation=EscalationPolicy(
                    ack_within=timedelta(hours=8),
                    update_every=timedelta(days=1),
                    resolve_within=timedelta(days=10),
                    chain=["csm", "cs_manager"],
                ),
                surveys=SurveyCadence(nps_every=timedelta(days=180)),
            )
    raise ValueError(f"unknown segment: {segment!r}")
