"""RPC plumbing shared by the servicers: error mapping, commit-before-reply, long-poll budgets."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc
import structlog

from devserver.errors import ServiceError

log = structlog.get_logger("devserver.rpc")

# Long polls answer before the SDK's ~70 s client deadline.
MAX_LONG_POLL_SECONDS = 60.0

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])


def rpc(method: F) -> F:
    """Map ServiceError to its gRPC status (with typed details); log anything unexpected."""

    @functools.wraps(method)
    async def wrapper(self: Any, request: Any, context: grpc.aio.ServicerContext) -> Any:
        try:
            return await method(self, request, context)
        except ServiceError as exc:
            await context.abort(
                exc.code,
                exc.message,
                trailing_metadata=(("grpc-status-details-bin", exc.status_details()),),
            )
        except (asyncio.CancelledError, grpc.aio.AbortError):
            raise
        except Exception as exc:
            log.exception("internal error", rpc=method.__name__)
            await context.abort(grpc.StatusCode.INTERNAL, f"devserver internal error: {exc}")
        finally:
            # Durable before the caller hears back (a no-op without --db-filename).
            self.engine.flush()

    return wrapper  # type: ignore[return-value]


def poll_timeout(context: grpc.aio.ServicerContext, cap: float = MAX_LONG_POLL_SECONDS) -> float:
    remaining = context.time_remaining()
    if remaining is None:
        return cap
    return max(min(cap, remaining - 1.0), 0.0)
