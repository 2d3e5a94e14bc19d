"""The gRPC face of the server: Temporal's WorkflowService over the engine."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import grpc
import structlog
from google.protobuf import any_pb2
from temporalio.api.enums.v1 import (
    HistoryEventFilterType,
    NamespaceState,
    PendingWorkflowTaskState,
    QueryRejectCondition,
    QueryResultType,
    TaskQueueKind,
    UpdateWorkflowExecutionLifecycleStage,
    WorkflowIdConflictPolicy,
)
from temporalio.api.errordetails.v1 import message_pb2 as errordetails
from temporalio.api.failure.v1 import message_pb2 as failure_pb
from temporalio.api.history.v1 import message_pb2 as history_pb
from temporalio.api.namespace.v1 import message_pb2 as namespace_pb
from temporalio.api.workflow.v1 import message_pb2 as workflow_pb
from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv
from temporalio.api.workflowservice.v1 import service_pb2_grpc as wsv_grpc

from devserver.engine import Engine, NewRun, _new_run_from_request
from devserver.errors import (
    DeadlineExceeded,
    InvalidArgument,
    NotFound,
    QueryFailed,
    ServiceError,
    require,
)
from devserver.execution import MutableState
from devserver.namespaces import Namespace
from devserver.rpc import poll_timeout, rpc
from devserver.schedule_service import ScheduleHandlers
from devserver.schedules import ScheduleManager
from devserver.visibility import Visibility, execution_info

log = structlog.get_logger("devserver.service")

SERVER_VERSION = "1.27.0-devserver"
# Long polls answer before the SDK's ~70 s client deadline.
MAX_LONG_POLL_SECONDS = 60.0
Stage = UpdateWorkflowExecutionLifecycleStage


class WorkflowService(ScheduleHandlers, wsv_grpc.WorkflowServiceServicer):
    def __init__(self, engine: Engine, schedules: ScheduleManager) -> None:
        self.engine = engine
        self.schedules = schedules
        self.visibility = Visibility(engine)

    # ---- system and namespaces -------------------------------------------------------------

    @rpc
    async def GetSystemInfo(self, request: Any, context: Any) -> wsv.GetSystemInfoResponse:
        return wsv.GetSystemInfoResponse(
            server_version=SERVER_VERSION,
            capabilities=wsv.GetSystemInfoResponse.Capabilities(
                signal_and_query_header=True,
                internal_error_differentiation=True,
                activity_failure_include_heartbeat=True,
                supports_schedules=True,
                encoded_failure_attributes=True,
                upsert_memo=True,
                sdk_metadata=True,
                count_group_by_execution_status=True,
            ),
        )

    @rpc
    async def GetClusterInfo(self, request: Any, context: Any) -> wsv.GetClusterInfoResponse:
        return wsv.GetClusterInfoResponse(
            server_version=SERVER_VERSION,
            cluster_name="devserver",
            cluster_id="devserver",
            history_shard_count=1,
            persistence_store="sqlite",
            visibility_store="sqlite",
        )

    def _describe_namespace(self, namespace: Namespace) -> wsv.DescribeNamespaceResponse:
        response = wsv.DescribeNamespaceResponse(
            namespace_info=namespace_pb.NamespaceInfo(
                name=namespace.name,
                id=namespace.id,
                state=NamespaceState.NAMESPACE_STATE_REGISTERED,
                description=namespace.description,
                owner_email=namespace.owner_email,
                capabilities=namespace_pb.NamespaceInfo.Capabilities(
                    sync_update=True, async_update=True
                ),
                supports_schedules=True,
            ),
        )
        response.config.workflow_execution_retention_ttl.FromTimedelta(namespace.retention)
        return response

    @rpc
    async def DescribeNamespace(
        self, request: wsv.DescribeNamespaceRequest, context: Any
    ) -> wsv.DescribeNamespaceResponse:
        if request.id and not request.namespace:
            return self._describe_namespace(self.engine.namespaces.get_by_id(request.id))
        return self._describe_namespace(self.engine.namespaces.get(request.namespace))

    @rpc
    async def ListNamespaces(
        self, request: wsv.ListNamespacesRequest, context: Any
    ) -> wsv.ListNamespacesResponse:
        return wsv.ListNamespacesResponse(
            namespaces=[self._describe_namespace(n) for n in self.engine.namespaces.all()]
        )

    @rpc
    async def RegisterNamespace(
        self, request: wsv.RegisterNamespaceRequest, context: Any
    ) -> wsv.RegisterNamespaceResponse:
        namespace = Namespace(
            name=request.namespace,
            description=request.description,
            owner_email=request.owner_email,
        )
        retention = request.workflow_execution_retention_period.ToTimedelta()
        if retention.total_seconds() > 0:
            namespace.retention = retention
        self.engine.namespaces.register(namespace)
        self.engine.namespaces_dirty = True
        return wsv.RegisterNamespaceResponse()

    @rpc
    async def GetSearchAttributes(
        self, request: Any, context: Any
    ) -> wsv.GetSearchAttributesResponse:
        namespace = self.engine.namespaces.get("default")
        response = wsv.GetSearchAttributesResponse()
        for name, value_type in namespace.search_attributes.items():
            response.keys[name] = value_type  # type: ignore[assignment]
        return response

    # ---- starting, signalling, cancelling --------------------------------------------------

    @rpc
    async def StartWorkflowExecution(
        self, request: wsv.StartWorkflowExecutionRequest, context: Any
    ) -> wsv.StartWorkflowExecutionResponse:
        return self._start(request)

    def _start(
        self, request: wsv.StartWorkflowExecutionRequest
    ) -> wsv.StartWorkflowExecutionResponse:
        self.engine.namespaces.get(request.namespace)
        new = _new_run_from_request(request.namespace, request)
        state, started = self.engine.start(
            new,
            reuse_policy=request.workflow_id_reuse_policy,
            conflict_policy=request.workflow_id_conflict_policy,
        )
        return wsv.StartWorkflowExecutionResponse(
            run_id=state.run_id,
            started=started,
            status=state.status,  # type: ignore[arg-type]
        )

    @rpc
    async def SignalWithStartWorkflowExecution(
        self, request: wsv.SignalWithStartWorkflowExecutionRequest, context: Any
    ) -> wsv.SignalWithStartWorkflowExecutionResponse:
        require(request.signal_name, "signal_name")
        self.engine.namespaces.get(request.namespace)
        conflict = request.workflow_id_conflict_policy or (
            WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING
        )
        current_id = self.engine.current.get((request.namespace, request.workflow_id))
        current = self.engine.runs.get((request.namespace, current_id)) if current_id else None
        if (
            current is not None
            and current.running
            and conflict == WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING
        ):
            self.engine.signal(
                current,
                request.signal_name,
                request.signal_input,
                request.header,
                request.identity,
                request.request_id,
            )
            return wsv.SignalWithStartWorkflowExecutionResponse(
                run_id=current.run_id, started=False
            )
        new: NewRun = _new_run_from_request(request.namespace, request)
        new.initial_signal = history_pb.WorkflowExecutionSignaledEventAttributes(
            signal_name=request.signal_name,
            input=request.signal_input,
            identity=request.identity,
            header=request.header,
            request_id=request.request_id,
        )
        state, started = self.engine.start(
            new, reuse_policy=request.workflow_id_reuse_policy, conflict_policy=conflict
        )
        return wsv.SignalWithStartWorkflowExecutionResponse(run_id=state.run_id, started=started)

    @rpc
    async def SignalWorkflowExecution(
        self, request: wsv.SignalWorkflowExecutionRequest, context: Any
    ) -> wsv.SignalWorkflowExecutionResponse:
        require(request.signal_name, "signal_name")
        state = self.engine.find_running(
            request.namespace,
            request.workflow_execution.workflow_id,
            request.workflow_execution.run_id,
        )
        self.engine.signal(
            state,
            request.signal_name,
            request.input,
            request.header,
            request.identity,
            request.request_id,
        )
        return wsv.SignalWorkflowExecutionResponse()

    @rpc
    async def RequestCancelWorkflowExecution(
        self, request: wsv.RequestCancelWorkflowExecutionRequest, context: Any
    ) -> wsv.RequestCancelWorkflowExecutionResponse:
        state = self.engine.find_running(
            request.namespace,
            request.workflow_execution.workflow_id,
            request.workflow_execution.run_id,
        )
        self.engine.request_cancel(state, request.identity, request.request_id, request.reason)
        return wsv.RequestCancelWorkflowExecutionResponse()

    @rpc
    async def TerminateWorkflowExecution(
        self, request: wsv.TerminateWorkflowExecutionRequest, context: Any
    ) -> wsv.TerminateWorkflowExecutionResponse:
        state = self.engine.find_running(
            request.namespace,
            request.workflow_execution.workflow_id,
            request.workflow_execution.run_id,
        )
        self.engine.terminate(
            state,
            request.reason,
            request.details if request.HasField("details") else None,
            request.identity,
        )
        return wsv.TerminateWorkflowExecutionResponse()

    # ---- reading executions ----------------------------------------------------------------

    @rpc
    async def DescribeWorkflowExecution(
        self, request: wsv.DescribeWorkflowExecutionRequest, context: Any
    ) -> wsv.DescribeWorkflowExecutionResponse:
        state = self.engine.find_run(
            request.namespace, request.execution.workflow_id, request.execution.run_id
        )
        response = wsv.DescribeWorkflowExecutionResponse(
            workflow_execution_info=execution_info(self.engine, state),
        )
        config = response.execution_config
        config.task_queue.name = state.task_queue
        config.task_queue.kind = TaskQueueKind.TASK_QUEUE_KIND_NORMAL
        config.default_workflow_task_timeout.FromTimedelta(state.workflow_task_timeout)
        if state.run_timeout is not None:
            config.workflow_run_timeout.FromTimedelta(state.run_timeout)
        started = state.history.get(1).workflow_execution_started_event_attributes
        if started.HasField("workflow_execution_timeout"):
            config.workflow_execution_timeout.CopyFrom(started.workflow_execution_timeout)
        for info in state.activities.values():
            response.pending_activities.append(self.engine.activities.pending_info(info))
        for child in state.children.values():
            response.pending_children.append(
                workflow_pb.PendingChildExecutionInfo(
                    workflow_id=child.workflow_id,
                    run_id=child.run_id,
                    workflow_type_name=child.workflow_type,
                    initiated_id=child.initiated_event_id,
                    parent_close_policy=child.parent_close_policy,  # type: ignore[arg-type]
                )
            )
        task = state.workflow_task
        if task is not None:
            pending = response.pending_workflow_task
            pending.state = (
                PendingWorkflowTaskState.PENDING_WORKFLOW_TASK_STATE_STARTED
                if task.started
                else PendingWorkflowTaskState.PENDING_WORKFLOW_TASK_STATE_SCHEDULED
            )
            pending.attempt = task.attempt
            pending.scheduled_time.FromDatetime(task.scheduled_time)
            pending.original_scheduled_time.FromDatetime(task.original_scheduled_time)
            if task.started_time is not None:
                pending.started_time.FromDatetime(task.started_time)
        return response

    @rpc
    async def GetWorkflowExecutionHistory(
        self, request: wsv.GetWorkflowExecutionHistoryRequest, context: Any
    ) -> wsv.GetWorkflowExecutionHistoryResponse:
        state = self.engine.find_run(
            request.namespace, request.execution.workflow_id, request.execution.run_id
        )
        timeout = poll_timeout(context)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        if (
            request.history_event_filter_type
            == HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT
        ):
            if request.wait_new_event:
                await self._wait(state, lambda: not state.running, deadline)
            close = self.engine.close_event(state)
            if close is None:
                # Not closed yet: an empty page with a token tells the SDK to poll again.
                return wsv.GetWorkflowExecutionHistoryResponse(next_page_token=b"close")
            response = wsv.GetWorkflowExecutionHistoryResponse()
            response.history.events.append(close)
            return response
        first = _event_token(request.next_page_token)
        if request.wait_new_event:
            await self._wait(
                state, lambda: state.history.last_event_id >= first or not state.running, deadline
            )
        size = request.maximum_page_size if request.maximum_page_size > 0 else 1000
        events = state.history.page(first, size)
        response = wsv.GetWorkflowExecutionHistoryResponse()
        response.history.events.extend(events)
        next_first = first + len(events)
        if next_first <= state.history.last_event_id or (request.wait_new_event and state.running):
            response.next_page_token = str(next_first).encode()
        return response

    @rpc
    async def GetWorkflowExecutionHistoryReverse(
        self, request: wsv.GetWorkflowExecutionHistoryReverseRequest, context: Any
    ) -> wsv.GetWorkflowExecutionHistoryReverseResponse:
        state = self.engine.find_run(
            request.namespace, request.execution.workflow_id, request.execution.run_id
        )
        last = (
            _event_token(request.next_page_token)
            if request.next_page_token
            else (state.history.last_event_id)
        )
        size = request.maximum_page_size if request.maximum_page_size > 0 else 1000
        first = max(last - size + 1, 1)
        response = wsv.GetWorkflowExecutionHistoryReverseResponse()
        response.history.events.extend(reversed(state.history.events[first - 1 : last]))
        if first > 1:
            response.next_page_token = str(first - 1).encode()
        return response

    async def _wait(self, state: MutableState, done: Callable[[], bool], deadline: float) -> None:
        loop = asyncio.get_running_loop()
        while not done():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            try:
                await asyncio.wait_for(state.changed.wait(), timeout=remaining)
            except TimeoutError:
                return

    # ---- workflow tasks --------------------------------------------------------------------

    @rpc
    async def PollWorkflowTaskQueue(
        self, request: wsv.PollWorkflowTaskQueueRequest, context: Any
    ) -> wsv.PollWorkflowTaskQueueResponse:
        self.engine.namespaces.get(request.namespace)
        require(request.task_queue.name, "task_queue.name")
        request_id = str(uuid.uuid4())
        if request.task_queue.kind == TaskQueueKind.TASK_QUEUE_KIND_STICKY:
            # Sticky queues are served as normal queues (every task carries full history):
            # hold the poll and answer empty.
            await asyncio.sleep(poll_timeout(context))
            return wsv.PollWorkflowTaskQueueResponse()
        result = await self.engine.workflow_queues.poll(
            request.namespace,
            request.task_queue.name,
            poll_timeout(context),
            lambda ref: self.engine.start_workflow_task(ref, request.identity, request_id),
            self.engine.clock.timestamp,
        )
        return result or wsv.PollWorkflowTaskQueueResponse()

    @rpc
    async def RespondWorkflowTaskCompleted(
        self, request: wsv.RespondWorkflowTaskCompletedRequest, context: Any
    ) -> wsv.RespondWorkflowTaskCompletedResponse:
        return self.engine.complete_workflow_task(request)

    @rpc
    async def RespondWorkflowTaskFailed(
        self, request: wsv.RespondWorkflowTaskFailedRequest, context: Any
    ) -> wsv.RespondWorkflowTaskFailedResponse:
        self.engine.fail_workflow_task(request)
        return wsv.RespondWorkflowTaskFailedResponse()

    @rpc
    async def RespondQueryTaskCompleted(
        self, request: wsv.RespondQueryTaskCompletedRequest, context: Any
    ) -> wsv.RespondQueryTaskCompletedResponse:
        self.engine.respond_query(request)
        return wsv.RespondQueryTaskCompletedResponse()

    @rpc
    async def ResetStickyTaskQueue(self, request: Any, context: Any) -> Any:
        return wsv.ResetStickyTaskQueueResponse()

    @rpc
    async def ShutdownWorker(self, request: Any, context: Any) -> Any:
        return wsv.ShutdownWorkerResponse()

    # ---- activity tasks --------------------------------------------------------------------

    @rpc
    async def PollActivityTaskQueue(
        self, request: wsv.PollActivityTaskQueueRequest, context: Any
    ) -> wsv.PollActivityTaskQueueResponse:
        self.engine.namespaces.get(request.namespace)
        require(request.task_queue.name, "task_queue.name")
        request_id = str(uuid.uuid4())
        result = await self.engine.activities.queues.poll(
            request.namespace,
            request.task_queue.name,
            poll_timeout(context),
            lambda ref: self.engine.activities.start(ref, request.identity, request_id),
            self.engine.clock.timestamp,
        )
        return result or wsv.PollActivityTaskQueueResponse()

    @rpc
    async def RecordActivityTaskHeartbeat(
        self, request: wsv.RecordActivityTaskHeartbeatRequest, context: Any
    ) -> wsv.RecordActivityTaskHeartbeatResponse:
        state, info = self.engine.activities.by_token(request.task_token)
        cancel = self.engine.activities.heartbeat(state, info, request.details)
        return wsv.RecordActivityTaskHeartbeatResponse(cancel_requested=cancel)

    @rpc
    async def RecordActivityTaskHeartbeatById(
        self, request: wsv.RecordActivityTaskHeartbeatByIdRequest, context: Any
    ) -> wsv.RecordActivityTaskHeartbeatByIdResponse:
        state, info = self.engine.activities.by_id(
            request.namespace, request.workflow_id, request.run_id, request.activity_id
        )
        cancel = self.engine.activities.heartbeat(state, info, request.details)
        return wsv.RecordActivityTaskHeartbeatByIdResponse(cancel_requested=cancel)

    @rpc
    async def RespondActivityTaskCompleted(
        self, request: wsv.RespondActivityTaskCompletedRequest, context: Any
    ) -> wsv.RespondActivityTaskCompletedResponse:
        state, info = self.engine.activities.by_token(request.task_token)
        self.engine.activities.completed(state, info, request.result, request.identity)
        return wsv.RespondActivityTaskCompletedResponse()

    @rpc
    async def RespondActivityTaskCompletedById(
        self, request: wsv.RespondActivityTaskCompletedByIdRequest, context: Any
    ) -> wsv.RespondActivityTaskCompletedByIdResponse:
        state, info = self.engine.activities.by_id(
            request.namespace, request.workflow_id, request.run_id, request.activity_id
        )
        self.engine.activities.completed(state, info, request.result, request.identity)
        return wsv.RespondActivityTaskCompletedByIdResponse()

    @rpc
    async def RespondActivityTaskFailed(
        self, request: wsv.RespondActivityTaskFailedRequest, context: Any
    ) -> wsv.RespondActivityTaskFailedResponse:
        state, info = self.engine.activities.by_token(request.task_token)
        self.engine.activities.failed(
            state, info, request.failure, request.identity, request.last_heartbeat_details
        )
        return wsv.RespondActivityTaskFailedResponse()

    @rpc
    async def RespondActivityTaskFailedById(
        self, request: wsv.RespondActivityTaskFailedByIdRequest, context: Any
    ) -> wsv.RespondActivityTaskFailedByIdResponse:
        state, info = self.engine.activities.by_id(
            request.namespace, request.workflow_id, request.run_id, request.activity_id
        )
        self.engine.activities.failed(
            state, info, request.failure, request.identity, request.last_heartbeat_details
        )
        return wsv.RespondActivityTaskFailedByIdResponse()

    @rpc
    async def RespondActivityTaskCanceled(
        self, request: wsv.RespondActivityTaskCanceledRequest, context: Any
    ) -> wsv.RespondActivityTaskCanceledResponse:
        state, info = self.engine.activities.by_token(request.task_token)
        self.engine.activities.canceled(state, info, request.details, request.identity)
        return wsv.RespondActivityTaskCanceledResponse()

    @rpc
    async def RespondActivityTaskCanceledById(
        self, request: wsv.RespondActivityTaskCanceledByIdRequest, context: Any
    ) -> wsv.RespondActivityTaskCanceledByIdResponse:
        state, info = self.engine.activities.by_id(
            request.namespace, request.workflow_id, request.run_id, request.activity_id
        )
        self.engine.activities.canceled(state, info, request.details, request.identity)
        return wsv.RespondActivityTaskCanceledByIdResponse()

    # ---- queries and updates ---------------------------------------------------------------

    @rpc
    async def QueryWorkflow(
        self, request: wsv.QueryWorkflowRequest, context: Any
    ) -> wsv.QueryWorkflowResponse:
        require(request.query.query_type, "query.query_type")
        state = self.engine.find_run(
            request.namespace, request.execution.workflow_id, request.execution.run_id
        )
        rejected = (
            request.query_reject_condition == QueryRejectCondition.QUERY_REJECT_CONDITION_NOT_OPEN
            and not state.running
        ) or (
            request.query_reject_condition
            == QueryRejectCondition.QUERY_REJECT_CONDITION_NOT_COMPLETED_CLEANLY
            and not state.running
            and state.status != 2  # WORKFLOW_EXECUTION_STATUS_COMPLETED
        )
        if rejected:
            response = wsv.QueryWorkflowResponse()
            response.query_rejected.status = state.status  # type: ignore[assignment]
            return response
        try:
            result = await self.engine.query(state, request.query, poll_timeout(context, 30.0))
        except TimeoutError:
            raise DeadlineExceeded("query timed out: no worker answered") from None
        if result.result_type == QueryResultType.QUERY_RESULT_TYPE_ANSWERED:
            return wsv.QueryWorkflowResponse(query_result=result.answer)
        failure = (
            result.failure
            if result.HasField("failure")
            else failure_pb.Failure(message=result.error_message)
        )
        raise QueryFailed(
            result.error_message or failure.message,
            errordetails.QueryFailedFailure(failure=failure),
        )

    def _update_response(
        self, state: MutableState, update_id: str
    ) -> wsv.UpdateWorkflowExecutionResponse:
        update = state.updates[update_id]
        response = wsv.UpdateWorkflowExecutionResponse(stage=update.stage)  # type: ignore[arg-type]
        response.update_ref.workflow_execution.CopyFrom(state.execution)
        response.update_ref.update_id = update_id
        if update.outcome is not None:
            response.outcome.CopyFrom(update.outcome)
        return response

    async def _update(
        self, request: wsv.UpdateWorkflowExecutionRequest, context: Any, state: MutableState
    ) -> wsv.UpdateWorkflowExecutionResponse:
        if request.first_execution_run_id and request.first_execution_run_id != state.first_run_id:
            raise NotFound("workflow execution with the given first_execution_run_id not found")
        update = self.engine.admit_update(state, request.request)
        stage = (
            request.wait_policy.lifecycle_stage
            or Stage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED
        )
        await self.engine.wait_update(state, update, stage, poll_timeout(context, 20.0))
        return self._update_response(state, update.update_id)

    @rpc
    async def UpdateWorkflowExecution(
        self, request: wsv.UpdateWorkflowExecutionRequest, context: Any
    ) -> wsv.UpdateWorkflowExecutionResponse:
        execution = request.workflow_execution
        state = self.engine.find_run(request.namespace, execution.workflow_id, execution.run_id)
        return await self._update(request, context, state)

    @rpc
    async def PollWorkflowExecutionUpdate(
        self, request: wsv.PollWorkflowExecutionUpdateRequest, context: Any
    ) -> wsv.PollWorkflowExecutionUpdateResponse:
        ref = request.update_ref
        require(ref.update_id, "update_ref.update_id")
        state = self.engine.find_run(
            request.namespace, ref.workflow_execution.workflow_id, ref.workflow_execution.run_id
        )
        update = state.updates.get(ref.update_id)
        if update is None:
            raise NotFound(f"update {ref.update_id} not found")
        stage = (
            request.wait_policy.lifecycle_stage
            or Stage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED
        )
        await self.engine.wait_update(state, update, stage, poll_timeout(context, 20.0))
        inner = self._update_response(state, ref.update_id)
        response = wsv.PollWorkflowExecutionUpdateResponse(
            stage=inner.stage, update_ref=inner.update_ref
        )
        if inner.HasField("outcome"):
            response.outcome.CopyFrom(inner.outcome)
        return response

    @rpc
    async def ExecuteMultiOperation(
        self, request: wsv.ExecuteMultiOperationRequest, context: Any
    ) -> wsv.ExecuteMultiOperationResponse:
        operations = list(request.operations)
        if (
            len(operations) != 2
            or not operations[0].HasField("start_workflow")
            or not operations[1].HasField("update_workflow")
        ):
            raise InvalidArgument("operations must be [start_workflow, update_workflow].")
        start_req = operations[0].start_workflow
        update_req = operations[1].update_workflow
        if start_req.workflow_id != update_req.workflow_execution.workflow_id:
            raise InvalidArgument("operations[1].workflow_execution.workflow_id must match.")
        try:
            start_response = self._start(start_req)
        except ServiceError as exc:
            raise _multi_operation_failure(exc, failed_index=0) from None
        state = self.engine.runs[(start_req.namespace, start_response.run_id)]
        try:
            update_response = await self._update(update_req, context, state)
        except ServiceError as exc:
            raise _multi_operation_failure(exc, failed_index=1) from None
        return wsv.ExecuteMultiOperationResponse(
            responses=[
                wsv.ExecuteMultiOperationResponse.Response(start_workflow=start_response),
                wsv.ExecuteMultiOperationResponse.Response(update_workflow=update_response),
            ]
        )

    # ---- visibility ------------------------------------------------------------------------

    @rpc
    async def ListWorkflowExecutions(
        self, request: wsv.ListWorkflowExecutionsRequest, context: Any
    ) -> wsv.ListWorkflowExecutionsResponse:
        return self.visibility.list(
            request.namespace, request.query, request.page_size, request.next_page_token
        )

    @rpc
    async def ScanWorkflowExecutions(
        self, request: wsv.ScanWorkflowExecutionsRequest, context: Any
    ) -> wsv.ScanWorkflowExecutionsResponse:
        listed = self.visibility.list(
            request.namespace, request.query, request.page_size, request.next_page_token
        )
        return wsv.ScanWorkflowExecutionsResponse(
            executions=listed.executions, next_page_token=listed.next_page_token
        )

    @rpc
    async def CountWorkflowExecutions(
        self, request: wsv.CountWorkflowExecutionsRequest, context: Any
    ) -> wsv.CountWorkflowExecutionsResponse:
        return self.visibility.count(request.namespace, request.query)

    @rpc
    async def DescribeTaskQueue(
        self, request: wsv.DescribeTaskQueueRequest, context: Any
    ) -> wsv.DescribeTaskQueueResponse:
        self.engine.namespaces.get(request.namespace)
        return wsv.DescribeTaskQueueResponse()


def _event_token(token: bytes) -> int:
    if not token:
        return 1
    try:
        return max(int(token.decode()), 1)
    except ValueError as exc:
        raise InvalidArgument("next_page_token is malformed.") from exc


class _MultiOperationError(ServiceError):
    pass


def _multi_operation_failure(exc: ServiceError, failed_index: int) -> ServiceError:
    """Wrap one operation's error as Temporal does: the other operation is reported aborted."""
    statuses = []
    for index in range(2):
        status = errordetails.MultiOperationExecutionFailure.OperationStatus()
        if index == failed_index:
            status.code = exc.code.value[0]
            status.message = exc.message
            if exc.detail is not None:
                packed = any_pb2.Any()
                packed.Pack(exc.detail)
                status.details.append(packed)
        else:
            status.code = grpc.StatusCode.ABORTED.value[0]
            status.message = "Operation was aborted."
            aborted = any_pb2.Any()
            aborted.Pack(failure_pb.MultiOperationExecutionAborted())
            status.details.append(aborted)
        statuses.append(status)
    error = _MultiOperationError(
        f"Update-with-start could not be executed: {exc.message}",
        errordetails.MultiOperationExecutionFailure(statuses=statuses),
    )
    error.code = exc.code
    return error
