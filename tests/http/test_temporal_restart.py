"""Temporal killed in the middle of a burst of events, then restarted on the same database."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import httpx
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from activities import Activities
from domain.settings import Settings
from starter.http.app import create_app
from starter.worker_process import build_worker, ensure_search_attributes
from tests.support.http_support import (
    account_body,
    bearer,
    free_port,
    new_account_id,
    signals_in_history,
    wait_for_status,
)

ACCOUNTS = 3
EVENTS_PER_ACCOUNT = 20
CONCURRENCY = 6
# Kill the server once this many responses are in: some events before, some in flight, some after.
KILL_AFTER = 20


async def _start_server(cli: str, port: int, database: Path) -> WorkflowEnvironment:
    env = await WorkflowEnvironment.start_local(
        port=port,
        dev_server_existing_path=cli,
        dev_server_database_filename=str(database),
        data_converter=pydantic_data_converter,
        dev_server_log_level="error",
    )
    await ensure_search_attributes(env.client)
    return env


def _usage(account_id: str, n: int) -> dict[str, Any]:
    return {
        "event_id": f"usage-{account_id}-{n}",
        "account_id": account_id,
        "type": "usage_reported",
        "payload": {"active_users": n, "licensed_seats": 50},
        "account": account_body(account_id),
    }


async def test_killed_server_answers_503_and_reposting_delivers_every_event_once(
    settings: Settings, temporal_cli_path: str, crm_url: str, tmp_path: Path, acts: Activities
) -> None:
    port = free_port()
    database = tmp_path / "temporal.db"
    env = await _start_server(temporal_cli_path, port, database)
    # The API's own client, as in production: it outlives the server and reconnects.
    client = await Client.connect(
        f"127.0.0.1:{port}", data_converter=pydantic_data_converter, lazy=True
    )
    queue = f"restart-{uuid.uuid4().hex[:6]}"
    app = create_app(settings.model_copy(update={"task_queue": queue}), client=client)
    accounts = [new_account_id() for _ in range(ACCOUNTS)]
    events = [_usage(a, n) for n in range(EVENTS_PER_ACCOUNT) for a in accounts]
    answered: list[tuple[dict[str, Any], httpx.Response]] = []
    enough = asyncio.Event()
    gate = asyncio.Semaphore(CONCURRENCY)

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://csflow.test") as http:

        async def post(event: dict[str, Any]) -> None:
            async with gate:
                response = await http.post("/v1/events", json=event, headers=bearer())
            answered.append((event, response))
            if len(answered) >= KILL_AFTER:
                enough.set()

        async def kill() -> None:
            await enough.wait()
            await env.shutdown()  # SIGKILL: no graceful drain

        killer = asyncio.create_task(kill())
        try:
            await asyncio.gather(*(post(e) for e in events))
        finally:
            enough.set()
            await killer

        codes = sorted({r.status_code for _, r in answered})
        assert set(codes) <= {202, 503}, [r.text for _, r in answered if r.status_code >= 500]
        refused = [event for event, r in answered if r.status_code == 503]
        assert refused, "the kill came too late: nothing was refused"
        assert all(r.headers["retry-after"] for _, r in answered if r.status_code == 503)

        env = await _start_server(temporal_cli_path, port, database)
        try:
            async with build_worker(env.client, acts.all(), task_queue=queue):
                for event in refused:
                    retried = await http.post("/v1/events", json=event, headers=bearer())
                    assert retried.status_code == 202, retried.text
                for account_id in accounts:
                    status = await wait_for_status(
                        client,
                        account_id,
                        lambda s: s.events_processed >= EVENTS_PER_ACCOUNT,
                        timeout=30,
                    )
                    assert status.events_processed == EVENTS_PER_ACCOUNT
                    # Server-side dedupe too: no event was signalled twice, not even one whose
                    # first attempt was in flight when the server died.
                    signals = await signals_in_history(client, f"journey-{account_id}")
                    assert signals == EVENTS_PER_ACCOUNT
        finally:
            await env.shutdown()
