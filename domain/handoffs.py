"""A process-map milestone of one account as the CRM records it: its state and the audit entry
of each change (who, when, through what)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from domain.models import DomainModel


class HandoffState(StrEnum):
    WAITING = "waiting"  # its start has not come
    BLOCKED = "blocked"  # its start has come; a milestone it depends on is not done
    OPEN = "open"  # a handoff task is with the owning function
    OVERDUE = "overdue"  # past due (its function's lead has been told)
    DONE = "done"
    CANCELLED = "cancelled"  # the customer's journey ended first


# In people's words (CLI, console, picture).
HANDOFF_STATE_WORDS = {
    HandoffState.WAITING: "not yet due to start",
    HandoffState.BLOCKED: "blocked",
    HandoffState.OPEN: "open",
    HandoffState.OVERDUE: "overdue",
    HandoffState.DONE: "done",
    HandoffState.CANCELLED: "cancelled",
}


class HandoffProgress(BaseModel):
    """Where one occurrence of a milestone stands (`cycle` counts repeats and contract terms):
    the process-map workflow's record of it, and the CRM row's content."""

    milestone_id: str
    cycle: int = 0
    state: HandoffState = HandoffState.WAITING
    starts_at: datetime
    due_at: datetime
    blocker: str | None = None
    task_id: int | None = None
    opened_at: datetime | None = None
    done_at: datetime | None = None
    done_by: str | None = None
    evidence: str | None = None
    escalated_at: datetime | None = None

    @property
    def key(self) -> str:
        return f"{self.milestone_id}:{self.cycle}"


class HandoffUpdate(DomainModel):
    """A change of a milestone occurrence: where it stands now, with its function and map, and
    the timeline entry saying what happened, who did it (a person, or "csflow") and through
    what."""

    account_id: str
    progress: HandoffProgress
    function: str
    title: str
    owner: str
    map_version: str
    workflow_id: str
    summary: str = Field(max_length=2000)
    actor: str
    source: str
    at: datetime
    idempotency_key: str = Field(min_length=1, max_length=400)

    @property
    def key(self) -> str:
        return f"{self.account_id}:{self.progress.key}"
