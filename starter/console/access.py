"""Who is asking, and what they may see: every console page depends on `current_viewer`.

The console is off (`ConsoleOff`, a 404 page saying how to turn it on) until someone can sign
in. A request without a live session is sent to the sign-in page (`SignInNeeded`); a session
whose user was removed, or whose password changed since, is no session. A CSM sees the accounts
they own (`accounts.csm_owner`) and the tasks they own; a manager sees everything; anything else
is `Refused` (a 403 page in plain words, or 404 for what does not exist).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request

from crm.database import Store, get_store
from starter.console.sessions import ConsoleSession, SessionCookies
from starter.console.users import ConsoleUser, any_users, get_user

SIGN_IN_PATH = "/console/sign-in"


class ConsoleOff(Exception):
    """No console user exists yet."""


class SignInNeeded(Exception):
    def __init__(self, back_to: str) -> None:
        super().__init__(f"sign in to see {back_to}")
        self.back_to = back_to


class Refused(Exception):
    """A page the viewer may not see, or that does not exist: its status and plain words."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status, self.title, self.message = status, title, message


def not_yours(what: str) -> Refused:
    return Refused(
        403,
        "Not one of yours",
        f"This {what} belongs to another CSM. Ask a manager if you need to see it.",
    )


def managers_only() -> Refused:
    return Refused(403, "For managers", "Only managers can open this page.")


def not_found(what: str) -> Refused:
    return Refused(404, "Not found", f"There is no such {what}. It may have been removed.")


@dataclass(frozen=True)
class Viewer:
    """The signed-in console user and their session."""

    user: ConsoleUser
    session: ConsoleSession

    @property
    def email(self) -> str:
        return self.user.email

    @property
    def is_manager(self) -> bool:
        return self.user.is_manager

    def may_see(self, owner: str | None) -> bool:
        """Whether an account with this CSM owner, or a task with this owner, is theirs to see."""
        return self.is_manager or (owner or "").lower() == self.email


def cookies(request: Request) -> SessionCookies:
    jar: SessionCookies = request.app.state.console_cookies
    return jar


def console_store() -> Store:
    return get_store()


async def require_console_on(store: Store) -> None:
    if not await asyncio.to_thread(any_users, store):
        raise ConsoleOff()


def back_to(request: Request) -> str:
    """Where the sign-in page returns to: this page (GET), else the day's page."""
    if request.method != "GET":
        return "/console/today"
    query = f"?{request.url.query}" if request.url.query else ""
    return f"{request.url.path}{query}"


def sign_in_url(target: str) -> str:
    return f"{SIGN_IN_PATH}?next={quote(target, safe='/')}"


def safe_target(target: str | None) -> str:
    """A page of the console to go to after signing in (anything else: the day's page)."""
    if target and target.startswith("/console/") and not target.startswith("/console//"):
        if "\\" not in target and not any(ord(c) < 32 for c in target):
            return target
    return "/console/today"


async def current_viewer(request: Request) -> Viewer:
    """The signed-in viewer; raises ConsoleOff or SignInNeeded."""
    store = console_store()
    await require_console_on(store)
    session = cookies(request).read(request)
    if session is None or session.email is None:
        raise SignInNeeded(back_to(request))
    user = await asyncio.to_thread(get_user, store, session.email)
    if user is None or not session.belongs_to(user):
        raise SignInNeeded(back_to(request))
    return Viewer(user=user, session=session)


ViewerDep = Annotated[Viewer, Depends(current_viewer)]


async def current_manager(viewer: ViewerDep) -> Viewer:
    if not viewer.is_manager:
        raise managers_only()
    return viewer


ManagerDep = Annotated[Viewer, Depends(current_manager)]
