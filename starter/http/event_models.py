"""Request and response bodies of POST /v1/events."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, create_model

from domain.input_checks import SaneDatetime, SingleLine
from domain.models import AccountUpsert
from starter.http.openapi_docs import ONE_LINE, SANE_DATE
from workflows.customer_event import PAYLOAD_MODELS, CustomerEventType, EventAck

# Ids travel into Temporal request ids, logs and dedupe lists: keep them plain.
EVENT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@/+\-]{0,127}$"


class EventIntake(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event_id: str = Field(
        pattern=EVENT_ID_PATTERN,
        description="the sender's unique id for this event within the account: re-posting the "
        "same event is harmless, posting a different event under a used id is refused (409)",
    )
    account_id: SingleLine = Field(min_length=1, max_length=64, json_schema_extra=ONE_LINE)
    type: CustomerEventType
    payload: dict[str, Any] = Field(
        default_factory=dict, description="the event's details; the schema depends on `type`"
    )
    occurred_at: SaneDatetime | None = Field(default=None, json_schema_extra=SANE_DATE)
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


def _typed_intake(event_type: CustomerEventType) -> type[EventIntake]:
    """EventIntake with `payload` as the schema of `event_type` (for the documentation: the
    endpoint parses EventIntake and checks the payload itself, naming the field)."""
    payload_model = PAYLOAD_MODELS[event_type]
    required = any(field.is_required() for field in payload_model.model_fields.values())
    name = "".join(part.title() for part in event_type.value.split("_")) + "Event"
    payload: Any = ... if required else Field(default_factory=payload_model)
    tag: Any = Literal[event_type.value]
    model: type[EventIntake] = create_model(
        name,
        __base__=EventIntake,
        __doc__=f"A `{event_type.value}` event.",
        type=(tag, ...),
        payload=(payload_model, payload),
    )
    return model


# Every event type's body, told apart by `type`: what POST /v1/events documents.
DOCUMENTED_EVENT: Any = Annotated[
    Union[tuple(_typed_intake(t) for t in CustomerEventType)],  # noqa: UP007
    Field(discriminator="type"),
]
