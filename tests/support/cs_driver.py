"""Helpers that drive journeys through virtual time in tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from starter.api import journey_status, send_event
from workflows.customer_event import CustomerEvent, EventAck
from workflows.journey_state import JourneyStatus


async def advance_until(
    env: WorkflowEnvironment,
    account_id: str,
    check: Callable[[JourneyStatus], bool],
    *,
    step: timedelta = timedelta(days=1),
    limit: timedelta = timedelta(days=800),
) -> JourneyStatus:
    """Skip virtual time in `step`s until the journey's status satisfies `check`."""
    waited = timedelta(0)
    while True:
        status = await journey_status(env.client, account_id)
        if check(status):
            return status
        if waited >= limit:
            raise AssertionError(f"not reached after {limit}: {status.stage} {status}")
        await env.sleep(step)
        waited += step


async def event(client: Client, account_id: str, type: str, **payload: Any) -> EventAck:
    return await send_event(
        client, CustomerEvent(account_id=account_id, type=type, payload=payload)
    )
