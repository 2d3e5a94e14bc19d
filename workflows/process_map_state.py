"""What the process-map workflow of one account knows and is told: the moments of the journey
(anchors), and each milestone occurrence with its state."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from domain.handoffs import HandoffProgress
from domain.process_map import Anchor, ProcessMap
from workflows.work_log import WorkLog


class AnchorReached(BaseModel):
    """A moment of the journey that milestones count from (sent by the journey)."""

    anchor: Anchor
    at: datetime


class MilestoneDone(BaseModel):
    """Sent to the journey when a milestone is done (a gated stage may go ahead)."""

    milestone_id: str
    cycle: int
    done_at: datetime


# The workflow's record of a milestone occurrence is what the CRM row holds.
MilestoneRun = HandoffProgress


class ProcessMapInput(BaseModel):
    account_id: str
    account_name: str
    csm_owner: str
    journey_id: str
    # The map this account's journey started with: later edits of the file do not reach it.
    process_map: ProcessMap
    # Carried by continue-as-new.
    anchors: list[AnchorReached] = Field(default_factory=list)
    runs: list[MilestoneRun] = Field(default_factory=list)
    log: WorkLog = Field(default_factory=WorkLog)
    ended: bool = False


class ProcessMapStart(BaseModel):
    """What the journey asks `start_process_map` to start."""

    workflow_id: str
    input: ProcessMapInput
    summary: str
    # The account's labels in the Web UI (search attributes).
    segment: str
    stage: str
