"""Custom search attributes: validation against a namespace's registry, upsert, decoding."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from temporalio.api.common.v1 import message_pb2 as common_pb
from temporalio.api.enums.v1 import IndexedValueType

from devserver.visibility_query import SYSTEM_ATTRIBUTES

# System attributes the SDKs set themselves: `workflow.patched()` records its patch ids here.
WORKFLOW_SETTABLE: dict[str, int] = {
    "TemporalChangeVersion": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
}


def _is_unset(payload: common_pb.Payload) -> bool:
    # An upsert of null (or an empty list) removes the attribute.
    return payload.data in (b"", b"null", b"[]")


def validate_search_attributes(
    attributes: common_pb.SearchAttributes, registered: dict[str, int]
) -> str | None:
    """A message naming the first bad attribute, or None when all are registered and typed."""
    for name, payload in attributes.indexed_fields.items():
        value_type = registered.get(name) or WORKFLOW_SETTABLE.get(name)
        if name in SYSTEM_ATTRIBUTES and name not in WORKFLOW_SETTABLE:
            return f"search attribute {name} is a system attribute and cannot be set"
        if value_type is None:
            return f"search attribute {name} is not defined"
        if _is_unset(payload):
            continue
        try:
            decode_value(payload, value_type)
        except (ValueError, TypeError) as exc:
            type_name = IndexedValueType.Name(value_type).removeprefix(  # type: ignore[arg-type]
                "INDEXED_VALUE_TYPE_"
            )
            return f"invalid value for search attribute {name} of type {type_name}: {exc}"
    return None


def merge_search_attributes(
    target: common_pb.SearchAttributes, upsert: common_pb.SearchAttributes
) -> None:
    for name, payload in upsert.indexed_fields.items():
        if _is_unset(payload):
            target.indexed_fields.pop(name, None)
        else:
            target.indexed_fields[name].CopyFrom(payload)


def decode_value(payload: common_pb.Payload, value_type: int) -> Any:
    """The Python value of a search attribute payload (JSON-encoded by every SDK)."""
    value = json.loads(payload.data)
    if value_type == IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST:
        values = value if isinstance(value, list) else [value]
        if not all(isinstance(v, str) for v in values):
            raise TypeError("expected a list of strings")
        return list(values)
    if isinstance(value, list):
        # SDKs may send single values as one-element lists.
        if len(value) != 1:
            raise TypeError("expected a single value")
        value = value[0]
    if value_type in (
        IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
        IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
    ):
        if not isinstance(value, str):
            raise TypeError("expected a string")
        return value
    if value_type == IndexedValueType.INDEXED_VALUE_TYPE_INT:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError("expected an integer")
        return value
    if value_type == IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError("expected a number")
        return float(value)
    if value_type == IndexedValueType.INDEXED_VALUE_TYPE_BOOL:
        if not isinstance(value, bool):
            raise TypeError("expected true or false")
        return value
    if value_type == IndexedValueType.INDEXED_VALUE_TYPE_DATETIME:
        if not isinstance(value, str):
            raise TypeError("expected an RFC 3339 timestamp")
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    raise TypeError(f"unknown type {value_type}")


def decode_all(
    attributes: common_pb.SearchAttributes, registered: dict[str, int]
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, payload in attributes.indexed_fields.items():
        value_type = registered.get(name) or WORKFLOW_SETTABLE.get(name)
        if value_type is None or _is_unset(payload):
            continue
        try:
            values[name] = decode_value(payload, value_type)
        except (ValueError, TypeError):
            continue  # stored before a type change: not searchable, still returned as-is
    return values
