"""Unsubscribe tokens: an unguessable value in a link that names the contact it unsubscribes.

`<contact id, base32>.<HMAC-SHA256 of it, 15 bytes, base32>`, lower case: the link itself is
the credential (whoever holds the email may unsubscribe its recipient, as RFC 8058 intends), it
cannot be forged for another contact without the key (Settings.unsubscribe_key), and it survives
mail systems and people that fold case. The HMAC is domain-separated from reply tokens
(domain.reply_address), so one secret may serve both.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from urllib.parse import quote

# 64-character contact ids make 103 characters; anything longer is not a token.
MAX_TOKEN_CHARS = 140
ONE_CLICK = "List-Unsubscribe=One-Click"


def _b32(data: bytes) -> str:
    return base64.b32encode(data).decode().rstrip("=").lower()


def _mac(contact_id: str, secret: str) -> str:
    digest = hmac.new(secret.encode(), f"unsubscribe:{contact_id}".encode(), hashlib.sha256)
    return _b32(digest.digest()[:15])


def unsubscribe_token(contact_id: str, secret: str) -> str:
    return f"{_b32(contact_id.encode())}.{_mac(contact_id, secret)}"


def contact_of(token: str, secret: str) -> str | None:
    """The contact id a token names, or None when it is not a token signed with `secret`."""
    if len(token) > MAX_TOKEN_CHARS:
        return None
    encoded, dot, mac = token.strip().lower().partition(".")
    if not dot or not encoded:
        return None
    try:
        contact_id = base64.b32decode(encoded.upper() + "=" * (-len(encoded) % 8)).decode()
    except (binascii.Error, ValueError):
        return None
    if not hmac.compare_digest(_mac(contact_id, secret), mac):
        return None
    return contact_id


def unsubscribe_url(public_url: str, token: str) -> str:
    """The one-click address (POST) that is also the confirmation page (GET)."""
    return f"{public_url.rstrip('/')}/v1/unsubscribe/{token}"


def unsubscribe_mailto(address: str, token: str | None) -> str:
    """A mailto whose subject carries the token, for mail clients without one-click."""
    subject = f"unsubscribe {token}" if token else "unsubscribe"
    return f"mailto:{address}?subject={quote(subject)}"


def list_unsubscribe_headers(url: str | None, mailto: str) -> dict[str, str]:
    """`List-Unsubscribe` (RFC 2369) and, with a link to POST to, RFC 8058's one-click
    `List-Unsubscribe-Post` (production's CSFLOW_PUBLIC_URL is HTTPS, as RFC 8058 asks)."""
    if url is None:
        return {"List-Unsubscribe": f"<{mailto}>"}
    return {
        "List-Unsubscribe": f"<{mailto}>, <{url}>",
        "List-Unsubscribe-Post": ONE_CLICK,
    }
