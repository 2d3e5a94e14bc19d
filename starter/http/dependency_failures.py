"""503 + Retry-After for every failure to reach a dependency, wherever in a handler it surfaces.

Handlers convert the Temporal errors they expect into `TemporalUnavailable`; this middleware is
the backstop for the ones they do not (an SDK call raising a raw RPCError, a lazy client's first
connect, a CRM connection dropping), so a dependency outage never leaves the API as a 500.
"""

from __future__ import annotations

import structlog
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from starter.http.temporal_errors import is_unavailable
from starter.http.tracked_send import TrackedSend

log = structlog.get_logger("csflow.api")

_DATABASE_ERRORS = (OperationalError, InterfaceError, DisconnectionError, PoolTimeout)
TEMPORAL_DOWN = "the workflow service is unreachable; nothing was recorded, retry later"
DATABASE_DOWN = "the CRM database is unavailable; nothing was recorded, retry later"


def outage_detail(error: BaseException) -> str | None:
    """What to tell the caller when `error` is a dependency outage; None for anything else."""
    if isinstance(error, _DATABASE_ERRORS):
        return DATABASE_DOWN
    if is_unavailable(error):
        return TEMPORAL_DOWN
    return None


class DependencyFailureMiddleware:
    def __init__(self, app: ASGIApp, retry_after_seconds: int) -> None:
        self.app = app
        self.retry_after = str(retry_after_seconds)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        tracked_send = TrackedSend(send)
        try:
            await self.app(scope, receive, tracked_send)
        except Exception as exc:
            detail = outage_detail(exc)
            if detail is None or tracked_send.response_started:
                raise
            log.warning("dependency unavailable", error=f"{type(exc).__name__}: {exc}"[:300])
            response = JSONResponse(
                {"detail": detail}, status_code=503, headers={"Retry-After": self.retry_after}
            )
            await response(scope, receive, send)
