"""One structured log line per request, carrying a request id (X-Request-ID in and out).

Handlers add the account and workflow they resolved with `note_request()`; the fields land on
the access line and on every log line emitted while the request is handled.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import structlog
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = structlog.get_logger("csflow.api")

REQUEST_ID_HEADER = "x-request-id"
# Accept a caller's id only if it is short and printable, so it cannot forge log lines.
_ACCEPTABLE_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
_FIELDS_KEY = "csflow_log_fields"
# Path segments that are credentials never reach the logs: the Inbound Parse path secret, and
# the survey and unsubscribe tokens that act for the customer whose email carried them.
_SECRET_PATHS = re.compile(r"^(/v1/webhooks/sendgrid/inbound/|/s/|/v1/unsubscribe/)[^/]+")


def loggable_path(path: str) -> str:
    return _SECRET_PATHS.sub(r"\1<secret>", path)


def note_request(request: Request, **fields: str | None) -> None:
    """Attach e.g. account_id / workflow_id to this request's log lines."""
    known = {k: v for k, v in fields.items() if v is not None}
    request.scope.setdefault("state", {}).setdefault(_FIELDS_KEY, {}).update(known)
    structlog.contextvars.bind_contextvars(**known)


class RequestLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(REQUEST_ID_HEADER.encode(), b"").decode("latin-1")
        request_id = incoming if _ACCEPTABLE_ID.match(incoming) else uuid.uuid4().hex
        state: dict[str, Any] = scope.setdefault("state", {})
        state["request_id"] = request_id
        fields: dict[str, str] = state.setdefault(_FIELDS_KEY, {})
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER.encode(), request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        tokens = structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            log.info(
                "request",
                method=scope["method"],
                path=loggable_path(scope["path"]),
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 1),
                **fields,
            )
            structlog.contextvars.reset_contextvars(**tokens)
            structlog.contextvars.unbind_contextvars(*fields)
