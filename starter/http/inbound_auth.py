"""Who may post to the Inbound Parse webhook: SendGrid, holding the URL's credentials.

Inbound Parse cannot sign its requests; what it can do is call a URL with basic auth in it or
with a secret path segment. Either is accepted (Settings.inbound_*), compared in constant
time, and checked before the body is read, so an unauthenticated request costs nothing.
"""

from __future__ import annotations

import base64
import binascii
import hmac

from fastapi import HTTPException, Request
from pydantic import SecretStr

from starter.http.dependencies import SettingsDep
from starter.http.limits import RETRY_AFTER_SECONDS

CHALLENGE = {"WWW-Authenticate": 'Basic realm="csflow inbound", charset="UTF-8"'}
NOT_CONFIGURED = (
    "inbound replies are not configured: set CSFLOW_INBOUND_USER and CSFLOW_INBOUND_PASSWORD "
    "(basic auth in the Inbound Parse URL) or CSFLOW_INBOUND_PATH_SECRET"
)


def _equal(presented: str, expected: SecretStr | None) -> bool:
    if expected is None:
        return False
    return hmac.compare_digest(presented.encode(), expected.get_secret_value().encode())


def _basic_credentials(header: str | None) -> tuple[str, str] | None:
    if header is None:
        return None
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, colon, password = decoded.partition(":")
    return (user, password) if colon else None


def require_inbound_credentials(request: Request, settings: SettingsDep) -> None:
    """FastAPI dependency: 503 when no credential is configured, 401 without a valid one."""
    basic_configured = settings.inbound_user is not None and settings.inbound_password is not None
    if not basic_configured and settings.inbound_path_secret is None:
        # Inbound Parse keeps retrying a 503 for days: replies wait for the configuration.
        raise HTTPException(503, NOT_CONFIGURED, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
    path_secret = request.path_params.get("secret")
    if path_secret is not None and _equal(path_secret, settings.inbound_path_secret):
        return
    presented = _basic_credentials(request.headers.get("authorization"))
    if presented is not None and basic_configured:
        # Both compared, no short cut: timing tells nothing about which one was wrong.
        user_ok = _equal(presented[0], settings.inbound_user)
        password_ok = _equal(presented[1], settings.inbound_password)
        if user_ok & password_ok:
            return
    if presented is None and path_secret is None:
        raise HTTPException(
            401, "credentials required: basic auth or the secret path segment", headers=CHALLENGE
        )
    raise HTTPException(401, "credentials not accepted", headers=CHALLENGE)
