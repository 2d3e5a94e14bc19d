"""422 responses in FastAPI's own shape for checks that run after the body model validated."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError


def field_error(loc: Sequence[str | int], message: str, kind: str = "value_error") -> Exception:
    return RequestValidationError([{"loc": tuple(loc), "msg": message, "type": kind}])


def nested_errors(prefix: Sequence[str | int], error: ValidationError) -> Exception:
    """Re-root a nested model's validation errors under `prefix` (e.g. body.payload)."""
    items: list[dict[str, Any]] = []
    for item in error.errors(include_url=False, include_context=False):
        items.append({"loc": (*prefix, *item["loc"]), "msg": item["msg"], "type": item["type"]})
    return RequestValidationError(items)
