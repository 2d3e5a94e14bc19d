"""The customer actions API application (FastAPI)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from temporalio.client import Client

from domain.settings import Settings
from starter.console.mount import install as install_console
from starter.http import (
    account_journey_api,
    docs_pages,
    events_api,
    health,
    inbound_replies,
    openapi_docs,
    sendgrid_events,
    support_webhook,
    survey_pages,
    tasks_api,
    unsubscribe,
)
from starter.http.body_limit import BodyLimitMiddleware
from starter.http.dependency_failures import DependencyFailureMiddleware
from starter.http.limits import MAX_BODY_BYTES, RETRY_AFTER_SECONDS
from starter.http.reply_tokens import ReplyTokenIndex
from starter.http.request_log import RequestLogMiddleware
from starter.http.temporal_client import connect_lazily
from starter.http.validation_errors import http_error, validation_failed

log = structlog.get_logger("csflow.api")


def create_app(settings: Settings | None = None, client: Client | None = None) -> FastAPI:
    """The app; tests inject `client` (and settings), production connects in the lifespan.
    Routes reach the settings, the client and the reply index through starter.http.dependencies."""
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if getattr(app.state, "temporal", None) is None:
            app.state.temporal = await connect_lazily()
        _warn_unconfigured(settings)
        yield

    app = FastAPI(
        title="csflow customer actions API",
        description="Customer events, email and support webhooks, and survey pages that "
        "drive the csflow customer journeys.",
        version="1",
        lifespan=lifespan,
        # Served by docs_pages from the app's own assets instead of a CDN.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.reply_index = (
        ReplyTokenIndex(settings.reply_secret.get_secret_value())
        if settings.reply_secret is not None
        else None
    )
    # Set now so an injected client works without the lifespan running (ASGI test transports).
    app.state.temporal = client

    app.include_router(health.router)
    app.include_router(events_api.router)
    app.include_router(account_journey_api.router)
    app.include_router(tasks_api.router)
    app.include_router(sendgrid_events.router)
    app.include_router(inbound_replies.router)
    app.include_router(support_webhook.router)
    app.include_router(survey_pages.router)
    app.include_router(unsubscribe.router)
    openapi_docs.install(app)
    docs_pages.install(app)
    install_console(app, settings)
    app.add_exception_handler(RequestValidationError, validation_failed)
    app.add_exception_handler(HTTPException, http_error)

    # Innermost of the middlewares, so the access log records its 503s.
    app.add_middleware(DependencyFailureMiddleware, retry_after_seconds=RETRY_AFTER_SECONDS)
    # Added last = outermost: the request id and access log cover 413 refusals too.
    app.add_middleware(BodyLimitMiddleware, max_bytes=MAX_BODY_BYTES)
    app.add_middleware(RequestLogMiddleware)
    return app


def _warn_unconfigured(settings: Settings) -> None:
    missing = []
    if not settings.api_tokens:
        missing.append("CSFLOW_API_TOKENS (POST /v1/events refuses every caller)")
    if not settings.sendgrid_webhook_public_key:
        missing.append("SENDGRID_WEBHOOK_PUBLIC_KEY (SendGrid events are refused)")
    if settings.reply_secret is None:
        missing.append("CSFLOW_REPLY_SECRET (inbound replies are ignored)")
    if settings.inbound_path_secret is None and settings.inbound_user is None:
        missing.append(
            "CSFLOW_INBOUND_USER/CSFLOW_INBOUND_PASSWORD or CSFLOW_INBOUND_PATH_SECRET "
            "(inbound replies are refused)"
        )
    if settings.support_webhook_secret is None:
        missing.append("CSFLOW_SUPPORT_WEBHOOK_SECRET (support webhooks are refused)")
    if settings.unsubscribe_key() is None:
        missing.append(
            "CSFLOW_UNSUBSCRIBE_SECRET or CSFLOW_REPLY_SECRET (unsubscribe links are refused)"
        )
    for item in missing:
        log.warning("not configured", setting=item)
