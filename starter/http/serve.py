"""Run the customer actions API with uvicorn (what `csflow api` calls)."""

from __future__ import annotations

import logging

import structlog
import uvicorn

from domain.settings import Settings
from starter.http.app import create_app


def serve(settings: Settings, host: str, port: int) -> None:
    """Serve until interrupted; the Temporal connection comes from `temporalio.envconfig`."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
            structlog.processors.JSONRenderer(),
        ],
    )
    # uvicorn's own access log would duplicate RequestLogMiddleware's line without its fields.
    uvicorn.run(
        create_app(settings), host=host, port=port, access_log=False, timeout_graceful_shutdown=10
    )
