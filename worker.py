"""csflow worker: runs every lifecycle workflow and activity on one task queue.

`python -m worker` or `csflow worker`. The connection comes from the `temporalio.envconfig`
profile (config file and TEMPORAL_* variables, e.g. TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Sequence
from typing import Any

import structlog
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.envconfig import ClientConfigProfile
from temporalio.worker import Worker

from workflows.escalation import EscalationWorkflow
from workflows.journey import CustomerJourneyWorkflow
from workflows.onboarding import OnboardingWorkflow
from workflows.renewal import RenewalWorkflow
from workflows.requirements import RequirementsGatheringWorkflow

log = structlog.get_logger("csflow.worker")

TASK_QUEUE = os.environ.get("CSFLOW_TASK_QUEUE", "csflow")

WORKFLOWS: list[type] = [
    CustomerJourneyWorkflow,
    RequirementsGatheringWorkflow,
    OnboardingWorkflow,
    RenewalWorkflow,
    EscalationWorkflow,
]

SEARCH_ATTRIBUTES: dict[str, IndexedValueType.ValueType] = {
    "CustomerId": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    "LifecycleStage": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    "CsmOwner": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    "Segment": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    "HealthScore": IndexedValueType.INDEXED_VALUE_TYPE_INT,
    "RenewalDate": IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
}


async def connect() -> Client:
    config: dict[str, Any] = dict(ClientConfigProfile.load().to_client_connect_config())
    config.setdefault("target_host", "localhost:7233")
    config["namespace"] = os.environ.get("TEMPORAL_NAMESPACE", config.get("namespace", "default"))
    return await Client.connect(**config, data_converter=pydantic_data_converter)


async def ensure_search_attributes(client: Client) -> None:
    """Register the custom search attributes the journeys upsert, when missing."""
    existing = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=client.namespace)
    )
    missing = {
        name: kind
        for name, kind in SEARCH_ATTRIBUTES.items()
        if name not in existing.custom_attributes
    }
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=client.namespace, search_attributes=missing)
        )
        log.info("registered search attributes", names=sorted(missing))


def all_activities() -> Sequence[Callable[..., Any]]:
    from activities import ALL_ACTIVITIES

    return list(ALL_ACTIVITIES)


def build_worker(
    client: Client,
    activities: Sequence[Callable[..., Any]],
    task_queue: str = TASK_QUEUE,
) -> Worker:
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=activities,
        # Activities are async or sync; sync ones need an executor.
        activity_executor=None,
    )


async def run_worker() -> None:
    client = await connect()
    await ensure_search_attributes(client)
    worker = build_worker(client, all_activities())
    log.info("worker started", task_queue=TASK_QUEUE, namespace=client.namespace)
    await worker.run()


def main() -> None:
    asyncio.run(run_worker())


if __name__ == "__main__":
    main()
