"""422 responses in FastAPI's shape (`{"detail": [{"loc", "msg", "type"}]}`), for the checks that
run after the body model validated and, through `validation_failed`, for FastAPI's own."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from starlette.exceptions import HTTPException


def field_error(loc: Sequence[str | int], message: str, kind: str = "value_error") -> Exception:
    return RequestValidationError([{"loc": tuple(loc), "msg": message, "type": kind}])


def nested_errors(prefix: Sequence[str | int], error: ValidationError) -> Exception:
    """Re-root a nested model's validation errors under `prefix` (e.g. body.payload)."""
    items: list[dict[str, Any]] = []
    for item in error.errors(include_url=False, include_context=False):
        items.append({"loc": (*prefix, *item["loc"]), "msg": item["msg"], "type": item["type"]})
    return RequestValidationError(items)


class AsciiJSONResponse(JSONResponse):
    """JSON with non-ASCII escaped: a lone surrogate from the request (valid in JSON text, not
    in UTF-8) cannot make rendering the error fail."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode("ascii")


async def validation_failed(request: Request, exc: Exception) -> Response:
    """422 listing each problem by location. The offending input is not echoed: it may be large,
    private, or not encodable (FastAPI's own handler answered 500 on a lone surrogate)."""
    assert isinstance(exc, RequestValidationError)
    problems = [
        {
            "loc": list(item.get("loc", ())),
            "msg": str(item.get("msg", "")),
            "type": item.get("type"),
        }
        for item in exc.errors()
    ]
    return AsciiJSONResponse({"detail": problems}, status_code=422)


async def http_error(request: Request, exc: Exception) -> Response:
    """HTTPException (FastAPI's and Starlette's: 404, 405) as FastAPI renders it, safe for
    details that quote the request."""
    assert isinstance(exc, HTTPException)
    return AsciiJSONResponse(
        {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
    )
