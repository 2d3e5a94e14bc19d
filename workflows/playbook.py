"""What every playbook shares: its kind, deterministic id, context, and the report it sends
back to the customer journey.

Playbooks are child workflows of the journey, started with `ParentClosePolicy.ABANDON` and
`WorkflowIdReusePolicy.REJECT_DUPLICATE` under `playbook-<kind>-<account>-<situation>`: one
situation (a ticket, a usage dip, a silence, a champion change...) can open one playbook, ever.
They report progress and their outcome to the journey by signal (`playbook_report`) instead of
being awaited, so a weeks-long playbook never holds up the journey's continue-as-new.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field
from temporalio import workflow
from temporalio.exceptions import TemporalError

with workflow.unsafe.imports_passed_through():
    from domain.models import SurveyCategory, SurveyKind, TaskPriority
    from workflows.playbook_policy import PlaybookPolicy
    from workflows.work_log import SurveyRecord, WorkLog

# Journeys recorded before playbooks existed keep their old command sequence.
PLAYBOOKS_PATCH = "journey-playbooks-v1"


class PlaybookType(StrEnum):
    SUPPORT = "support"
    USAGE = "usage"
    UNRESPONSIVE = "unresponsive"
    CONTACT = "contact"
    UPGRADE = "upgrade"
    NPS = "nps"


def playbook_id(kind: PlaybookType, account_id: str, situation: str) -> str:
    # Situation keys come from customer data (ticket ids...): keep the id readable and safe.
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", situation)[:80]
    return f"playbook-{kind.value}-{account_id}-{safe}"


class PlaybookContext(BaseModel):
    """Who and where: the account, its journey, its CSM and the contact the playbook talks to."""

    account_id: str
    journey_id: str
    csm_owner: str
    contact_id: str
    task_priority: TaskPriority = TaskPriority.NORMAL
    policy: PlaybookPolicy = Field(default_factory=PlaybookPolicy)


class SurveyOutcome(BaseModel):
    """A survey answer the journey recorded, forwarded to the playbooks waiting for it."""

    token: str
    kind: SurveyKind
    score: int
    category: SurveyCategory


class PlaybookReport(BaseModel):
    playbook_id: str
    finished: bool = False
    outcome: str = ""
    # Surveys are reported as soon as they exist, so the journey can match their answers.
    surveys: list[SurveyRecord] = Field(default_factory=list)
    log: WorkLog = Field(default_factory=WorkLog)


class PlaybookSummary(BaseModel):
    """The journey's record of a playbook it opened."""

    playbook_id: str
    kind: PlaybookType
    situation: str
    summary: str
    opened_at: datetime
    open: bool = True
    outcome: str = ""
    finished_at: datetime | None = None


async def report(context: PlaybookContext, message: PlaybookReport) -> None:
    """Tell the journey; a journey that has ended (churned) no longer needs to know."""
    try:
        await workflow.get_external_workflow_handle(context.journey_id).signal(
            "playbook_report", message
        )
    except TemporalError as exc:
        workflow.logger.warning("journey %s not told: %s", context.journey_id, exc)


def final_report(playbook: str, outcome: str, log: WorkLog) -> PlaybookReport:
    # Surveys went out with their own reports already.
    return PlaybookReport(
        playbook_id=playbook,
        finished=True,
        outcome=outcome,
        log=log.model_copy(update={"surveys": []}),
    )
