"""Run the customer actions API with uvicorn (what `csflow api` calls)."""

from __future__ import annotations

import logging

import structlog
import uvicorn

from starter.http.app import create_app


def serve(host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve until interrupted; settings and the Temporal connection come from the environment."""
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
    uvicorn.run(create_app(), host=host, port=port, access_log=False, timeout_graceful_shutdown=10)
