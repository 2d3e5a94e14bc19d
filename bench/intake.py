"""csflow's event intake end to end: HTTP API -> Temporal dev server -> journeys, exactly once.

Everything runs for real on this machine: `temporal server start-dev` (launched through
`WorkflowEnvironment.start_local` with csflow's search attributes and the pydantic data
converter), a temp SQLite CRM, a csflow worker (every workflow and activity) and the FastAPI app
served by uvicorn on 127.0.0.1 (a free port), which the load generator calls over loopback HTTP
with a bearer token. Worker, API server and load generator share this process's event loop (the
dev server is a separate process): on 2 cores they compete for CPU, as they would on one box.

Phases (J journeys, E events, C requests in flight at most):

a. `POST /v1/events` with `payment_received` (carrying the account) for J new accounts: each
   signal-with-starts a journey. Prints journeys_started_per_second (J / wall time of the
   phase) and the request latencies, then journeys_ready_seconds: from the first request until
   every journey has processed its first event (status query).
b. E `usage_reported` events, round-robin over the journeys (constant usage, so no playbook
   opens and no journey ends). Prints events_per_second and latencies. Then D of those events
   are posted again (a re-delivered webhook); they must be dropped.
c. Waits until every journey's `events_processed` (the `status` query) reaches the number of
   distinct events it was sent (drain_seconds, from the end of b), then checks that it is
   exactly that number and that the journey's history (every run) holds exactly that many
   `customer_event` signals: delivered_once true/false.

At the end the journeys are terminated (their children go with them), and the API server,
worker and dev server are stopped. Output, plain `name value` lines, e.g.:

    journeys 50
    journeys_started_per_second 34.3
    journey_start_p50_ms 267.1
    ...
    delivered_once true

Run:  .venv/bin/python bench/intake.py [--journeys 50] [--events 300] [--concurrency 10]
      [--duplicates 30] [--drain-timeout 60] [--log-level warning]
Exits 1 on any failed request, an event not delivered exactly once, or a start-up failure.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import uvicorn
from pydantic import SecretStr
from reporting import child_stdout_to_stderr, percentile
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

if TYPE_CHECKING:
    from crm.database import Store
    from domain.settings import Settings

TOKEN = f"bench-{uuid.uuid4().hex}"
SIGNAL_NAME = "customer_event"


@dataclass(frozen=True)
class Posted:
    body: dict[str, Any]
    status: int
    seconds: float
    reply: dict[str, Any] | str

    def reply_field(self, name: str) -> object:
        return self.reply.get(name) if isinstance(self.reply, dict) else None


def account_body(account_id: str) -> dict[str, Any]:
    return {
        "id": account_id,
        "name": f"Bench account {account_id}",
        "arr": 12_000,
        "csm_owner": "csm@csflow.example",
        "contacts": [
            {
                "id": f"{account_id}-champion",
                "name": "Chris Champion",
                "email": f"champion@{account_id}.example",
                "role": "champion",
            },
            {
                "id": f"{account_id}-dm",
                "name": "Dana Decider",
                "email": f"dm@{account_id}.example",
                "role": "decision_maker",
            },
        ],
    }


def start_event(account_id: str) -> dict[str, Any]:
    return {
        "event_id": f"billing-{account_id}",
        "account_id": account_id,
        "type": "payment_received",
        "account": account_body(account_id),
    }


def usage_event(account_id: str, index: int) -> dict[str, Any]:
    return {
        "event_id": f"usage-{account_id}-{index}",
        "account_id": account_id,
        "type": "usage_reported",
        "payload": {"active_users": 7, "licensed_seats": 10, "feature_adoption": 0.5},
    }


async def post_all(
    http: httpx.AsyncClient, bodies: Sequence[dict[str, Any]], concurrency: int
) -> tuple[list[Posted], float]:
    """POST every body to /v1/events with at most `concurrency` in flight; (results, seconds)."""
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    results: list[Posted] = []
    headers = {"Authorization": f"Bearer {TOKEN}"}

    async def sender() -> None:
        while True:
            try:
                body = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            began = time.perf_counter()
            try:
                response = await http.post("/v1/events", json=body, headers=headers)
                status, reply = response.status_code, _reply(response)
            except httpx.HTTPError as exc:
                status, reply = 0, repr(exc)
            results.append(Posted(body, status, time.perf_counter() - began, reply))

    began = time.perf_counter()
    await asyncio.gather(*(sender() for _ in range(max(1, concurrency))))
    return results, time.perf_counter() - began


def _reply(response: httpx.Response) -> dict[str, Any] | str:
    try:
        parsed = response.json()
    except ValueError:
        return response.text[:300]
    return parsed if isinstance(parsed, dict) else str(parsed)[:300]


def failures(results: Sequence[Posted]) -> list[Posted]:
    return [r for r in results if r.status != 202]


def report_failures(label: str, failed: Sequence[Posted]) -> None:
    for item in failed[:3]:
        print(f"# {label}: {item.body['event_id']} -> {item.status} {item.reply}", file=sys.stderr)


async def events_processed(client: Client, account_id: str) -> int | None:
    from starter.api import journey_status

    try:
        return (await journey_status(client, account_id)).events_processed
    except Exception:  # not started yet, or the first workflow task is still running
        return None


async def wait_processed(
    client: Client, expected: dict[str, int], timeout: float, concurrency: int
) -> dict[str, int | None]:
    """Poll each journey's status until it has processed `expected` events (or the deadline)."""
    deadline = time.monotonic() + timeout
    gate = asyncio.Semaphore(concurrency)
    seen: dict[str, int | None] = {}

    async def one(account_id: str, want: int) -> None:
        while True:
            async with gate:
                seen[account_id] = await events_processed(client, account_id)
            count = seen[account_id]
            if (count is not None and count >= want) or time.monotonic() > deadline:
                return
            await asyncio.sleep(0.25)

    await asyncio.gather(*(one(a, n) for a, n in expected.items()))
    return seen


