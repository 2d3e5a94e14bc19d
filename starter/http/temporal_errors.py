"""Telling "Temporal is unreachable right now" apart from every other failure."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from temporalio.api.workflowservice.v1 import GetSystemInfoRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

_UNAVAILABLE_CODES = {
    RPCStatusCode.UNAVAILABLE,
    RPCStatusCode.DEADLINE_EXCEEDED,
    RPCStatusCode.RESOURCE_EXHAUSTED,
    RPCStatusCode.CANCELLED,
}
# Also what a caller's own deadline (or giving up waiting) looks like.
_DEADLINE_CODES = {RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED}
# A connection that breaks mid-call (the server killed, a proxy resetting) surfaces as UNKNOWN
# with the transport's words rather than as UNAVAILABLE.
_TRANSPORT_MARKERS = ("transport error", "connection", "broken pipe", "h2 protocol error")


class TemporalUnavailable(Exception):
    """Temporal could not be reached; the caller should retry later (HTTP 503)."""


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _is_outage(error: BaseException) -> bool:
    if isinstance(error, TemporalUnavailable):
        return True
    if isinstance(error, RPCError):
        if error.status in _UNAVAILABLE_CODES:
            return True
        message = error.message.lower()
        return error.status == RPCStatusCode.UNKNOWN and any(
            marker in message for marker in _TRANSPORT_MARKERS
        )
    if isinstance(error, TimeoutError | ConnectionError):
        return True
    # A lazy client that never connected raises this before any RPC status exists.
    return isinstance(error, RuntimeError) and str(error).startswith("Failed client connect")


def is_unavailable(error: BaseException) -> bool:
    """True when `error`, or what caused it, says the service could not be reached."""
    return any(_is_outage(e) for e in _chain(error))


def is_transport_failure(error: BaseException) -> bool:
    """Like is_unavailable, but not for deadlines: a deadline may just mean a slow workflow."""
    for e in _chain(error):
        if isinstance(e, TimeoutError) or (isinstance(e, RPCError) and e.status in _DEADLINE_CODES):
            continue
        if _is_outage(e):
            return True
    return False


def is_not_found(error: BaseException) -> bool:
    return isinstance(error, RPCError) and error.status == RPCStatusCode.NOT_FOUND


async def answers(client: Client, timeout: timedelta) -> bool:
    """One cheap, unretried RPC: does the server answer at all?"""
    try:
        await client.workflow_service.get_system_info(
            GetSystemInfoRequest(), retry=False, timeout=timeout
        )
    except Exception:  # any failure means "no"
        return False
    return True
