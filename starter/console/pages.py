"""How the console answers: pages rendered from starter/console/templates (Jinja, every value
escaped), redirects after a form, and the pages for the console being off, a refusal and a
missing sign-in. Every answer is kept out of caches, cannot be framed, and loads nothing but the
console's own stylesheet.

A session's one-time notice ("Completed ...") is shown on the next page rendered for it and
then cleared from the cookie.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from starter.console import words
from starter.console.access import (
    ConsoleOff,
    Refused,
    SignInNeeded,
    Viewer,
    cookies,
    current_viewer,
    sign_in_url,
)
from starter.console.csrf import FIELD as CSRF_FIELD
from starter.console.sessions import ConsoleSession

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
}

_templates = Environment(
    loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined
)
_templates.filters.update(
    word=words.word,
    moment=words.moment,
    day=words.day,
    money=words.money,
    plain=words.plain,
    duration=words.duration,
)


def render(
    request: Request,
    template: str,
    *,
    viewer: Viewer | None = None,
    session: ConsoleSession | None = None,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """`template` with `context`, the viewer and their session's notice; `session` is an
    anonymous page's (a new one is started when the request has none)."""
    jar = cookies(request)
    current = viewer.session if viewer is not None else session
    fresh = current is None
    if current is None:
        current = ConsoleSession.anonymous()
    now = datetime.now(UTC)
    names = request.app.state.settings.team_names
    html = _templates.get_template(template).render(
        viewer=viewer,
        csrf_field=CSRF_FIELD,
        csrf_token=current.csrf,
        notice=current.notice,
        notice_is_error=current.notice_is_error,
        now=now,
        due=lambda at: words.due(at, now),
        ago=lambda at: words.ago(at, now),
        person=lambda email: words.person(email, names),
        count=words.count,
        **context,
    )
    response = HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)
    if fresh or current.notice is not None:
        jar.write(response, request, current.with_notice(None))
    return response


def redirect(request: Request, url: str, session: ConsoleSession | None = None) -> RedirectResponse:
    """A 303 to `url` (the browser GETs it), writing `session` when given."""
    response = RedirectResponse(url, status_code=303, headers=PAGE_HEADERS)
    if session is not None:
        cookies(request).write(response, request, session)
    return response


def told(
    request: Request, viewer: Viewer, url: str, notice: str, *, error: bool = False
) -> Response:
    """Back to `url` after a form, with `notice` shown there once."""
    return redirect(request, url, viewer.session.with_notice(notice, error=error))


async def _viewer_if_any(request: Request) -> Viewer | None:
    try:
        return await current_viewer(request)
    except (ConsoleOff, SignInNeeded):
        return None


async def console_off(request: Request, _exc: Exception) -> Response:
    return render(request, "off.html.j2", status=404)


async def sign_in_needed(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInNeeded)
    return redirect(request, sign_in_url(exc.back_to))


async def refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Refused)
    viewer = await _viewer_if_any(request)
    session = viewer.session if viewer else cookies(request).read(request)
    return render(
        request,
        "refused.html.j2",
        viewer=viewer,
        session=session,
        status=exc.status,
        title=exc.title,
        message=exc.message,
    )


EXCEPTION_HANDLERS = {ConsoleOff: console_off, SignInNeeded: sign_in_needed, Refused: refused}
