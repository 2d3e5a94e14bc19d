"""The OpenAPI document: FastAPI's, plus the request bodies FastAPI cannot see.

Webhook routes read their body raw, because a signature or credential is checked before anything
parses it; POST /v1/events parses a generic envelope whose `payload` depends on `type`. Such a
route passes `openapi_extra=request_body(...)`; `install()` makes that the documented body and
adds the models it refers to, so a generated client sends the right shapes.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, TypeAdapter

_REF_TEMPLATE = "#/components/schemas/{model}"
# `json_schema_extra` of a one-line text field (domain.input_checks.SingleLine): the check itself
# stays SingleLine's, whose message names the offending character.
ONE_LINE: dict[str, Any] = {"pattern": "^[^\\x00-\\x1f\\x7f-\\x9f\\u2028\\u2029]*$"}
# domain.input_checks' date range (1990..2100) as far as a pattern can say it: the year.
SANE_DATE: dict[str, Any] = {"pattern": "^(199[0-9]|20[0-9][0-9]|2100)-"}
# The same for free text (domain.input_checks.Text): tabs and line breaks allowed.
TEXT: dict[str, Any] = {"pattern": "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f]*$"}
# Carries the body from the route to install(), past FastAPI's merge of openapi_extra (which
# would mix it with the generic schema FastAPI derives from the handler's parameters).
_BODY_KEY = "x-csflow-request-body"
# Models the documented bodies refer to, by name; added to the document's components.
_components: dict[str, Any] = {}


def request_body(media_type: str, type_: Any, description: str) -> dict[str, Any]:
    """`openapi_extra` documenting `type_` (a model, a list or a union) as the request body."""
    return {
        _BODY_KEY: {
            "required": True,
            "description": description,
            "content": {media_type: {"schema": _schema(type_)}},
        }
    }


def install(app: FastAPI) -> None:
    """Make `app.openapi()` (and /openapi.json, /docs) serve the completed document."""

    def build() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            components = document.setdefault("components", {}).setdefault("schemas", {})
            for name, definition in _components.items():
                _add_component(components, name, definition)
            for operations in document["paths"].values():
                for operation in operations.values():
                    if _BODY_KEY in operation:
                        operation["requestBody"] = operation.pop(_BODY_KEY)
            _drop_unreferenced(document)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = build  # type: ignore[method-assign]


def _schema(type_: Any) -> dict[str, Any]:
    """The JSON schema of `type_`, its models referenced from the components."""
    schema = TypeAdapter(type_).json_schema(ref_template=_REF_TEMPLATE, by_alias=True)
    for name, definition in schema.pop("$defs", {}).items():
        _add_component(_components, name, definition)
    if isinstance(type_, type) and issubclass(type_, BaseModel):
        _add_component(_components, type_.__name__, schema)
        return {"$ref": _REF_TEMPLATE.format(model=type_.__name__)}
    return schema


def _add_component(components: dict[str, Any], name: str, definition: dict[str, Any]) -> None:
    existing = components.setdefault(name, definition)
    if _comparable(existing) != _comparable(definition):
        # Two different models by one name would silently document the wrong one.
        raise ValueError(f"OpenAPI component {name!r} is defined twice, differently")


def _comparable(schema: Any) -> Any:
    """`schema` without `"default": null`, which FastAPI leaves out and pydantic writes."""
    if isinstance(schema, dict):
        return {k: _comparable(v) for k, v in schema.items() if not (k == "default" and v is None)}
    if isinstance(schema, list):
        return [_comparable(v) for v in schema]
    return schema


def _drop_unreferenced(document: dict[str, Any]) -> None:
    """Remove components no operation refers to (e.g. the generic event envelope the
    per-type events replace), so a generated client has no dead models."""
    components: dict[str, Any] = document["components"]["schemas"]
    prefix = _REF_TEMPLATE.format(model="")
    reachable: set[str] = set()
    pending: list[Any] = [document["paths"]]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str) and ref.startswith(prefix):
                name = ref.removeprefix(prefix)
                if name not in reachable:
                    reachable.add(name)
                    pending.append(components.get(name))
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    for name in set(components) - reachable:
        del components[name]
