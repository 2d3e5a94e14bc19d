"""Namespaces and the custom search attributes registered in each."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from temporalio.api.enums.v1 import IndexedValueType

from devserver.errors import AlreadyExists, InvalidArgument, NamespaceNotFound

# The Temporal CLI dev server pre-registers these, and SDK samples rely on them.
DEFAULT_SEARCH_ATTRIBUTES: dict[str, int] = {
    "CustomKeywordField": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    "CustomStringField": IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
    "CustomTextField": IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
    "CustomIntField": IndexedValueType.INDEXED_VALUE_TYPE_INT,
    "CustomDatetimeField": IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
    "CustomDoubleField": IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
    "CustomBoolField": IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
}

TYPE_NAMES: dict[str, int] = {
    "text": IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
    "keyword": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    "int": IndexedValueType.INDEXED_VALUE_TYPE_INT,
    "double": IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
    "bool": IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
    "datetime": IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
    "keywordlist": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
}


def parse_search_attribute_flag(flag: str) -> tuple[str, int]:
    """`Name=Type` as given to `--search-attribute`."""
    name, sep, type_name = flag.partition("=")
    if not sep or not name.strip():
        raise ValueError(f"--search-attribute {flag!r}: expected Name=Type")
    value_type = TYPE_NAMES.get(type_name.strip().lower().replace("_", ""))
    if value_type is None:
        raise ValueError(
            f"--search-attribute {flag!r}: unknown type {type_name!r} "
            f"(one of {', '.join(sorted(TYPE_NAMES))})"
        )
    return name.strip(), value_type


@dataclass
class Namespace:
    name: str
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    description: str = ""
    owner_email: str = ""
    retention: timedelta = timedelta(days=1)
    search_attributes: dict[str, int] = field(
        default_factory=lambda: dict(DEFAULT_SEARCH_ATTRIBUTES)
    )


class Namespaces:
    def __init__(self) -> None:
        self._by_name: dict[str, Namespace] = {}

    def ensure(self, name: str) -> Namespace:
        found = self._by_name.get(name)
        if found is None:
            found = self._by_name[name] = Namespace(name)
        return found

    def register(self, namespace: Namespace) -> Namespace:
        if not namespace.name:
            raise InvalidArgument("namespace is not set on request.")
        if namespace.name in self._by_name:
            raise AlreadyExists(f"Namespace {namespace.name} already exists.")
        self._by_name[namespace.name] = namespace
        return namespace

    def get(self, name: str) -> Namespace:
        if not name:
            raise InvalidArgument("namespace is not set on request.")
        found = self._by_name.get(name)
        if found is None:
            raise NamespaceNotFound(name)
        return found

    def get_by_id(self, namespace_id: str) -> Namespace:
        for namespace in self._by_name.values():
            if namespace.id == namespace_id:
                return namespace
        raise NamespaceNotFound(namespace_id)

    def all(self) -> list[Namespace]:
        return list(self._by_name.values())
