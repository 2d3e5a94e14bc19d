"""Visibility query language and search-attribute registration, through the SDK."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
    RemoveSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker
from wf_visibility import ParkedWorkflow

CUSTOMER = SearchAttributeKey.for_keyword("VisCustomerId")
STAGE = SearchAttributeKey.for_keyword("VisLifecycleStage")
HEALTH = SearchAttributeKey.for_int("VisHealthScore")
ARR = SearchAttributeKey.for_float("VisArr")
STRATEGIC = SearchAttributeKey.for_bool("VisStrategic")
RENEWAL = SearchAttributeKey.for_datetime("VisRenewalDate")
TAGS = SearchAttributeKey.for_keyword_list("VisTags")
NOTES = SearchAttributeKey.for_text("VisNotes")

ACCOUNTS = {
    # id: stage, health, arr, strategic, renewal month, tags, notes
    "acme": ("onboarding", 82, 120_000.0, True, 3, ["emea", "pilot"], "expanding into new teams"),
    "globex": ("adoption", 35, 48_000.0, False, 6, ["amer"], "support load is high"),
    "initech": ("renewal", 55, 9_500.0, False, 9, ["amer", "smb"], "champion left the company"),
    "umbrella": ("renewal", 18, 250_000.0, True, 12, ["apac"], "executive sponsor unhappy"),
}


async def _register(client: Client) -> None:
    await client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=client.namespace,
            search_attributes={
                CUSTOMER.name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
                STAGE.name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
                HEALTH.name: IndexedValueType.INDEXED_VALUE_TYPE_INT,
                ARR.name: IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
                STRATEGIC.name: IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
                RENEWAL.name: IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
                TAGS.name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
                NOTES.name: IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
            },
        )
    )


QUERY_TABLE = [
    ("VisLifecycleStage = 'renewal'", {"initech", "umbrella"}),
    ("VisLifecycleStage != 'renewal'", {"acme", "globex"}),
    ("VisHealthScore < 40", {"globex", "umbrella"}),
    ("VisHealthScore >= 55 AND VisStrategic = false", {"initech"}),
    ("VisHealthScore BETWEEN 30 AND 60", {"globex", "initech"}),
    ("VisArr > 100000.5", {"acme", "umbrella"}),
    ("VisCustomerId IN ('acme', 'initech', 'nobody')", {"acme", "initech"}),
    ("VisCustomerId NOT IN ('acme', 'initech')", {"globex", "umbrella"}),
    ("VisCustomerId STARTS_WITH 'gl'", {"globex"}),
    ("VisTags = 'amer'", {"globex", "initech"}),
    ("VisTags IN ('apac', 'pilot')", {"acme", "umbrella"}),
    ("VisNotes = 'champion'", {"initech"}),
    ("VisRenewalDate < '2027-07-01T00:00:00Z'", {"acme", "globex"}),
    ("VisStrategic = true OR VisHealthScore < 40", {"acme", "globex", "umbrella"}),
    ("NOT (VisLifecycleStage = 'renewal' OR VisHealthScore > 80)", {"globex"}),
    (
        "(VisStrategic = true AND VisHealthScore < 40) OR VisCustomerId = 'acme'",
        {"acme", "umbrella"},
    ),
    (
        "VisHealthScore IS NOT NULL AND ExecutionStatus = 'Running'",
        {"acme", "globex", "initech", "umbrella"},
    ),
]


async def test_query_table_returns_exactly_the_matching_executions(client: Client) -> None:
    await _register(client)
    task_queue = f"vis-{uuid4()}"
    run = uuid4().hex[:8]
    ids = {}
    async with Worker(client, task_queue=task_queue, workflows=[ParkedWorkflow]):
        for name, (stage, health, arr, strategic, month, tags, notes) in ACCOUNTS.items():
            ids[name] = f"journey-{run}-{name}"
            await client.start_workflow(
                ParkedWorkflow.run,
                id=ids[name],
                task_queue=task_queue,
                search_attributes=TypedSearchAttributes(
                    [
                        SearchAttributePair(CUSTOMER, name),
                        SearchAttributePair(STAGE, stage),
                        SearchAttributePair(HEALTH, health),
                        SearchAttributePair(ARR, arr),
                        SearchAttributePair(STRATEGIC, strategic),
                        SearchAttributePair(RENEWAL, datetime(2027, month, 1, tzinfo=UTC)),
                        SearchAttributePair(TAGS, tags),
                        SearchAttributePair(NOTES, notes),
                    ]
                ),
            )
        scope = f"TaskQueue = '{task_queue}'"
        for query, expected in QUERY_TABLE:
            full = f"{scope} AND ({query})"
            found = {w.id async for w in client.list_workflows(full)}
            assert found == {ids[name] for name in expected}, query
            assert (await client.count_workflows(full)).count == len(expected), query

        ordered = [
            w.id async for w in client.list_workflows(f"{scope} ORDER BY VisHealthScore DESC")
        ]
        assert ordered == [ids["acme"], ids["initech"], ids["globex"], ids["umbrella"]]
        grouped = await client.count_workflows(f"{scope} GROUP BY ExecutionStatus")
        assert [(g.group_values, g.count) for g in grouped.groups] == [(["Running"], 4)]
        for name in ACCOUNTS:
            await client.get_workflow_handle(ids[name]).terminate("test done")


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("VisHealthScore <", "expected a value"),
        ("NoSuchAttribute = 'x'", "unknown search attribute 'NoSuchAttribute'"),
        ("VisHealthScore = 'high'", "VisHealthScore"),
        ("WorkflowId = 'a' AND AND", "position"),
        ("ORDER BY", "position"),
    ],
)
async def test_invalid_queries_get_clear_errors(client: Client, query: str, fragment: str) -> None:
    await _register(client)
    with pytest.raises(RPCError) as error:
        await client.count_workflows(query)
    assert error.value.status == RPCStatusCode.INVALID_ARGUMENT
    assert fragment in str(error.value)


async def test_unregistered_attribute_is_refused_at_start(client: Client) -> None:
    with pytest.raises(RPCError) as error:
        await client.start_workflow(
            ParkedWorkflow.run,
            id=f"unregistered-{uuid4()}",
            task_queue="nobody-polls",
            search_attributes=TypedSearchAttributes(
                [SearchAttributePair(SearchAttributeKey.for_keyword("NeverRegistered"), "x")]
            ),
        )
    assert error.value.status == RPCStatusCode.INVALID_ARGUMENT
    assert "NeverRegistered is not defined" in str(error.value)


async def test_register_list_and_remove_search_attributes(client: Client) -> None:
    name = f"Temp{uuid4().hex[:8]}"
    service = client.operator_service
    await service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=client.namespace,
            search_attributes={name: IndexedValueType.INDEXED_VALUE_TYPE_INT},
        )
    )
    listed = await service.list_search_attributes(
        ListSearchAttributesRequest(namespace=client.namespace)
    )
    assert listed.custom_attributes[name] == IndexedValueType.INDEXED_VALUE_TYPE_INT
    assert "WorkflowId" in listed.system_attributes
    with pytest.raises(RPCError) as conflict:
        await service.add_search_attributes(
            AddSearchAttributesRequest(
                namespace=client.namespace,
                search_attributes={name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD},
            )
        )
    assert conflict.value.status == RPCStatusCode.ALREADY_EXISTS
    await service.remove_search_attributes(
        RemoveSearchAttributesRequest(namespace=client.namespace, search_attributes=[name])
    )
    after = await service.list_search_attributes(
        ListSearchAttributesRequest(namespace=client.namespace)
    )
    assert name not in after.custom_attributes
