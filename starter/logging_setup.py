"""Structured logs: JSON lines in production (CSFLOW_ENV=production), readable ones elsewhere."""

from __future__ import annotations

import logging
import sys

import structlog

from domain.settings import Settings


def configure_logging(
    settings: Settings, *, to_stderr: bool = True, level: str | None = None
) -> None:
    """`level` overrides CSFLOW_LOG_LEVEL (commands whose stdout is a report log warnings only)."""
    level_name = (level or settings.log_level).upper()
    threshold = logging.getLevelNamesMapping().get(level_name, logging.INFO)
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if settings.production
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(threshold),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr if to_stderr else sys.stdout),
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(
        level=threshold, stream=sys.stderr, format="%(levelname)s %(name)s %(message)s"
    )
