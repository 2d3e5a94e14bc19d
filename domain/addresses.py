"""Email address syntax checks shared by the domain models and the email activity."""

from __future__ import annotations

import re

# Deliberately pragmatic (not full RFC 5322): one @, a dotted domain, no whitespace or brackets.
# Anything this accepts is something SendGrid accepts too.
_ADDRESS = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+\Z"
)


def is_valid_email(address: str) -> bool:
    """True when `address` looks like a deliverable mailbox (local@domain.tld)."""
    if len(address) > 254 or ".." in address:
        return False
    local, _, _ = address.partition("@")
    if not local or len(local) > 64 or local.startswith(".") or local.endswith("."):
        return False
    return _ADDRESS.match(address) is not None


def normalize_email(address: str) -> str:
    """Trimmed and lower-cased, so the same mailbox always compares equal."""
    return address.strip().lower()


def checked_email(value: str) -> str:
    """`value` as csflow stores an address (trimmed, lower-cased); ValueError when it is not
    one (pydantic validators and the CLI both take this)."""
    address = normalize_email(value)
    if not is_valid_email(address):
        raise ValueError(f"not a valid email address: {value!r}")
    return address
