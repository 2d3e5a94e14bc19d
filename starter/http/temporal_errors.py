"""Telling "Temporal is unreachable right now" apart from every other failure."""

from __future__ import annotations

from temporalio.service import RPCError, RPCStatusCode

_UNAVAILABLE_CODES = {
    RPCStatusCode.UNAVAILABLE,
    RPCStatusCode.DEADLINE_EXCEEDED,
    RPCStatusCode.RESOURCE_EXHAUSTED,
    RPCStatusCode.CANCELLED,
}


class TemporalUnavailable(Exception):
    """Temporal could not be reached; the caller should retry later (HTTP 503)."""


def is_unavailable(error: BaseException) -> bool:
    if isinstance(error, RPCError):
        return error.status in _UNAVAILABLE_CODES
    if isinstance(error, TimeoutError):
        return True
    # A lazy client that never connected raises this before any RPC status exists.
    return isinstance(error, RuntimeError) and str(error).startswith("Failed client connect")


def is_not_found(error: BaseException) -> bool:
    return isinstance(error, RPCError) and error.status == RPCStatusCode.NOT_FOUND
