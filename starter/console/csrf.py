"""CSRF protection of the console's forms: every form carries the session's token in a hidden
`csrf_token` field, and a POST whose field is missing or differs from its session's token is
refused with 403 before anything happens. (The SameSite=Lax cookie already keeps other sites'
forms from riding on a session; the token also covers the sign-in form, which has no user yet,
and any browser that ignores SameSite.)"""

from __future__ import annotations

import hmac

from fastapi import Request
from starlette.datastructures import FormData

from starter.console.access import Refused
from starter.console.sessions import ConsoleSession

FIELD = "csrf_token"


def refused() -> Refused:
    return Refused(
        403,
        "This form cannot be sent",
        "It did not come from a console page, or the page is too old. Go back, reload the page "
        "and send the form again.",
    )


async def checked_form(request: Request, session: ConsoleSession | None) -> FormData:
    """The request's form, once its CSRF token matches `session`'s; raises Refused (403)."""
    form = await request.form()
    token = form.get(FIELD)
    if (
        session is None
        or not isinstance(token, str)
        or not hmac.compare_digest(token.encode(), session.csrf.encode())
    ):
        raise refused()
    return form
