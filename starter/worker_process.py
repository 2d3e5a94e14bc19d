"""The worker process: every lifecycle workflow and activity on one task queue.

`csflow worker` (or `python -m worker`) runs `main`. Settings come from `domain.settings`; the
Temporal connection from the `temporalio.envconfig` profile (config file and TEMPORAL_*
variables). Tests, the demo and benchmarks build workers with `build_worker`.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

import structlog
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Interceptor, Worker

from activities import build_activities
from activities.process_map_start import ProcessMapStarter
from domain.process_map import InvalidProcessMap, load_map
from domain.settings import Settings
from starter import connection
from starter.logging_setup import configure_logging
from starter.telemetry import metrics_address, runtime_with_metrics
from workflows.catalog import WORKFLOWS
from workflows.search_attributes import ALL_KEYS

log = structlog.get_logger("csflow.worker")

# Registered names and types, from the typed keys the workflows use.
SEARCH_ATTRIBUTES: dict[str, IndexedValueType.ValueType] = {
    key.name: IndexedValueType.ValueType(key.indexed_value_type) for key in ALL_KEYS
}

# Finish in-flight activities for this long after SIGTERM (below Kubernetes' 60 s grace).
GRACEFUL_SHUTDOWN = timedelta(seconds=30)


async def connect(settings: Settings) -> Client:
    """The worker's client, with worker metrics on CSFLOW_METRICS_PORT when set."""
    return await connection.connect(runtime=runtime_with_metrics(settings))


async def ensure_search_attributes(client: Client) -> None:
    """Register the custom search attributes csflow's workflows carry, when missing."""
    try:
        existing = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=client.namespace)
        )
        registered = set(existing.custom_attributes)
    except RPCError as err:
        # Temporal's time-skipping test server adds attributes but cannot list them.
        if err.status != RPCStatusCode.UNIMPLEMENTED:
            raise
        registered = set()
    missing = {name: kind for name, kind in SEARCH_ATTRIBUTES.items() if name not in registered}
    if missing:
        try:
            await client.operator_service.add_search_attributes(
                AddSearchAttributesRequest(namespace=client.namespace, search_attributes=missing)
            )
        except RPCError as err:
            # Another replica registered them first, or (Temporal Cloud) the operator API is
            # not ours to call: the attributes are then managed outside the worker.
            if err.status not in (RPCStatusCode.ALREADY_EXISTS, RPCStatusCode.PERMISSION_DENIED):
                raise
            log.warning("search attributes not registered by the worker", reason=err.message)
            return
        log.info("registered search attributes", names=sorted(missing))


def build_worker(
    client: Client,
    activities: Sequence[Callable[..., Any]],
    *,
    task_queue: str,
    graceful_shutdown: timedelta = timedelta(0),
    interceptors: Sequence[Interceptor] = (),
) -> Worker:
    """A worker for every csflow workflow (workflows.catalog) and the given activities, plus
    the one that starts workflows with this client (`start_process_map`)."""
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=[*activities, ProcessMapStarter(client).start_process_map],
        # Every activity is async (blocking work runs in threads): no executor needed.
        activity_executor=None,
        graceful_shutdown_timeout=graceful_shutdown,
        interceptors=interceptors,
    )


async def run_worker(settings: Settings) -> None:
    configure_logging(settings)
    # Refuse to start on a process map that cannot run (InvalidProcessMap says why).
    process_map = load_map(settings.process_map)
    if not settings.production:
        # Production runs migrations once, as a job (deploy/), not from every replica.
        from crm.migrate import migrate

        migrate(settings.database_url)
    client = await connect(settings)
    if settings.register_search_attributes:
        await ensure_search_attributes(client)
    worker = build_worker(
        client,
        build_activities(settings),
        task_queue=settings.task_queue,
        graceful_shutdown=GRACEFUL_SHUTDOWN,
    )
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    log.info(
        "worker started",
        task_queue=settings.task_queue,
        namespace=client.namespace,
        process_map=process_map.label,
        metrics=metrics_address(settings),
    )
    _warn_about_customer_email(settings)
    async with worker:
        await stopping.wait()
        log.info("worker stopping")
    log.info("worker stopped")


def _warn_about_customer_email(settings: Settings) -> None:
    """What customer email lacks with these settings (it still goes out)."""
    if settings.postal_address is None:
        log.warning("not configured", setting="CSFLOW_POSTAL_ADDRESS (no address in footers)")
    if settings.unsubscribe_key() is None:
        log.warning(
            "not configured",
            setting="CSFLOW_UNSUBSCRIBE_SECRET or CSFLOW_REPLY_SECRET (no one-click unsubscribe "
            "link: emails offer a mailto only)",
        )


def main() -> None:
    from crm.migrate import PreReleaseSchema

    try:
        asyncio.run(run_worker(Settings.from_env()))
    except InvalidProcessMap as exc:
        # One line, no traceback: the worker does not run journeys by a map that cannot run.
        raise SystemExit(
            f"csflow worker: refusing to start: {exc} (`csflow process-map check` lists every "
            "problem)"
        ) from None
    except PreReleaseSchema as exc:
        raise SystemExit(f"csflow worker: refusing to start: {exc}") from None
