"""What every playbook workflow shares: its context, its policy's common fields, and the report
it sends back to the customer journey.

Playbooks are child workflows of the journey, started with `ParentClosePolicy.ABANDON` and
`WorkflowIdReusePolicy.REJECT_DUPLICATE` under `playbook-<name>-<account>-<situation>`: one
situation (a ticket, a usage dip, a silence, a champion change...) can open one playbook, ever.
They report progress and their outcome to the journey by signal (`playbook_report`) instead of
being awaited, so a weeks-long playbook never holds up the journey's continue-as-new.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from temporalio import workflow
from temporalio.exceptions import TemporalError

with workflow.unsafe.imports_passed_through():
    from domain.models import Segment, SurveyCategory, SurveyKind, TaskPriority
    from workflows.actions import CsActions
    from workflows.work_log import SurveyRecord, WorkLog


class PlaybookPolicy(BaseModel):
    """One playbook's slice of the per-segment configuration; each playbook extends it with its
    own thresholds, delays and templates (`SegmentPlaybookConfig.playbooks` overrides them)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True

    @classmethod
    def segment_defaults(cls, segment: Segment) -> dict[str, Any]:
        """Shipped values that differ by segment (under the segment's own overrides)."""
        return {}


P = TypeVar("P", bound=PlaybookPolicy)


def playbook_id(name: str, account_id: str, situation: str) -> str:
    # Situation keys come from customer data (ticket ids...): keep the id readable and safe.
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", situation)[:80]
    return f"playbook-{name}-{account_id}-{safe}"


class PlaybookContext(BaseModel):
    """Who and where: the account, its journey, its CSM and the contact the playbook talks to."""

    account_id: str
    journey_id: str
    csm_owner: str
    contact_id: str
    task_priority: TaskPriority = TaskPriority.NORMAL

    def actions(self) -> CsActions:
        """The CS actions the playbook takes: for this account, to this contact, by this CSM."""
        return CsActions(self.account_id, self.csm_owner, self.contact_id)


class PlaybookInput(BaseModel, Generic[P]):
    """What every playbook starts with: its context and its policy for the account's segment."""

    context: PlaybookContext
    policy: P


class PlaybookResult(BaseModel):
    """What every playbook returns: the work it did (its outcome went to the journey)."""

    log: WorkLog = Field(default_factory=WorkLog)


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
    kind: str  # the playbook's registry name
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


async def finish(context: PlaybookContext, outcome: str, log: WorkLog) -> None:
    """The final report: the outcome and what the playbook did (its surveys went out already)."""
    await report(
        context,
        PlaybookReport(
            playbook_id=workflow.info().workflow_id,
            finished=True,
            outcome=outcome,
            log=log.model_copy(update={"surveys": []}),
        ),
    )


async def answered_within(done: Callable[[], bool], wait: timedelta) -> bool:
    """Wait up to `wait` for `done()`; whether it came true (the answer or response arrived)."""
    try:
        await workflow.wait_condition(done, timeout=max(wait, timedelta(seconds=1)))
    except TimeoutError:
        return False
    return True


class AwaitsSurveyAnswer:
    """A playbook that sent a survey and waits for its answer: the journey forwards every answer
    it records to every open playbook that receives survey outcomes, and the first one to this
    playbook's own survey (`_survey_token`, set once it is sent) is kept."""

    def __init__(self) -> None:
        self._survey_token: str | None = None
        self._answer: SurveyOutcome | None = None

    @workflow.signal(name="survey_outcome")
    def survey_outcome(self, outcome: SurveyOutcome) -> None:
        if outcome.token == self._survey_token and self._answer is None:
            self._answer = outcome

    def _answered(self) -> bool:
        return self._answer is not None
