"""Console sessions: a signed cookie (itsdangerous) that holds the CSRF token of the browser's
forms and, once signed in, who it is (and when their password was set: a new password ends the
sessions started before it). Nothing else is kept on the server.

The cookie is HttpOnly, SameSite=Lax, Secure when the request came over HTTPS (or the public
address, CSFLOW_PUBLIC_URL, is HTTPS: a TLS proxy may forward plain HTTP), scoped to
`/console`, and expires after `SESSION_LIFETIME` (its signature carries its age). The key is
CSFLOW_CONSOLE_SECRET; without one, each process draws a random key and logs a warning (a
restart signs everyone out, and API replicas do not share sessions).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import timedelta

import structlog
from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from domain.settings import Settings
from starter.console.users import ConsoleUser

COOKIE = "csflow_console"
PATH = "/console"
SESSION_LIFETIME = timedelta(hours=12)
_SALT = "csflow-console-session"

log = structlog.get_logger("csflow.console")


def new_token() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class ConsoleSession:
    """What the cookie holds: the forms' CSRF token, and the signed-in user (if any), with a
    one-time notice for the next page ("Completed task ...")."""

    csrf: str
    email: str | None = None
    password_set_at: str | None = None
    notice: str | None = None
    notice_is_error: bool = False

    @classmethod
    def anonymous(cls) -> ConsoleSession:
        return cls(csrf=new_token())

    @classmethod
    def signed_in(cls, user: ConsoleUser) -> ConsoleSession:
        """A fresh session for `user`: a new CSRF token, so nothing from before carries over."""
        return cls(csrf=new_token(), email=user.email, password_set_at=_stamp(user))

    def belongs_to(self, user: ConsoleUser) -> bool:
        return self.email == user.email and self.password_set_at == _stamp(user)

    def with_notice(self, notice: str | None, *, error: bool = False) -> ConsoleSession:
        return replace(self, notice=notice, notice_is_error=error)


def _stamp(user: ConsoleUser) -> str:
    return user.password_set_at.isoformat()


def console_secret(settings: Settings) -> str:
    """CSFLOW_CONSOLE_SECRET, else a random key for this process (with a warning)."""
    if settings.console_secret is not None:
        return settings.console_secret.get_secret_value()
    log.warning(
        "not configured",
        setting="CSFLOW_CONSOLE_SECRET (console sessions use a random key: a restart signs "
        "everyone out, and replicas do not share sessions)",
    )
    return secrets.token_urlsafe(48)


class SessionCookies:
    """Reads and writes the session cookie, signed with one key. `always_secure`: the public
    address is HTTPS (a proxy in front may hand the app plain HTTP), so the cookie is Secure
    whatever the request's scheme."""

    def __init__(self, secret: str, *, always_secure: bool = False) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt=_SALT)
        self._always_secure = always_secure

    def _secure(self, request: Request) -> bool:
        return self._always_secure or request.url.scheme == "https"

    def read(self, request: Request) -> ConsoleSession | None:
        """The request's session; None when it has none, or one that is forged or too old."""
        raw = request.cookies.get(COOKIE)
        if not raw:
            return None
        try:
            data = self._serializer.loads(raw, max_age=int(SESSION_LIFETIME.total_seconds()))
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("csrf"), str):
            return None
        return ConsoleSession(
            csrf=data["csrf"],
            email=_text(data.get("email")),
            password_set_at=_text(data.get("password_set_at")),
            notice=_text(data.get("notice")),
            notice_is_error=data.get("notice_is_error") is True,
        )

    def write(self, response: Response, request: Request, session: ConsoleSession) -> None:
        value = self._serializer.dumps(
            {
                "csrf": session.csrf,
                "email": session.email,
                "password_set_at": session.password_set_at,
                "notice": session.notice,
                "notice_is_error": session.notice_is_error,
            }
        )
        response.set_cookie(
            COOKIE,
            value,
            max_age=int(SESSION_LIFETIME.total_seconds()),
            path=PATH,
            httponly=True,
            samesite="lax",
            secure=self._secure(request),
        )

    def clear(self, response: Response, request: Request) -> None:
        response.delete_cookie(
            COOKIE,
            path=PATH,
            httponly=True,
            samesite="lax",
            secure=self._secure(request),
        )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