async def customer_event_signals(client: Client, workflow_id: str) -> int:
    """`customer_event` signals in the workflow's history, over every run of the chain."""
    signalled = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
    total = 0
    run_id: str | None = None
    while True:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        total += sum(
            1
            for e in history.events
            if e.event_type == signalled
            and e.workflow_execution_signaled_event_attributes.signal_name == SIGNAL_NAME
        )
        first = history.events[0].workflow_execution_started_event_attributes
        if not first.continued_execution_run_id:
            return total
        run_id = first.continued_execution_run_id


@contextlib.asynccontextmanager
async def serve_api(app: Any, log_level: str) -> AsyncIterator[str]:
    """uvicorn on 127.0.0.1, a free port, in this event loop; yields the base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, log_level=log_level, access_log=False, lifespan="on", timeout_graceful_shutdown=5
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("uvicorn stopped before it started")
            await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, timeout=15)
        sock.close()


def configure_process(scratch: Path, log_level: str, task_queue: str) -> tuple[Settings, Store]:
    """Settings, logging, an email outbox and a migrated temp CRM (also the API's store)."""
    from crm import database
    from crm.migrate import migrate
    from domain.settings import Settings
    from starter.logging_setup import configure_logging

    outbox = scratch / "outbox"
    outbox.mkdir()
    url = f"sqlite:///{scratch / 'crm.db'}"
    settings = Settings.from_env().model_copy(
        update={
            "database_url": url,
            "outbox_dir": outbox,
            "sendgrid_api_key": None,
            # Real time: quiet hours would make the run depend on the time of day.
            "contact_governor": False,
            "api_tokens": (SecretStr(TOKEN),),
            "task_queue": task_queue,
        }
    )
    configure_logging(settings, to_stderr=True, level=log_level)
    migrate(url)
    return settings, database.configure(url)


async def bench(args: argparse.Namespace) -> int:
    from activities import build_activities
    from crm import database
    from starter.http.app import create_app
    from starter.temporal_binaries import temporal_cli
    from starter.worker_process import build_worker
    from workflows.search_attributes import ALL_KEYS
    from workflows.workflow_ids import journey_id

    out: list[tuple[str, str]] = [
        ("journeys", str(args.journeys)),
        ("events", str(args.events)),
        ("concurrency", str(args.concurrency)),
        ("load_avg_1m_before", f"{os.getloadavg()[0]:.2f}"),
    ]
    failed: list[Posted] = []
    delivered_once = False
    with tempfile.TemporaryDirectory(prefix="csflow-intake-bench-") as scratch:
        task_queue = f"intake-bench-{uuid.uuid4().hex[:8]}"
        settings, store = configure_process(Path(scratch), args.log_level, task_queue)
        with child_stdout_to_stderr():
            env = await WorkflowEnvironment.start_local(
                dev_server_existing_path=str(temporal_cli(settings)),
                data_converter=pydantic_data_converter,
                search_attributes=ALL_KEYS,
                dev_server_log_level=args.server_log_level,
            )
        accounts = [f"bench-{uuid.uuid4().hex[:10]}" for _ in range(args.journeys)]
        started: list[str] = []
        try:
            client = env.client
            app = create_app(settings, client=client)
            async with (
                build_worker(client, build_activities(settings, store), task_queue=task_queue),
                serve_api(app, args.log_level) as base_url,
                httpx.AsyncClient(
                    base_url=base_url,
                    timeout=httpx.Timeout(30.0),
                    limits=httpx.Limits(max_connections=max(1, args.concurrency)),
                ) as http,
            ):
                # (a) journeys started by signal-with-start through the API
                starts, seconds = await post_all(
                    http, [start_event(a) for a in accounts], args.concurrency
                )
                # Accepted starts: the journeys to check, and to terminate at the end.
                started = [r.body["account_id"] for r in starts if r.status == 202]
                failed += failures(starts)
                report_failures("start", failures(starts))
                not_started = [
                    r for r in starts if r.status == 202 and r.reply_field("started") is not True
                ]
                report_failures("start did not start a journey", not_started)
                failed += not_started
                latencies = [r.seconds for r in starts]
                out += [
                    ("journeys_started_per_second", f"{len(starts) / seconds:.1f}"),
                    ("journey_start_p50_ms", f"{percentile(latencies, 0.50) * 1000:.1f}"),
                    ("journey_start_p99_ms", f"{percentile(latencies, 0.99) * 1000:.1f}"),
                ]
                began = time.perf_counter() - seconds
                await wait_processed(
                    client, {a: 1 for a in started}, args.drain_timeout, args.concurrency
                )
                out.append(("journeys_ready_seconds", f"{time.perf_counter() - began:.3f}"))
                if not started:
                    raise RuntimeError("no journey started; see the failures above")

                # (b) events spread over the journeys
                bodies = [usage_event(started[k % len(started)], k) for k in range(args.events)]
                sent, seconds = await post_all(http, bodies, args.concurrency)
                failed += failures(sent)
                report_failures("event", failures(sent))
                latencies = [r.seconds for r in sent]
                out += [
                    ("events_per_second", f"{len(sent) / seconds:.1f}" if seconds else "nan"),
                    ("event_p50_ms", f"{percentile(latencies, 0.50) * 1000:.1f}"),
                    ("event_p99_ms", f"{percentile(latencies, 0.99) * 1000:.1f}"),
                ]
                after_events = time.perf_counter()
                resent, _ = await post_all(http, bodies[: args.duplicates], args.concurrency)
                failed += failures(resent)
                report_failures("re-sent event", failures(resent))
                out.append(("duplicates_resent", str(len(resent))))

                # (c) exactly once: the journeys' own count and their histories
                accepted = Counter(
                    r.body["account_id"] for r in [*starts, *sent] if r.status == 202
                )
                expected = {a: accepted[a] for a in started}
                ready = await wait_processed(client, expected, args.drain_timeout, args.concurrency)
                out.append(("drain_seconds", f"{time.perf_counter() - after_events:.3f}"))
                signals = dict(
                    zip(
                        started,
                        await asyncio.gather(
                            *(customer_event_signals(client, journey_id(a)) for a in started)
                        ),
                        strict=True,
                    )
                )
                processed_total = sum(n or 0 for n in ready.values())
                wrong = [
                    a for a in started if ready.get(a) != expected[a] or signals[a] != expected[a]
                ]
                for account_id in wrong[:5]:
                    print(
                        f"# {account_id}: sent {expected[account_id]}, processed "
                        f"{ready.get(account_id)}, signals in history {signals[account_id]}",
                        file=sys.stderr,
                    )
                delivered_once = bool(started) and not wrong and len(started) == args.journeys
                out += [
                    ("events_accepted", str(sum(expected.values()))),
                    ("events_processed", str(processed_total)),
                    ("signals_in_history", str(sum(signals.values()))),
                ]
        finally:
            await terminate(env.client, [journey_id(a) for a in started])
            await env.shutdown()
            database.reset()
    out += [("failed", str(len(failed))), ("delivered_once", str(delivered_once).lower())]
    for name, value in out:
        print(f"{name} {value}")
    return 0 if delivered_once and not failed else 1


async def terminate(client: Client, workflow_ids: Sequence[str]) -> None:
    """Terminate the journeys (their children close with them); gone ones are fine."""

    async def one(workflow_id: str) -> None:
        with contextlib.suppress(Exception):
            await client.get_workflow_handle(workflow_id).terminate(reason="intake bench done")

    await asyncio.gather(*(one(w) for w in workflow_ids))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--journeys", type=int, default=50, help="journeys to start (50)")
    parser.add_argument("--events", type=int, default=300, help="events after the starts (300)")
    parser.add_argument("--concurrency", type=int, default=10, help="requests in flight (10)")
    parser.add_argument(
        "--duplicates", type=int, default=30, help="events posted a second time (30)"
    )
    parser.add_argument(
        "--drain-timeout",
        type=float,
        default=60.0,
        help="seconds to wait for the journeys to process what they were sent (60)",
    )
    parser.add_argument(
        "--log-level",
        default="warning",
        help="csflow and uvicorn log level, to stderr; info adds the API access log (warning)",
    )
    parser.add_argument("--server-log-level", default="error", help="dev server log level")
    args = parser.parse_args(argv)
    if args.journeys < 1 or args.events < 0 or args.concurrency < 1 or args.duplicates < 0:
        parser.error("--journeys and --concurrency must be >= 1, --events/--duplicates >= 0")
    try:
        return asyncio.run(bench(args))
    except Exception as exc:  # a bench reports, it does not trace back
        print(f"# bench failed: {exc!r}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
