"""A process-map milestone of one account as the CRM records it: its state and the audit entry
of each change (who, when, through what)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field

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


class HandoffUpdate(DomainModel):
    """The milestone occurrence as it stands after a change, and the timeline entry saying so."""

    account_id: str
    milestone_id: str
    cycle: int = 0
    function: str
    title: str
    owner: str
    map_version: str
    state: HandoffState
    starts_at: datetime
    due_at: datetime
    opened_at: datetime | None = None
    done_at: datetime | None = None
    done_by: str | None = None
    evidence: str | None = None
    escalated_at: datetime | None = None
    blocker: str | None = None
    task_id: int | None = None
    workflow_id: str
    # The audit entry: what happened, who did it (a person, or "csflow"), through what.
    summary: str = Field(max_length=2000)
    actor: str
    source: str
    at: datetime
    idempotency_key: str = Field(min_length=1, max_length=400)

    @property
    def key(self) -> str:
        return f"{self.account_id}:{self.milestone_id}:{self.cycle}"
