"""Markers (local activities), external signals, external cancels, namespace registration."""

from __future__ import annotations

from uuid import uuid4

import pytest
from temporalio.api.workflowservice.v1 import (
    DescribeNamespaceRequest,
    ListNamespacesRequest,
    RegisterNamespaceRequest,
)
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker
from wf_commands import (
    ChampionChangeNotifier,
    ChampionInbox,
    JourneyCancelsOnboarding,
    LocalActivityLookup,
    LongOnboarding,
    PatchedOnboarding,
    lookup_plan,
)

WORKFLOWS = [
    LocalActivityLookup,
    ChampionInbox,
    ChampionChangeNotifier,
    LongOnboarding,
    JourneyCancelsOnboarding,
]


async def _event_types(client: Client, workflow_id: str) -> list[str]:
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    return [e.WhichOneof("attributes") or "" for e in history.events]


async def test_local_activity_is_recorded_as_a_marker(client: Client) -> None:
    task_queue = f"commands-{uuid4()}"
    async with Worker(client, task_queue=task_queue, workflows=WORKFLOWS, activities=[lookup_plan]):
        workflow_id = f"local-{uuid4()}"
        result = await client.execute_workflow(
            LocalActivityLookup.run, "acme", id=workflow_id, task_queue=task_queue
        )
    assert result == "plan-of-acme"
    assert "marker_recorded_event_attributes" in await _event_types(client, workflow_id)


async def test_external_signals_reach_the_target_and_fail_for_a_missing_one(
    client: Client,
) -> None:
    task_queue = f"commands-{uuid4()}"
    inbox_id = f"inbox-{uuid4()}"
    async with Worker(client, task_queue=task_queue, workflows=WORKFLOWS):
        inbox = await client.start_workflow(ChampionInbox.run, id=inbox_id, task_queue=task_queue)
        notifier_id = f"notifier-{uuid4()}"
        outcome = await client.execute_workflow(
            ChampionChangeNotifier.run, inbox_id, id=notifier_id, task_queue=task_queue
        )
        assert await inbox.result() == ["champion left", "new champion: dana"]
    assert outcome == "signalled; missing target: ApplicationError"
    notifier_events = await _event_types(client, notifier_id)
    assert notifier_events.count("external_workflow_execution_signaled_event_attributes") == 2
    assert "signal_external_workflow_execution_failed_event_attributes" in notifier_events
    inbox_events = await _event_types(client, inbox_id)
    assert inbox_events.count("workflow_execution_signaled_event_attributes") == 2


async def test_parent_cancels_child(client: Client) -> None:
    task_queue = f"commands-{uuid4()}"
    child_id = f"onboarding-{uuid4()}"
    async with Worker(client, task_queue=task_queue, workflows=WORKFLOWS):
        parent_id = f"journey-{uuid4()}"
        result = await client.execute_workflow(
            JourneyCancelsOnboarding.run, child_id, id=parent_id, task_queue=task_queue
        )
    # The child handles the cancellation and completes normally.
    assert result == "onboarding cancelled"
    child_events = await _event_types(client, child_id)
    assert "workflow_execution_cancel_requested_event_attributes" in child_events
    parent_events = await _event_types(client, parent_id)
    assert "external_workflow_execution_cancel_requested_event_attributes" in parent_events


async def test_register_namespace(client: Client) -> None:
    name = f"ns-{uuid4().hex[:8]}"
    service = client.workflow_service
    await service.register_namespace(
        RegisterNamespaceRequest(namespace=name, description="customer success sandbox")
    )
    described = await service.describe_namespace(DescribeNamespaceRequest(namespace=name))
    assert described.namespace_info.description == "customer success sandbox"
    listed = await service.list_namespaces(ListNamespacesRequest())
    assert name in {n.namespace_info.name for n in listed.namespaces}
    with pytest.raises(RPCError) as again:
        await service.register_namespace(RegisterNamespaceRequest(namespace=name))
    assert again.value.status == RPCStatusCode.ALREADY_EXISTS


async def test_patched_records_change_version_searchable(client: Client) -> None:
    task_queue = f"commands-{uuid4()}"
    workflow_id = f"patched-{uuid4()}"
    async with Worker(client, task_queue=task_queue, workflows=[PatchedOnboarding]):
        result = await client.execute_workflow(
            PatchedOnboarding.run, id=workflow_id, task_queue=task_queue
        )
    assert result == "patched path"
    found = [
        w.id
        async for w in client.list_workflows(
            f"TemporalChangeVersion = 'kickoff-before-training' AND WorkflowId = '{workflow_id}'"
        )
    ]
    assert found == [workflow_id]
