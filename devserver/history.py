"""A workflow run's event history: appending events and reading them back in pages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from google.protobuf.message import Message
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import message_pb2 as history_pb

# Event type -> name of the HistoryEvent attributes field that carries its details.
_ATTRIBUTE_FIELDS: dict[int, str] = {}
for _field in history_pb.HistoryEvent.DESCRIPTOR.oneofs_by_name["attributes"].fields:
    _type_name = "EVENT_TYPE_" + _field.name.removesuffix("_event_attributes").upper()
    _ATTRIBUTE_FIELDS[EventType.Value(_type_name)] = _field.name

CLOSE_EVENT_TYPES = frozenset(
    {
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
    }
)


def make_event(event_type: int, attributes: Message, when: datetime) -> history_pb.HistoryEvent:
    """An event without an id yet (ids are assigned when it is written to the history)."""
    event = history_pb.HistoryEvent(event_type=event_type)  # type: ignore[arg-type]
    event.event_time.FromDatetime(when)
    getattr(event, _ATTRIBUTE_FIELDS[event_type]).CopyFrom(attributes)
    return event


def attributes_of(event: history_pb.HistoryEvent) -> Any:
    return getattr(event, _ATTRIBUTE_FIELDS[event.event_type])


class History:
    """The ordered events of one run. Event ids start at 1 and have no gaps."""

    def __init__(self) -> None:
        self.events: list[history_pb.HistoryEvent] = []
        self.size_bytes = 0
        self._task_ids = 0

    @property
    def next_event_id(self) -> int:
        return len(self.events) + 1

    @property
    def last_event_id(self) -> int:
        return len(self.events)

    def append(self, event: history_pb.HistoryEvent) -> history_pb.HistoryEvent:
        event.event_id = self.next_event_id
        self._task_ids += 1
        event.task_id = self._task_ids
        self.events.append(event)
        self.size_bytes += event.ByteSize()
        return event

    def get(self, event_id: int) -> history_pb.HistoryEvent:
        return self.events[event_id - 1]

    def page(self, first_event_id: int, max_size: int) -> list[history_pb.HistoryEvent]:
        start = max(first_event_id, 1) - 1
        return self.events[start : start + max_size]
