"""Bearer-token auth for backend callers: 401 without a well-formed token, 403 for a wrong one."""

from __future__ import annotations

import hmac

from fastapi import HTTPException, Request

from domain.settings import Settings
from starter.http.dependencies import SettingsDep

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="csflow"'}


def token_matches(presented: str, settings: Settings) -> bool:
    candidate = presented.encode()
    matched = False
    # Compare against every configured token (no early exit), so timing reveals nothing.
    for token in settings.api_tokens:
        matched |= hmac.compare_digest(candidate, token.get_secret_value().encode())
    return matched


def require_api_token(request: Request, settings: SettingsDep) -> None:
    """FastAPI dependency guarding the event intake."""
    header = request.headers.get("authorization")
    if header is None:
        raise HTTPException(401, "missing Authorization: Bearer <token>", headers=_CHALLENGE)
    scheme, _, presented = header.partition(" ")
    presented = presented.strip()
    if scheme.lower() != "bearer" or not presented or " " in presented:
        raise HTTPException(
            401, "malformed Authorization header; expected 'Bearer <token>'", headers=_CHALLENGE
        )
    if not token_matches(presented, settings):
        raise HTTPException(403, "token not accepted")
