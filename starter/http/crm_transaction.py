"""CRM writes that must accompany a signal: committed only if the signal went through.

The session stays open across the Temporal call; blocking database work runs in threads (one
at a time, so the session is never used concurrently).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

from sqlmodel import Session

from crm.database import get_store

T = TypeVar("T")


class CrmTransaction:
    def __init__(self, session: Session) -> None:
        self._session = session

    async def run(self, work: Callable[[Session], T]) -> T:
        """Run blocking `work(session)` in a thread; its writes wait for the commit."""
        return await asyncio.to_thread(self._run_flushed, work)

    def _run_flushed(self, work: Callable[[Session], T]) -> T:
        result = work(self._session)
        self._session.flush()
        return result


@asynccontextmanager
async def crm_transaction() -> AsyncIterator[CrmTransaction]:
    """Commit when the block finishes, roll back when it raises (e.g. Temporal unreachable)."""
    session = Session(get_store().engine, expire_on_commit=False)
    try:
        yield CrmTransaction(session)
        await asyncio.to_thread(session.commit)
    except BaseException:
        await asyncio.to_thread(session.rollback)
        raise
    finally:
        await asyncio.to_thread(session.close)
