"""Every workflow type csflow runs, for the worker to register (and tests to run)."""

from __future__ import annotations

from workflows.campaign import CampaignWorkflow
from workflows.escalation import EscalationWorkflow
from workflows.journey import CustomerJourneyWorkflow
from workflows.nightly_health import NightlyHealthWorkflow
from workflows.onboarding import OnboardingWorkflow
from workflows.playbooks.registry import PLAYBOOK_WORKFLOWS
from workflows.process_map import ProcessMapWorkflow
from workflows.renewal import RenewalWorkflow
from workflows.requirements import RequirementsGatheringWorkflow

WORKFLOWS: list[type] = [
    CustomerJourneyWorkflow,
    RequirementsGatheringWorkflow,
    OnboardingWorkflow,
    RenewalWorkflow,
    EscalationWorkflow,
    CampaignWorkflow,
    NightlyHealthWorkflow,
    ProcessMapWorkflow,
    *PLAYBOOK_WORKFLOWS,
]
