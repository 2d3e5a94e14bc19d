"""Finding the account behind a reply token without one HMAC per account.

A token is an HMAC of its account id (domain.reply_address): it cannot be inverted, only
recomputed. The index computes each account's token once and keeps token -> account; matching a
message is then a dict lookup plus ONE HMAC per candidate token (the proof, the dict is only a
cache), whatever the number of accounts. A token the index does not know triggers one refresh:
a row count says whether there are accounts the index lacks, and only those created recently
are read (one HMAC each, once); a reload of every id (HMACs still only for new ones) runs at most
every FULL_RELOAD_INTERVAL, as a safety net against clocks that disagree.
"""

from __future__ import annotations

import hmac
import re
import threading
import time
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlmodel import Session, col, func, select

from crm.tables import AccountRow
from domain.reply_address import TOKEN_LENGTH, reply_token

# A message names at most a few reply addresses; more than this is noise or an attack.
MAX_TOKENS_PER_MESSAGE = 20
# Accounts created by processes whose clocks run behind still fall inside the refresh window.
CLOCK_SKEW_MARGIN = timedelta(minutes=10)
FULL_RELOAD_INTERVAL = 600.0  # seconds
_TOKEN_IN_ADDRESS = re.compile(rf"reply\+([a-z2-7]{{{TOKEN_LENGTH}}})@", re.IGNORECASE)


def first_tokens(text: str, limit: int = MAX_TOKENS_PER_MESSAGE) -> list[str]:
    """The first `limit` distinct reply tokens in address text (To, Cc, the SMTP envelope)."""
    found: dict[str, None] = {}
    for match in _TOKEN_IN_ADDRESS.finditer(text):
        found.setdefault(match.group(1).lower(), None)
        if len(found) >= limit:
            break
    return list(found)


class ReplyTokenIndex:
    def __init__(self, secret: str) -> None:
        self._secret = secret
        self._accounts: dict[str, str] = {}  # token -> account id
        self._known: set[str] = set()
        self._newest: datetime | None = None
        self._last_full_reload = float("-inf")
        self._lock = threading.Lock()

    def match(self, session: Session, tokens: Iterable[str]) -> str | None:
        """The account of the first token that belongs to a CRM account, else None (blocking)."""
        candidates = list(tokens)
        found = self._lookup(candidates)
        if found is None and candidates:
            self._refresh(session)
            found = self._lookup(candidates)
        return found

    def _lookup(self, tokens: list[str]) -> str | None:
        for token in tokens:
            account_id = self._accounts.get(token)
            if account_id is not None and hmac.compare_digest(
                reply_token(account_id, self._secret), token
            ):
                return account_id
        return None

    def _refresh(self, session: Session) -> None:
        with self._lock:
            if time.monotonic() - self._last_full_reload >= FULL_RELOAD_INTERVAL:
                self._add(session.exec(select(AccountRow.id, AccountRow.created_at)).all())
                self._last_full_reload = time.monotonic()
                return
            # Accounts are never deleted: no more rows than known ids means nothing new.
            count = session.exec(select(func.count()).select_from(AccountRow)).one()
            if count <= len(self._known) or self._newest is None:
                return
            since = self._newest - CLOCK_SKEW_MARGIN
            recent = select(AccountRow.id, AccountRow.created_at).where(
                col(AccountRow.created_at) >= since
            )
            self._add(session.exec(recent).all())

    def _add(self, rows: Iterable[tuple[str, datetime]]) -> None:
        """Index the accounts not indexed yet: one HMAC each, once."""
        for account_id, created_at in rows:
            if self._newest is None or created_at > self._newest:
                self._newest = created_at
            if account_id not in self._known:
                self._accounts[reply_token(account_id, self._secret)] = account_id
                self._known.add(account_id)
