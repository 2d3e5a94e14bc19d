"""OpenAPI descriptions of the responses every route shares: errors, refusals and outages.

One place, so the documented shape of a 401, 413, 422 or 503 is the one the API sends
(HTTPException and the middlewares answer `{"detail": ...}`; 422 lists the problems by location).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

Responses = dict[int | str, dict[str, Any]]


class ErrorDetail(BaseModel):
    detail: str = Field(description="what went wrong, for a human")


class ValidationProblem(BaseModel):
    loc: list[str | int] = Field(description="where: body, then the field path")
    msg: str
    type: str


class ValidationFailed(BaseModel):
    detail: list[ValidationProblem]


STRING = {"type": "string"}
RETRY_AFTER = {
    "Retry-After": {
        "description": "seconds to wait before retrying",
        "required": True,
        "schema": {"type": "integer"},
    }
}


def error(description: str, **headers: str) -> dict[str, Any]:
    """A `{"detail": "..."}` response, with the named headers documented as sent."""
    documented = {
        name.replace("_", "-"): {
            "description": text,
            "required": True,
            "schema": {"type": "string"},
        }
        for name, text in headers.items()
    }
    response: dict[str, Any] = {"model": ErrorDetail, "description": description}
    if documented:
        response["headers"] = documented
    return response


def unavailable(description: str) -> dict[str, Any]:
    return {"model": ErrorDetail, "description": description, "headers": RETRY_AFTER}


INVALID = {"model": ValidationFailed, "description": "invalid input; `loc` names each field"}
TOO_LARGE = error("request body larger than the limit (256 KiB by default); nothing was read")
DEPENDENCY_DOWN = unavailable(
    "Temporal or the CRM database unreachable; nothing was recorded, retry after Retry-After"
)


# What any route that reads a body may answer besides its own codes.
BODY_ERRORS: Responses = {413: TOO_LARGE, 422: INVALID, 503: DEPENDENCY_DOWN}
