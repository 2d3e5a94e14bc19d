"""Idempotency keys the API has accepted, in the CRM (`api_request_keys`).

Temporal drops a re-sent signal by its request id, and the journey drops an event id it has seen,
but neither compares what was sent: a different event under a used id would vanish silently.
Here each key carries a fingerprint of its request, so the API can answer a re-send as before and
refuse a different request under the same key (409). Support deliveries also use the keys to
refuse replays within the signature's tolerance window.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete

from crm.database import get_store
from crm.tables import ApiRequestKeyRow, utcnow


class KeyConflict(Exception):
    """The key was used before for a different request (HTTP 409)."""


def fingerprint(content: Any) -> str:
    """SHA-256 of `content` (JSON-able) in a canonical form: key order and spacing do not count."""
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def claim(session: Session, key: str, digest: str, ttl: timedelta) -> bool:
    """Record `key` in `session` (uncommitted). True: recorded now; False: recorded before for
    the same request. Raises KeyConflict for a different request, IntegrityError when a
    concurrent transaction recorded it first. Expired keys are deleted on the way."""
    now = utcnow()
    # First statement a write: on SQLite the transaction takes the write lock before reading,
    # so a concurrent claim of the same key waits and then sees it.
    session.exec(delete(ApiRequestKeyRow).where(col(ApiRequestKeyRow.expires_at) < now))
    row = session.get(ApiRequestKeyRow, key)
    if row is not None:
        if not hmac.compare_digest(row.fingerprint, digest):
            raise KeyConflict(key)
        return False
    session.add(ApiRequestKeyRow(key=key, fingerprint=digest, expires_at=now + ttl))
    session.flush()
    return True


def _claim_committed(key: str, digest: str, ttl: timedelta) -> bool:
    try:
        with get_store().session() as session:
            return claim(session, key, digest, ttl)
    except IntegrityError:
        # A concurrent request recorded the key first: compare with what it recorded.
        with get_store().session() as session:
            return claim(session, key, digest, ttl)


def _release_committed(key: str) -> None:
    with get_store().session() as session:
        session.exec(delete(ApiRequestKeyRow).where(col(ApiRequestKeyRow.key) == key))


async def claim_key(key: str, digest: str, ttl: timedelta) -> bool:
    """`claim` in a transaction of its own, committed at once (see `release_key`)."""
    return await asyncio.to_thread(_claim_committed, key, digest, ttl)


async def release_key(key: str) -> None:
    """Forget a key whose request did not go through, so retrying it (or a corrected request
    under the same key) is not mistaken for a re-send."""
    await asyncio.to_thread(_release_committed, key)
