"""Request and response bodies of POST /v1/events."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.input_checks import SaneDatetime, SingleLine
from domain.models import AccountUpsert
from workflows.customer_event import CustomerEventType, EventAck

# Ids travel into Temporal request ids, logs and dedupe lists: keep them plain.
EVENT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@/+\-]{0,127}$"


class EventIntake(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event_id: str = Field(
        pattern=EVENT_ID_PATTERN,
        description="the sender's unique id for this event within the account: re-posting the "
        "same event is harmless, posting a different event under a used id is refused (409)",
    )
    account_id: SingleLine = Field(min_length=1, max_length=64)
    type: CustomerEventType
    payload: dict[str, Any] = Field(
        default_factory=dict, description="the event's details; the schema depends on `type`"
    )
    occurred_at: SaneDatetime | None = None
    account: AccountUpsert | None = Field(
        default=None,
        description="the account, needed only to start a journey for an account csflow does "
        "not know yet",
    )
    team: dict[str, str] = Field(
        default_factory=dict, description="escalation chain emails by role (e.g. cs_manager)"
    )


class EventAccepted(BaseModel):
    status: Literal["accepted"] = "accepted"
    event_id: str
    account_id: str
    workflow_id: str
    started: bool = Field(description="true when this event started the journey")


class EventProcessed(BaseModel):
    status: Literal["processed"] = "processed"
    event_id: str
    account_id: str
    workflow_id: str
    ack: EventAck
