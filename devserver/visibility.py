"""Visibility: listing and counting workflow executions with Temporal's query language."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta
from typing import Any

from temporalio.api.common.v1 import message_pb2 as common_pb
from temporalio.api.workflow.v1 import message_pb2 as workflow_pb
from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv

from devserver.engine import Engine
from devserver.errors import InvalidArgument
from devserver.execution import MutableState, Status
from devserver.search_attributes import decode_all
from devserver.visibility_query import SYSTEM_ATTRIBUTES, QueryError, VisibilityQuery, parse_query

DEFAULT_PAGE_SIZE = 1000

STATUS_NAMES: dict[int, str] = {
    Status.WORKFLOW_EXECUTION_STATUS_RUNNING: "Running",
    Status.WORKFLOW_EXECUTION_STATUS_COMPLETED: "Completed",
    Status.WORKFLOW_EXECUTION_STATUS_FAILED: "Failed",
    Status.WORKFLOW_EXECUTION_STATUS_CANCELED: "Canceled",
    Status.WORKFLOW_EXECUTION_STATUS_TERMINATED: "Terminated",
    Status.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW: "ContinuedAsNew",
    Status.WORKFLOW_EXECUTION_STATUS_TIMED_OUT: "TimedOut",
}


def _duration_ns(start: datetime, end: datetime | None) -> int | None:
    if end is None:
        return None
    return int((end - start).total_seconds() * 1_000_000_000)


def record_of(state: MutableState, registered: dict[str, int]) -> dict[str, Any]:
    """The attribute values a query is evaluated against."""
    record: dict[str, Any] = decode_all(state.search_attributes, registered)
    record.update(
        {
            "WorkflowId": state.workflow_id,
            "RunId": state.run_id,
            "WorkflowType": state.workflow_type,
            "TaskQueue": state.task_queue,
            "ExecutionStatus": STATUS_NAMES.get(state.status, "Running"),
            "StartTime": state.start_time,
            "ExecutionTime": state.execution_time,
            "CloseTime": state.close_time,
            "ExecutionDuration": _duration_ns(state.execution_time, state.close_time),
            "HistoryLength": state.history.last_event_id,
            "HistorySizeBytes": state.history.size_bytes,
            "StateTransitionCount": state.state_transitions,
            "RootWorkflowId": state.root_workflow_id,
            "RootRunId": state.root_run_id,
        }
    )
    if state.parent is not None:
        record["ParentWorkflowId"] = state.parent.workflow_id
        record["ParentRunId"] = state.parent.run_id
    return record


def execution_info(engine: Engine, state: MutableState) -> workflow_pb.WorkflowExecutionInfo:
    info = workflow_pb.WorkflowExecutionInfo(
        execution=state.execution,
        type=common_pb.WorkflowType(name=state.workflow_type),
        status=state.status,  # type: ignore[arg-type]
        history_length=state.history.last_event_id,
        history_size_bytes=state.history.size_bytes,
        memo=state.memo,
        search_attributes=state.search_attributes,
        task_queue=state.task_queue,
        state_transition_count=state.state_transitions,
        first_run_id=state.first_run_id,
        root_execution=common_pb.WorkflowExecution(
            workflow_id=state.root_workflow_id, run_id=state.root_run_id
        ),
    )
    info.start_time.FromDatetime(state.start_time)
    info.execution_time.FromDatetime(state.execution_time)
    if state.close_time is not None:
        info.close_time.FromDatetime(state.close_time)
        info.execution_duration.FromTimedelta(
            max(state.close_time - state.execution_time, timedelta(0))
        )
    if state.parent is not None:
        info.parent_namespace_id = engine.namespaces.get(state.parent.namespace).id
        info.parent_execution.workflow_id = state.parent.workflow_id
        info.parent_execution.run_id = state.parent.run_id
    return info


class Visibility:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _attribute_types(self, namespace: str) -> dict[str, int]:
        types = dict(SYSTEM_ATTRIBUTES)
        types.update(self.engine.namespaces.get(namespace).search_attributes)
        return types

    def _parse(self, namespace: str, text: str) -> VisibilityQuery:
        try:
            return parse_query(text, self._attribute_types(namespace))
        except QueryError as exc:
            raise InvalidArgument(str(exc)) from exc

    def _matched(
        self, namespace: str, query: VisibilityQuery
    ) -> list[tuple[dict[str, Any], MutableState]]:
        """The runs the query selects, each with the record it was evaluated against."""
        registered = self.engine.namespaces.get(namespace).search_attributes
        pairs = [(record_of(s, registered), s) for s in self.engine.runs_in(namespace)]
        return [pair for pair in pairs if query.matches(pair[0])]

    def _matching(self, namespace: str, query: VisibilityQuery) -> list[MutableState]:
        matched = self._matched(namespace, query)
        order = query.sort_records([record for record, _ in matched])
        by_run = {id(record): state for record, state in matched}
        return [by_run[id(record)] for record in order]

    def list(
        self, namespace: str, text: str, page_size: int, page_token: bytes
    ) -> wsv.ListWorkflowExecutionsResponse:
        query = self._parse(namespace, text)
        if query.group_by:
            raise InvalidArgument("invalid query: GROUP BY is only supported by Count.")
        states = self._matching(namespace, query)
        offset = _decode_page_token(page_token)
        size = page_size if page_size > 0 else DEFAULT_PAGE_SIZE
        page = states[offset : offset + size]
        response = wsv.ListWorkflowExecutionsResponse(
            executions=[execution_info(self.engine, s) for s in page]
        )
        if offset + size < len(states):
            response.next_page_token = _encode_page_token(offset + size)
        return response

    def count(self, namespace: str, text: str) -> wsv.CountWorkflowExecutionsResponse:
        query = self._parse(namespace, text)
        matched = [record for record, _ in self._matched(namespace, query)]
        response = wsv.CountWorkflowExecutionsResponse(count=len(matched))
        if query.group_by:
            for value, count in query.group_counts(matched):
                group = wsv.CountWorkflowExecutionsResponse.AggregationGroup(count=count)
                payload = group.group_values.add()
                payload.metadata["encoding"] = b"json/plain"
                payload.data = json.dumps(value).encode()
                response.groups.append(group)
        return response


def _encode_page_token(offset: int) -> bytes:
    return base64.b64encode(json.dumps({"offset": offset}).encode())


def _decode_page_token(token: bytes) -> int:
    if not token:
        return 0
    try:
        return int(json.loads(base64.b64decode(token))["offset"])
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidArgument("next_page_token is malformed.") from exc
