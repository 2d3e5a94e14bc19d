"""Puts the console into the API app: its routes under `/console`, its stylesheet (served by the
app itself: the console loads nothing from elsewhere and works offline), the session cookies'
key and the pages for its refusals."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from domain.settings import Settings
from starter.console import accounts, report, sign_in, today
from starter.console.pages import EXCEPTION_HANDLERS, STATIC
from starter.console.sessions import SessionCookies, console_secret


def install(app: FastAPI, settings: Settings) -> None:
    app.state.console_cookies = SessionCookies(
        console_secret(settings), always_secure=settings.public_url.startswith("https://")
    )
    app.mount("/console/static", StaticFiles(directory=STATIC), name="console-static")
    for router in (sign_in.router, today.router, accounts.router, report.router):
        app.include_router(router)
    for exception, handler in EXCEPTION_HANDLERS.items():
        app.add_exception_handler(exception, handler)
