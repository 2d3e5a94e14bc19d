"""The API's Temporal client: the worker's connection settings, but lazy.

Lazy so the API starts (and `/readyz` reports 503) while Temporal is still coming up, instead of
crash-looping; the first call connects, and later calls reconnect after an outage.
"""

from __future__ import annotations

from temporalio.client import Client

from starter.connection import connect


async def connect_lazily() -> Client:
    return await connect(lazy=True)
