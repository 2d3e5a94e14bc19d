"""Signing in to the console and out of it.

`GET /console/sign-in` shows the form (with the CSRF token of a session started for it);
`POST /console/sign-in` checks the address and password (starter.console.users): a wrong one is
answered after `FAILURE_DELAY_SECONDS`, the same way for an unknown address, and an address locked
out after repeated failures is told when to try again. A successful sign-in starts a new session
(new CSRF token) and goes where the visitor was headed. `POST /console/sign-out` ends it.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response

from starter.console import words
from starter.console.access import (
    SignInNeeded,
    ViewerDep,
    console_store,
    cookies,
    current_viewer,
    require_console_on,
    safe_target,
)
from starter.console.csrf import checked_form
from starter.console.pages import redirect, render
from starter.console.sessions import ConsoleSession
from starter.console.users import SignInRefused, sign_in

# How long a failed sign-in waits before it is answered (guessing stays slow).
FAILURE_DELAY_SECONDS = 1.0

router = APIRouter(prefix="/console", include_in_schema=False)


@router.get("")
async def console_home(request: Request) -> Response:
    return redirect(request, "/console/today")


@router.get("/sign-in")
async def sign_in_page(request: Request, next: str | None = None) -> Response:
    try:
        await current_viewer(request)
    except SignInNeeded:
        session = cookies(request).read(request)
        # A session that ended (its user removed, their password changed) starts afresh.
        fresh = session if session is not None and session.email is None else None
        return render(request, "sign_in.html.j2", session=fresh, next=safe_target(next), email="")
    return redirect(request, safe_target(next))  # signed in already


@router.post("/sign-in")
async def sign_in_form(request: Request) -> Response:
    store = console_store()
    await require_console_on(store)
    session = cookies(request).read(request)
    form = await checked_form(request, session)
    email = str(form.get("email") or "").strip()
    password = str(form.get("password") or "")
    target = safe_target(str(form.get("next") or ""))
    try:
        user = await asyncio.to_thread(sign_in, store, email, password)
    except SignInRefused as refused:
        await asyncio.sleep(FAILURE_DELAY_SECONDS)
        if refused.locked_until is not None:
            wait = words.duration(refused.locked_until - datetime.now(UTC))
            error = f"Too many failed sign-ins for this address. Try again in {wait}."
            status = 429
        else:
            error, status = "That email address and password do not match.", 401
        return render(
            request,
            "sign_in.html.j2",
            session=session,
            status=status,
            next=target,
            email=email,
            error=error,
        )
    return redirect(request, target, ConsoleSession.signed_in(user))


@router.post("/sign-out")
async def sign_out(request: Request, viewer: ViewerDep) -> Response:
    await checked_form(request, viewer.session)
    signed_out = ConsoleSession.anonymous().with_notice("You are signed out.")
    return redirect(request, "/console/sign-in", signed_out)
