"""Reply-to addresses that identify the account: `reply+<token>@<reply domain>`.

The token is a truncated HMAC-SHA256 of the account id under `CSFLOW_REPLY_SECRET`: stable, so
every email to an account can carry the same address; unforgeable, so a reply cannot be pinned
on another account; lower-case base32, so mail systems that fold case do not break it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable

TOKEN_LENGTH = 24  # 15 HMAC bytes in base32: 120 bits
_TOKEN_IN_ADDRESS = re.compile(r"reply\+([a-z2-7]{24})@", re.IGNORECASE)


def reply_token(account_id: str, secret: str) -> str:
    digest = hmac.new(secret.encode(), f"reply:{account_id}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest[:15]).decode().lower()


def reply_address(account_id: str, secret: str, domain: str) -> str:
    return f"reply+{reply_token(account_id, secret)}@{domain}"


def tokens_in(*fields: str) -> list[str]:
    """Reply tokens found in address fields (To, Cc, the SMTP envelope), in order."""
    found: list[str] = []
    for field in fields:
        for match in _TOKEN_IN_ADDRESS.finditer(field):
            token = match.group(1).lower()
            if token not in found:
                found.append(token)
    return found


def account_for(token: str, secret: str, account_ids: Iterable[str]) -> str | None:
    """The account whose token this is. Replies are rare and human-paced, so recomputing the
    HMAC for every account beats keeping a token table in sync."""
    for account_id in account_ids:
        if hmac.compare_digest(reply_token(account_id, secret), token):
            return account_id
    return None
